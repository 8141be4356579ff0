"""What an application may reach once its scope is checked: its users and its challenges.

* A user-restricted app (``users``) acts only for those users: a request naming another user is
  ``403 user_not_allowed`` before anything is read, so the answer says nothing about whether that
  user exists. Lists (users, devices) show a restricted app only its users; an object reached by
  its own id (a device) that belongs to another user is answered like an unknown id.
* A challenge is seen (read, waited on, streamed, cancelled) by the app that created it, and by an
  app holding ``admin`` for that challenge's user (the operator sees every challenge). Any other
  app gets the same ``404`` as for an unknown id.
* Managing applications needs ``admin`` *without* a user restriction: a restricted admin could
  otherwise create itself an unrestricted app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from pushauth_server import errors
from pushauth_server.domain.apps.models import AppIdentity, Scope
from pushauth_server.domain.apps.restriction import allows

T = TypeVar("T")


def user_not_allowed(app: AppIdentity) -> errors.UserNotAllowed:
    return errors.UserNotAllowed(
        f"Application {app.name!r} is restricted to other users; it cannot act for this one.",
        app=app.name,
    )


def check_user(app: AppIdentity, user_id: str) -> None:
    """Refuse ``user_id`` when ``app`` is restricted to other users (stops a CI-gate key from
    pushing to, enrolling or administering anyone outside its pattern)."""
    if not allows(app.users, user_id):
        raise user_not_allowed(app)


def visible(app: AppIdentity, items: Iterable[T], user_of: Callable[[T], str]) -> list[T]:
    """The items of a list whose user ``app`` may act for."""
    if app.users is None:
        return list(items)
    return [item for item in items if allows(app.users, user_of(item))]


def may_see_challenge(app: AppIdentity, *, owner_app_id: str | None, user_id: str) -> bool:
    """Whether ``app`` may read, wait on, stream or cancel a challenge (see the module doc)."""
    if owner_app_id == app.app_id and allows(app.users, user_id):
        return True
    return Scope.ADMIN in app.scopes and allows(app.users, user_id)


def check_unrestricted(app: AppIdentity) -> None:
    """Application management is for an unrestricted admin (no privilege escalation)."""
    if app.users is not None:
        raise errors.UserNotAllowed(
            f"Application {app.name!r} is restricted to some users; managing applications needs "
            "an admin application without a user restriction.",
            app=app.name,
        )


__all__ = ["check_unrestricted", "check_user", "may_see_challenge", "user_not_allowed", "visible"]
