"""What a person sees, pinned: the enrollment, home and request screens with fixed data.

Each snapshot was rendered to PNG and looked at before it was accepted (see docs/device.md for
how to do that when one changes).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.history import DecisionLog, DecisionRecord
from pushauth_device.tui.messages import ChallengeArrived
from pushauth_device.tui.state import ConnectionState
from pushauth_server.client import PendingChallenge
from tests.device.tui.helpers import request_shown

NOW = 1_767_182_400_000  # 2025-12-31 12:00:00 UTC
SIZE = (110, 36)

ALICE = Account(
    credential_id="cr_alice",
    user_id="alice",
    server_url="https://auth.example.com",
    origin="https://auth.example.com",
    device_name="alice-laptop",
    created_at_ms=NOW - 86_400_000,
)
BOB = Account(
    credential_id="cr_bob",
    user_id="bob@example.org",
    server_url="https://push.example.org",
    origin="https://push.example.org",
    device_name="alice-laptop",
    created_at_ms=NOW - 86_400_000,
    require_pin=True,
)
OPS = Account(
    credential_id="cr_ops",
    user_id="ops",
    server_url="http://10.0.0.5:8300",
    origin="http://10.0.0.5:8300",
    device_name="alice-laptop",
    created_at_ms=NOW - 86_400_000,
)
STATES = {
    "cr_alice": ConnectionState(kind="connected"),
    "cr_ops": ConnectionState(
        kind="reconnecting",
        next_attempt_ms=NOW + 4_000,
        attempt=3,
        detail="Cannot reach the pushauth server",
    ),
    "cr_bob": ConnectionState(kind="locked", detail="press u to unlock"),
}
DECISIONS = [
    DecisionRecord(
        at_ms=NOW - 60_000,
        outcome="approved",
        user_id="alice",
        server_url=ALICE.server_url,
        action="signIn",
        context="VPN login · vpn.example.com · 203.0.113.7",
    ),
    DecisionRecord(
        at_ms=NOW - 3_600_000,
        outcome="reported",
        user_id="alice",
        server_url=ALICE.server_url,
        action="signIn",
        context="unknown.example.net · 198.51.100.23",
    ),
    DecisionRecord(
        at_ms=NOW - 7_200_000,
        outcome="expired",
        user_id="bob@example.org",
        server_url=BOB.server_url,
        action="deploy",
        context="deploy prod",
    ),
]
CHALLENGE = PendingChallenge(
    challenge_id="ch_snapshot",
    user_id="alice",
    action="signIn",
    note="Sign in to the VPN",
    initiator_host="vpn.example.com",
    initiator_ip="203.0.113.7",
    initiator_user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
    custom={"ticket": "OPS-4211", "location": "Berlin, DE"},
    nonce="n",
    number_matching=True,
    code_digits=6,
    created_at_ms=NOW - 8_000,
    expires_at_ms=NOW + 112_000,
)


def fixed_app(tmp_path: Path, accounts: list[Account]) -> AuthenticatorApp:
    store = AccountStore(tmp_path / "phone")
    for account in accounts:
        store.add(account)
    return AuthenticatorApp(
        store,
        clock=lambda: NOW,
        tz=UTC,
        decisions=DecisionLog(None, DECISIONS if accounts else []),
        states=STATES,
        connect=False,
        device_name="alice-laptop",
    )


def test_enrollment_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(fixed_app(tmp_path, []), terminal_size=SIZE)


def test_home_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB, OPS]), terminal_size=SIZE)


def test_request_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = fixed_app(tmp_path, [ALICE, BOB])

    async def arrive(pilot: Pilot[Any]) -> None:
        app.post_message(ChallengeArrived(ALICE, CHALLENGE))
        for _ in range(100):
            if request_shown(app, CHALLENGE.challenge_id):
                break
            await pilot.pause()
        await pilot.press("4", "2")  # half the number typed: Approve stays off

    assert snap_compare(app, terminal_size=SIZE, run_before=arrive)
