"""Enrollment through the screen: paste the whole ``pushauth-device enroll …`` line."""

from __future__ import annotations

import keyring
from textual import events
from textual.keys import _character_to_key
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


async def test_a_line_typed_as_fast_keystrokes_is_not_scrambled(
    rp: RelyingParty, store: AccountStore
) -> None:
    """A terminal without bracketed paste sends a pasted line as keystrokes, back to back; the
    field must hold exactly what arrived, and the line is read once, when the form is sent."""
    user = fresh_user("typed")
    token = await rp.token(user)
    app = AuthenticatorApp(store, device_name="laptop")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollScreen), "enrollment")
        await pilot.click("#token")
        token_input = app.screen.query_one("#token", Input)
        line = f"pushauth-device enroll --server {rp.server.url} --token {token}"
        # A burst: every key is queued before the first is handled, as when a terminal sends a
        # paste faster than the app reads it (Pilot.press would wait after each key).
        for character in line:
            app.post_message(events.Key(_character_to_key(character), character))
        await wait_until(pilot, lambda: len(token_input.value) >= len(line), "all keys")
        assert token_input.value == line  # nothing rewritten under the cursor while typing
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home")
        await wait_connected(pilot, app)

    [account] = store.load()
    assert account.user_id == user
    assert account.server_url == rp.server.url


async def test_leaving_the_token_field_reads_the_line(
    rp: RelyingParty, store: AccountStore
) -> None:
    app = AuthenticatorApp(store, device_name="laptop")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollScreen), "enrollment")
        await pilot.click("#token")
        await pilot.press(*"pushauth-device enroll --server http://10.1.2.3:8300 --token pet_abc")
        await pilot.press("tab")
        token_input = app.screen.query_one("#token", Input)
        server_input = app.screen.query_one("#server", Input)
        await wait_until(pilot, lambda: server_input.value == "http://10.1.2.3:8300", "server")
        assert token_input.value == "pet_abc"
