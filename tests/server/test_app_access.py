"""The pure rules of domain/apps: user patterns, who sees a challenge, key shapes, names, and the
bounded read folder. No server."""

from __future__ import annotations

import pytest

from pushauth_server import errors
from pushauth_server.domain.apps.access import (
    check_unrestricted,
    check_user,
    may_see_challenge,
    visible,
)
from pushauth_server.domain.apps.keys import looks_like_key, new_key
from pushauth_server.domain.apps.models import OPERATOR, AppIdentity, Scope
from pushauth_server.domain.apps.names import app_name_problem, user_entry_problem
from pushauth_server.domain.apps.restriction import allows
from pushauth_server.domain.audit import reads
from pushauth_server.domain.audit.records import AuditEvent


def app(*scopes: Scope, users: tuple[str, ...] | None = None, app_id: str = "app_a") -> AppIdentity:
    return AppIdentity(
        app_id=app_id, name=app_id, display_name=app_id, scopes=frozenset(scopes), users=users
    )


@pytest.mark.parametrize(
    ("users", "user_id", "allowed"),
    [
        (None, "anyone", True),
        (("alice",), "alice", True),
        (("alice",), "alice2", False),
        (("deploy-*",), "deploy-web", True),
        (("deploy-*",), "deploy-", True),
        (("deploy-*",), "xdeploy-web", False),  # a pattern matches the whole id
        (("*-ci",), "web-ci", True),
        (("a?c",), "abc", False),  # only * is special
        (("[ab]",), "a", False),
        (("bob", "deploy-*"), "bob", True),
    ],
)
def test_user_patterns(users: tuple[str, ...] | None, user_id: str, allowed: bool) -> None:
    assert allows(users, user_id) is allowed


def test_a_restricted_app_is_refused_other_users_and_sees_only_its_own() -> None:
    ci = app(Scope.CHALLENGES, users=("deploy-*",))
    check_user(ci, "deploy-api")
    with pytest.raises(errors.UserNotAllowed) as refused:
        check_user(ci, "alice")
    assert "alice" not in refused.value.message  # says nothing about that user
    assert visible(ci, ["alice", "deploy-api", "bob"], lambda u: u) == ["deploy-api"]
    with pytest.raises(errors.UserNotAllowed):
        check_unrestricted(ci)
    check_unrestricted(OPERATOR)


def test_who_sees_a_challenge() -> None:
    owner = app(Scope.CHALLENGES, app_id="app_owner")
    other = app(Scope.CHALLENGES, app_id="app_other")
    admin = app(Scope.CHALLENGES, Scope.ADMIN, app_id="app_admin")
    narrow_admin = app(Scope.CHALLENGES, Scope.ADMIN, users=("bob",), app_id="app_narrow")
    seen = {"owner_app_id": "app_owner", "user_id": "alice"}
    assert may_see_challenge(owner, **seen)
    assert not may_see_challenge(other, **seen)
    assert may_see_challenge(admin, **seen)
    assert not may_see_challenge(narrow_admin, **seen)
    assert may_see_challenge(OPERATOR, **seen)
    assert may_see_challenge(OPERATOR, owner_app_id=None, user_id="alice")  # before apps
    assert not may_see_challenge(other, owner_app_id=None, user_id="alice")


def test_key_shapes() -> None:
    key = new_key()
    assert key.startswith("pak_")
    assert len(key) == 4 + 43  # 256 bits, base64url without padding
    assert looks_like_key(key)
    assert key != new_key()
    for bad in ("", "pak_", key[:-1], key + "A", "PAK_" + key[4:], key[:-1] + "!", "x" * 300):
        assert not looks_like_key(bad)


def test_names() -> None:
    assert app_name_problem("web-shop_2") is None
    for bad in ("", "Web", "2web", "web shop", "w" * 41, "wéb", "web\n"):
        assert app_name_problem(bad) is not None
    assert user_entry_problem("deploy-*") is None
    assert user_entry_problem("*") is None
    for bad in ("", "a b", ".x", "x" * 129, "é"):
        assert user_entry_problem(bad) is not None


def test_the_read_folder_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reads, "MAX_KEYS", 3)
    folder = reads.ReadFolder()
    for n in range(10):
        folder.note(AuditEvent.CHALLENGE_READ, OPERATOR, challenge_id=f"ch_{n}", user_id="u")
    assert len(folder) <= 3 + 1  # past the bound: one catch-all row for the app
    rows = folder.take()
    assert sum(row.detail["count"] for row in rows if row.detail) == 10  # nothing lost
    [catch_all] = [row for row in rows if row.challenge_id is None]
    assert catch_all.detail is not None
    assert catch_all.detail["count"] == 7
    assert len(folder) == 0
