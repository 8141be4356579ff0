"""The server goes away and comes back: the stream reconnects and what was created meanwhile
(while the device was not listening) still opens."""

from __future__ import annotations

import asyncio

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.keystore import save_key
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.widgets.accounts_table import describe_connection, problem_lines
from pushauth_server.protocol import generate_private_key
from tests.conftest import StartServer
from tests.device.conftest import RelyingParty, fresh_user, wait_until
from tests.device.tui.helpers import type_text, wait_closed, wait_connected, wait_for_request


async def test_request_made_while_offline_shows_after_reconnect(
    start_server: StartServer, store: AccountStore
) -> None:
    server = start_server()
    rp = RelyingParty(server)
    user = fresh_user("restart")
    account = await rp.enroll(store, user)
    # A long backoff, so nothing reconnects on its own: the test says when, with "r".
    app = AuthenticatorApp(store, reconnect_delay=lambda attempt: 3600.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot, app)
        assert server.process is not None
        server.process.kill()  # a crash: no goodbye on the stream
        await asyncio.to_thread(server.stop)
        await wait_until(
            pilot,
            lambda: app.states[account.credential_id].kind == "reconnecting",
            "the stream to notice the server is gone",
        )
        state = app.states[account.credential_id]
        assert "retry 1 in" in describe_connection(state, now_ms=app.clock()).plain
        [problem] = problem_lines(app.accounts, app.states, tz=None)
        assert "reconnecting (retry 1 at" in problem.plain

        await asyncio.to_thread(server.start)
        created = await rp.create(user, note="made while the device was offline")
        await pilot.press("r")  # reconnect now
        await wait_for_request(pilot, app, created.challenge_id)
        assert app.states[account.credential_id].kind == "connected"
        await type_text(pilot, created.verification_code)
        await pilot.press("enter")
        await wait_closed(pilot, app, created.challenge_id)

    assert (await rp.get(created.challenge_id)).status == "approved"


async def test_server_down_at_start_is_a_state_not_a_crash(store: AccountStore) -> None:
    account = Account(
        credential_id="cr_offline",
        user_id="olga",
        server_url="http://127.0.0.1:9",
        origin="http://127.0.0.1:9",
        device_name="phone",
        created_at_ms=0,
    )
    store.add(account)
    save_key(account.credential_id, generate_private_key())
    app = AuthenticatorApp(store, reconnect_delay=lambda attempt: 3600.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                app.states.get("cr_offline") is not None
                and app.states["cr_offline"].kind == "reconnecting"
            ),
            "reconnecting",
        )
        assert "Cannot reach the pushauth server" in app.states["cr_offline"].detail
        assert app.return_code is None
