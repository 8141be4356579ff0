"""Enrollment through the screen: paste the whole ``pushauth-device enroll …`` line."""

from __future__ import annotations

import keyring
from textual import events
from textual.widgets import Input

from pushauth_device.accounts import AccountStore
from pushauth_device.keystore import SERVICE
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.enroll import EnrollScreen
from pushauth_device.tui.screens.home import HomeScreen
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import wait_connected


async def test_first_run_enrolls_from_the_pasted_command(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("enroll")
    token = await rp.token(user)
    app = AuthenticatorApp(store, device_name="laptop")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollScreen), "enrollment")
        await pilot.click("#token")
        token_input = app.screen.query_one("#token", Input)
        line = f"  pushauth-device enroll --server {rp.server.url} --token {token}"
        token_input.post_message(events.Paste(line))
        await wait_until(pilot, lambda: token_input.value == token, "the token taken from the line")
        assert app.screen.query_one("#server", Input).value == rp.server.url
        await pilot.click("#enroll")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home")
        await wait_connected(pilot, app)

    [account] = store.load()
    assert (account.user_id, account.device_name, account.require_pin) == (user, "laptop", False)
    assert keyring.get_password(SERVICE, account.credential_id)


async def test_a_used_token_is_a_message_not_a_traceback(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("reuse")
    token = await rp.token(user)
    await rp.enroll_with_token(AccountStore(store.home.parent / "other"), token)
    app = AuthenticatorApp(store, device_name="laptop")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollScreen), "enrollment")
        app.screen.query_one("#server", Input).value = rp.server.url
        app.screen.query_one("#token", Input).value = token
        await pilot.click("#enroll")
        error = app.screen.query_one("#enroll-error")
        await wait_until(pilot, lambda: "said no" in str(error.render()), "the refusal")
        assert isinstance(app.screen, EnrollScreen)
    assert store.load() == []
