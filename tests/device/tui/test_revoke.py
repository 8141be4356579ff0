"""Revoking an account from the app: asks first, then the server revokes it and the key is gone."""

from __future__ import annotations

from pushauth_device.accounts import AccountStore
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.confirm import ConfirmScreen
from pushauth_server.client import PushAuthClient, calls
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import wait_connected
from tests.support.processes import API_KEY


async def _state(rp: RelyingParty, user: str) -> str:
    async with PushAuthClient(rp.server.url, api_key=API_KEY) as client:
        [device] = await client.call(calls.list_devices(user))
    return device.state


async def test_revoke_asks_then_revokes_on_the_server(
    rp: RelyingParty, store: AccountStore
) -> None:
    user = fresh_user("revoke")
    account = await rp.enroll(store, user)
    app = AuthenticatorApp(store)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.press("escape")  # cancelled: nothing happens
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "dialog closed")
        assert store.load() == [account]
        assert await _state(rp, user) == "active"

        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.click("#yes")
        await wait_until(pilot, lambda: store.load() == [], "account removed")
    assert await _state(rp, user) == "revoked"
