"""A request this device did not answer closes saying what happened: cancelled by the
application, replaced by a newer one, answered on another device, or expired."""

from __future__ import annotations

import pytest

from pushauth_device import service
from pushauth_device.accounts import AccountStore
from pushauth_device.tui.answers import settled_elsewhere
from pushauth_device.tui.app import AuthenticatorApp
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import wait_closed, wait_connected, wait_for_request


async def test_cancelled_by_the_application(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("cancel")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await rp.cancel(created.challenge_id)
        await wait_closed(pilot, app, created.challenge_id)
        assert (
            app.last_notice
            == f"The request for {user} was cancelled by the application that asked."
        )
        assert app.decisions.records[0].outcome == "cancelled"


async def test_a_newer_request_replaces_the_one_on_screen(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("replace")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        first = await rp.create(user)
        await wait_for_request(pilot, app, first.challenge_id)
        second = await rp.create(user, replace_pending=True)
        await wait_until(
            pilot, lambda: first.challenge_id not in app.requests, "the first request to close"
        )
        # The server's resolved event carries replaced_by: the notice names the newer request.
        newer = second.challenge_id
        expected = f"The request for {user} was replaced by a newer request ({newer})."
        assert app.last_notice == expected
        assert app.decisions.records[0].outcome == "replaced"
        await wait_for_request(pilot, app, second.challenge_id)


async def test_approved_on_another_device(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("elsewhere")
    await rp.enroll(store, user)
    other_phone = AccountStore(store.home.parent / "other-phone")
    other = await rp.enroll(other_phone, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        found = await service.find_pending([other], created.challenge_id)
        assert found.found is not None
        await service.answer(
            other,
            found.found[1],
            decision="approve",
            verification_code=created.verification_code,
        )
        await wait_closed(pilot, app, created.challenge_id)
        assert app.last_notice == f"The request for {user} was approved on another device."
        assert app.decisions.records[0].outcome == "approved elsewhere"


@pytest.mark.parametrize(
    ("status", "reason", "replaced_by", "outcome", "words"),
    [
        ("expired", None, None, "expired", "expired before it was answered"),
        ("cancelled", None, None, "cancelled", "cancelled by the application"),
        ("cancelled", None, "ch_new", "replaced", "replaced by a newer request (ch_new)"),
        ("approved", None, None, "approved elsewhere", "approved on another device"),
        ("denied", "user_denied", None, "denied elsewhere", "denied on another device"),
        ("denied", "not_me", None, "denied elsewhere", "reported as not them"),
        ("denied", "wrong_code", None, "failed elsewhere", "a wrong number was typed"),
    ],
)
def test_each_ending_has_its_words(
    status: str, reason: str | None, replaced_by: str | None, outcome: str, words: str
) -> None:
    recorded, text = settled_elsewhere("alice", status, reason, replaced_by)
    assert recorded == outcome
    assert words in text
    assert "resolved elsewhere" not in text
