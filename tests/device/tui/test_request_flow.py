"""A request arrives over the stream, opens by itself, and is answered from the keyboard.

The outcome is checked where the relying party sees it: ``pushauth wait``'s exit code, or the
challenge's state on the server.
"""

from __future__ import annotations

import asyncio
import json

from textual.widgets import Button, Static

from pushauth_device.accounts import AccountStore
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.home import HomeScreen
from pushauth_device.tui.screens.request import RequestScreen
from pushauth_device.tui.widgets.challenge_details import ChallengeDetails
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import (
    type_text,
    wait_closed,
    wait_connected,
    wait_for_request,
)
from tests.support.processes import Commands


def pushauth_wait(rp: RelyingParty, challenge_id: str) -> tuple[int, dict[str, object]]:
    done = Commands(server=rp.server, env_extra={}).pushauth("wait", challenge_id, "--json")
    return done.returncode, json.loads(done.stdout)


async def test_typed_number_and_enter_approve(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("approve")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(
            user,
            note="VPN login",
            initiator_host="vpn.example.com",
            initiator_ip="203.0.113.7",
            initiator_user_agent="Firefox/130",
            custom={"ticket": "OPS-42"},
        )
        await wait_for_request(pilot, app, created.challenge_id)
        screen = app.screen
        assert isinstance(screen, RequestScreen)
        # Which application asks, first: the server's name for it, signed with the rest.
        title = screen.query_one("#request-title", Static).render()
        assert str(title) == "Sign-in request from Operator"
        shown = " ".join(value for _, value in screen.query_one(ChallengeDetails).rows)
        for text in (user, "signIn", "VPN login", "vpn.example.com", "203.0.113.7", "OPS-42"):
            assert text in shown
        assert created.verification_code not in shown  # the device never learns the number

        await pilot.press("enter")  # nothing typed: Enter alone never approves
        await pilot.pause()
        assert not app.answers.is_sending(created.challenge_id)
        await type_text(pilot, created.verification_code)
        await pilot.press("enter")
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "approved"

    code, result = await asyncio.to_thread(pushauth_wait, rp, created.challenge_id)
    assert code == 0
    assert result["status"] == "approved"


async def test_d_denies(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("deny")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await pilot.press("d")
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "denied"

    code, result = await asyncio.to_thread(pushauth_wait, rp, created.challenge_id)
    assert code == 1
    assert result["reason"] == "user_denied"


async def test_this_was_not_me_button_reports(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("notme")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await pilot.click("#not-me")  # the mouse works too: it asks first...
        button = app.screen.query_one("#not-me", Button)
        await wait_until(pilot, lambda: str(button.label).startswith("Yes"), "the question")
        assert created.challenge_id in app.requests
        # A button ignores a click while it still shows the previous one (Textual's -active).
        await wait_until(pilot, lambda: not button.has_class("-active"), "the button to settle")
        await pilot.click("#not-me")  # ...and the second click reports
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "reported"

    state = await rp.get(created.challenge_id)
    assert (state.status, state.reason) == ("denied", "not_me")


async def test_n_asks_first_and_says_the_user_is_then_locked(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("notmekey")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        screen = app.screen
        assert isinstance(screen, RequestScreen)

        await pilot.press("n")  # one key does not report...
        await pilot.pause()
        status = str(screen.query_one("#request-status").render())
        assert "locked" in status
        assert f"pushauth unlock {user}" in status
        assert "n again" in status
        assert not app.answers.is_sending(created.challenge_id)
        await pilot.press("escape")  # ...Esc steps back...
        await pilot.pause()
        assert str(screen.query_one("#request-status").render()) == ""
        await pilot.press("n")
        await pilot.pause()
        assert (await rp.get(created.challenge_id)).status == "pending"
        await pilot.press("n")  # ...and a second n reports
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "reported"
        assert f"{user} is now locked" in app.last_notice

    state = await rp.get(created.challenge_id)
    assert (state.status, state.reason) == ("denied", "not_me")


async def test_wrong_number_fails_the_sign_in(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("wrong")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user)
        right = created.verification_code
        wrong = str((int(right) + 1) % 10 ** len(right)).zfill(len(right))
        await wait_for_request(pilot, app, created.challenge_id)
        await type_text(pilot, wrong)
        await pilot.press("enter")
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "failed"

    state = await rp.get(created.challenge_id)
    assert (state.status, state.reason) == ("denied", "wrong_code")


async def test_expired_request_closes_with_a_message(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("expire")
    await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        created = await rp.create(user, expires_in_seconds=1.5)
        await wait_for_request(pilot, app, created.challenge_id)
        await wait_closed(pilot, app, created.challenge_id)
        assert app.decisions.records[0].outcome == "expired"
        assert "expired" in app.last_notice
        assert isinstance(app.screen, HomeScreen)
        assert app.return_code is None  # no error, the app keeps running


async def test_two_requests_queue_and_say_how_many_wait(
    rp: RelyingParty, store: AccountStore
) -> None:
    first_user, second_user = fresh_user("queue"), fresh_user("queue")
    await rp.enroll(store, first_user)
    await rp.enroll(store, second_user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app, count=2)
        first = await rp.create(first_user)
        await wait_for_request(pilot, app, first.challenge_id)
        second = await rp.create(second_user)
        await wait_until(pilot, lambda: len(app.requests) == 2, "the second request queued")
        waiting = app.screen.query_one("#waiting").render()
        assert "+1 more request waiting" in str(waiting)

        await pilot.press("d")
        await wait_for_request(pilot, app, second.challenge_id)
        await type_text(pilot, second.verification_code)
        await pilot.press("enter")
        await wait_closed(pilot, app, second.challenge_id)

    assert (await rp.get(first.challenge_id)).status == "denied"
    assert (await rp.get(second.challenge_id)).status == "approved"
