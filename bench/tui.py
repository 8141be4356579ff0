"""Challenge creation -> the device app's request screen on display (Textual Pilot, real server).

The app is driven headless with ``app.run_test()``, enrolled through
:func:`pushauth_device.service.enroll` with its key in an in-memory keyring (restored afterwards).
Each sample creates a challenge as a relying party and stamps the moment the app's active screen
is a mounted ``RequestScreen`` for that challenge, checked every millisecond. A second device of
the same user then approves it (so the server's push-bombing limits, which count challenges
without an approval, never trip), and the app leaves the screen before the next sample. If the
app is not installed (or not built yet), the measurement reports "not available" instead.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import keyring

from bench.devices import enroll as enroll_helper
from bench.stats import summary
from pushauth_server.client import ChallengeState, DeviceIdentity, PushAuthClient, calls
from tests.support.memory_keyring import MemoryKeyring

SCREEN_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.001


async def _until(condition: Any, timeout: float) -> float:
    """Seconds until ``condition()`` holds; raises TimeoutError after ``timeout``."""
    started = time.perf_counter()
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the app's screen stack has no event to await
            await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started


async def _approve(server_url: str, helper: DeviceIdentity, created: ChallengeState) -> None:
    """Approve ``created`` from the helper device, as the user would on their other phone."""
    async with PushAuthClient(server_url, identity=helper) as client:
        for challenge in await client.call(calls.pending_challenges()):
            if challenge.challenge_id == created.challenge_id:
                body = helper.response_body(
                    challenge, decision="approve", verification_code=created.verification_code
                )
                await client.call(calls.respond(challenge.challenge_id, body))


async def measure_tui(
    rp: PushAuthClient, server_url: str, *, samples: int, user_id: str = "bench-tui"
) -> dict[str, object]:
    try:
        from pushauth_device.accounts import AccountStore
        from pushauth_device.service import enroll
        from pushauth_device.tui.app import AuthenticatorApp
        from pushauth_device.tui.screens.request import RequestScreen
    except ImportError as exc:
        return {"status": "not available", "reason": f"{type(exc).__name__}: {exc}"}

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        with tempfile.TemporaryDirectory(prefix="pushauth-bench-tui-") as home:
            store = AccountStore(Path(home))
            origin = (await rp.call(calls.health())).origin
            helper = await enroll_helper(rp, origin=origin, user_id=user_id)
            token = await rp.call(calls.issue_enrollment_token(user_id))
            await enroll(store, server_url=server_url, token=token.token, device_name="bench-tui")
            app = AuthenticatorApp(store)
            timings: list[float] = []
            async with app.run_test(size=(120, 40)) as pilot:

                def showing(challenge_id: str) -> bool:
                    screen = app.screen
                    return (
                        isinstance(screen, RequestScreen)
                        and getattr(screen, "challenge_id", None) == challenge_id
                        and screen.is_mounted
                    )

                for index in range(samples + 1):  # the first one waits for the app to connect
                    started = time.perf_counter()
                    created = await rp.call(
                        calls.create_challenge(
                            user_id=user_id, context={"note": f"tui sample {index}"}
                        )
                    )
                    await _until(
                        lambda cid=created.challenge_id: showing(cid), SCREEN_TIMEOUT_SECONDS
                    )
                    if index:
                        timings.append((time.perf_counter() - started) * 1000)
                    await _approve(server_url, helper, created)
                    await _until(
                        lambda: not isinstance(app.screen, RequestScreen), SCREEN_TIMEOUT_SECONDS
                    )
                    await pilot.pause()
    except Exception as exc:  # a broken app is a finding to report, not a crash of the run
        return {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    finally:
        keyring.set_keyring(previous)
    return {"status": "ok", "samples": len(timings), "display_ms": summary(timings)}
