"""PIN accounts: the key is wrapped under the PIN; each approval asks for it; ten wrong PINs in a
row disable the key on this device."""

from __future__ import annotations

from typing import Any

import keyring
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from pushauth_device.accounts import AccountStore
from pushauth_device.keystore import MAX_WRONG_PINS, SERVICE
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.enroll import EnrollScreen
from pushauth_device.tui.screens.home import HomeScreen
from pushauth_device.tui.screens.pin import PinScreen
from pushauth_device.tui.screens.request import RequestScreen
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import type_text, wait_closed, wait_connected, wait_for_request

PIN = "482916"
WRONG = "111111"


async def enter_pin(pilot: Pilot[Any], app: AuthenticatorApp, pin: str) -> PinScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, PinScreen), "the PIN prompt")
    screen = app.screen
    assert isinstance(screen, PinScreen)
    await type_text(pilot, pin)
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is not screen, "the PIN prompt to close")
    return screen


async def test_enrolled_on_screen_then_right_pin_approves(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("pin")
    token = await rp.token(user)
    app = AuthenticatorApp(store, device_name="phone")
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollScreen), "enrollment")
        form = app.screen
        form.query_one("#server", Input).value = rp.server.url
        form.query_one("#token", Input).value = token
        form.query_one("#require-pin", Checkbox).value = True
        form.query_one("#new-pin", Input).value = PIN
        form.query_one("#new-pin-again", Input).value = PIN
        form.query_one("#new-pin-again", Input).focus()
        await pilot.press("enter")  # Enter in any field submits the form
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home")
        [account] = store.load()
        assert account.require_pin
        stored = keyring.get_password(SERVICE, account.credential_id)
        assert stored is not None
        assert stored.startswith("pin-v1:")
        assert app.states[account.credential_id].kind == "locked"

        await pilot.press("u")  # a PIN account listens once unlocked
        await enter_pin(pilot, app, PIN)
        await wait_connected(pilot, app)

        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await type_text(pilot, created.verification_code)
        await pilot.press("enter")
        await enter_pin(pilot, app, PIN)
        await wait_closed(pilot, app, created.challenge_id)

    assert (await rp.get(created.challenge_id)).status == "approved"


async def test_wrong_pin_does_not_approve(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("pinwrong")
    await rp.enroll(store, user, pin=PIN)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("u")
        await enter_pin(pilot, app, PIN)
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await type_text(pilot, created.verification_code)
        await pilot.press("enter")
        await enter_pin(pilot, app, WRONG)

        await wait_until(pilot, lambda: isinstance(app.screen, PinScreen), "the PIN asked again")
        error = str(app.screen.query_one("#pin-error").render())
        assert f"{MAX_WRONG_PINS - 1} attempts left" in error
        assert (await rp.get(created.challenge_id)).status == "pending"
        await pilot.press("escape")  # give up on approving...
        await wait_until(pilot, lambda: isinstance(app.screen, RequestScreen), "the request")
        await pilot.press("d")  # ...and say no: denying needs no PIN
        await wait_closed(pilot, app, created.challenge_id)

    assert (await rp.get(created.challenge_id)).status == "denied"


async def test_ten_wrong_pins_disable_the_key(rp: RelyingParty, store: AccountStore) -> None:
    user = fresh_user("pinlock")
    account = await rp.enroll(store, user, pin=PIN)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("u")
        await enter_pin(pilot, app, PIN)
        await wait_connected(pilot, app)
        created = await rp.create(user)
        await wait_for_request(pilot, app, created.challenge_id)
        await type_text(pilot, created.verification_code)
        await pilot.press("enter")
        for _ in range(MAX_WRONG_PINS):
            await enter_pin(pilot, app, WRONG)
        await wait_closed(pilot, app, created.challenge_id)
        assert "disabled" in app.last_notice
        assert app.states[account.credential_id].kind == "disabled"

    stored = keyring.get_password(SERVICE, account.credential_id)
    assert stored is not None
    assert stored.startswith("disabled:")
    assert (await rp.get(created.challenge_id)).status == "pending"  # nothing was signed
