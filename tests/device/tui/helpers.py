"""Steps the Pilot tests share: run the app, wait for a request or for it to close."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.screens.request import RequestScreen
from tests.device.conftest import wait_until


def request_shown(app: AuthenticatorApp, challenge_id: str) -> bool:
    screen = app.screen
    return (
        isinstance(screen, RequestScreen)
        and screen.challenge_id == challenge_id
        # Composed, not only pushed: nested containers mount their children a step later.
        and bool(screen.query("#request-status"))
        and bool(screen.query("#not-me"))
    )


async def wait_for_request(pilot: Pilot[Any], app: AuthenticatorApp, challenge_id: str) -> None:
    await wait_until(pilot, lambda: request_shown(app, challenge_id), f"request {challenge_id}")


async def wait_closed(pilot: Pilot[Any], app: AuthenticatorApp, challenge_id: str) -> None:
    await wait_until(
        pilot,
        lambda: challenge_id not in app.requests and app.request_screen() is None,
        f"request {challenge_id} to close",
    )


async def wait_connected(pilot: Pilot[Any], app: AuthenticatorApp, count: int = 1) -> None:
    def connected() -> bool:
        return sum(s.kind == "connected" for s in app.states.values()) >= count

    await wait_until(pilot, connected, f"{count} connected stream(s)")


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)
