"""What a person sees, pinned: every screen, at 80x24 and at 120x40, with fixed data.

Each snapshot was rendered to PNG and looked at before it was accepted (see docs/device.md for
how to do that when one changes).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.tui.app import AuthenticatorApp
from pushauth_device.tui.history import DecisionLog, DecisionRecord
from pushauth_device.tui.messages import ChallengeArrived
from pushauth_device.tui.state import ConnectionState
from pushauth_server.client import PendingChallenge
from tests.device.tui.helpers import request_shown

NOW = 1_767_182_400_000  # 2025-12-31 12:00:00 UTC
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])

ALICE = Account(
    credential_id="cr_alice",
    user_id="alice",
    server_url="https://auth.example.com",
    origin="https://auth.example.com",
    device_name="alice-laptop",
    created_at_ms=NOW - 86_400_000,
    app_name="intranet",
    app_display_name="Acme Intranet",
)
BOB = Account(
    credential_id="cr_bob",
    user_id="bob@example.org",
    server_url="https://push.example.org",
    origin="https://push.example.org",
    device_name="alice-laptop",
    created_at_ms=NOW - 86_400_000,
    require_pin=True,
    app_name="operator",
    app_display_name="Operator",
)
OPS = Account(  # enrolled before servers named the application: a dash
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
        context="Acme VPN · VPN login · vpn.example.com · 203.0.113.7",
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
    shown={
        "application": "Acme VPN",
        "note": "Sign in to the VPN",
        "initiator_host": "vpn.example.com",
        "initiator_ip": "203.0.113.7",
        "initiator_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
    },
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


KEYRING_DOWN = (
    "The keyring could not be read (NoKeyringError: no keyring backend is available in this "
    "session). The app and the pushauth-device commands must use the same unlocked keyring, so "
    "run them in the same D-Bus session. On a desktop, unlock your login keyring. On a headless "
    "Linux box: `dbus-run-session -- bash`, then `echo -n PASSPHRASE | gnome-keyring-daemon "
    "--unlock --components=secrets` in that shell (see the README). Then press r to try again."
)
HOSTILE = PendingChallenge(
    challenge_id="ch_hostile",
    user_id="alice",
    action="signIn",
    shown={
        "application": "Acme Corporation single sign-on for payroll\u202eRH dna\u200b",
        "note": "Routine check\nApproved by IT: yes",
        "initiator_host": "login.example\u202emoc.live",
        "initiator_ip": "198.51.100.23",
        "initiator_user_agent": "curl/8.5\x1b[2J\u200b",
    },
    custom={"ticket\r": "OPS-1\u2028OPS-2"},
    nonce="n",
    number_matching=True,
    code_digits=6,
    created_at_ms=NOW - 8_000,
    expires_at_ms=NOW + 112_000,
)


async def show_request(pilot: Pilot[Any], challenge: PendingChallenge = CHALLENGE) -> None:
    app = pilot.app
    assert isinstance(app, AuthenticatorApp)
    app.post_message(ChallengeArrived(ALICE, challenge))
    for _ in range(100):
        if request_shown(app, challenge.challenge_id):
            break
        await pilot.pause()


@SIZES
def test_enrollment_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(tmp_path, []), terminal_size=size)


@SIZES
def test_enrollment_with_a_pin(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = fixed_app(tmp_path, [])

    async def tick(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app.screen.query_one("#require-pin", Checkbox).value = True
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=tick)


@SIZES
def test_enrollment_error_in_view(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = fixed_app(tmp_path, [])

    async def submit_empty(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app.screen.query_one("#require-pin", Checkbox).value = True
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=submit_empty)


@SIZES
def test_home_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB, OPS]), terminal_size=size)


@SIZES
def test_home_without_a_keyring(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = fixed_app(tmp_path, [ALICE, OPS])
    app.states = {
        "cr_alice": ConnectionState(kind="offline", detail=KEYRING_DOWN),
        "cr_ops": ConnectionState(kind="offline", detail=KEYRING_DOWN),
    }
    assert snap_compare(app, terminal_size=size)


@SIZES
def test_unlock_prompt(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB]), terminal_size=size, press=["u"])


@SIZES
def test_revoke_question(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB]), terminal_size=size, press=["x"])


@SIZES
def test_request_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def arrive(pilot: Pilot[Any]) -> None:
        await show_request(pilot)
        await pilot.press("4", "2")  # half the number typed: Approve stays off

    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB]), terminal_size=size, run_before=arrive)


@SIZES
def test_request_not_me_question(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def ask(pilot: Pilot[Any]) -> None:
        await show_request(pilot)
        await pilot.press("n")

    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB]), terminal_size=size, run_before=ask)


@SIZES
def test_request_with_hostile_text(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    async def arrive(pilot: Pilot[Any]) -> None:
        await show_request(pilot, HOSTILE)

    assert snap_compare(fixed_app(tmp_path, [ALICE, BOB]), terminal_size=size, run_before=arrive)


@SIZES
def test_pin_prompt_for_an_approval(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    pinned = Account(
        credential_id="cr_alice",
        user_id="alice",
        server_url=ALICE.server_url,
        origin=ALICE.origin,
        device_name=ALICE.device_name,
        created_at_ms=ALICE.created_at_ms,
        require_pin=True,
    )
    app = fixed_app(tmp_path, [pinned])

    async def approve(pilot: Pilot[Any]) -> None:
        app.post_message(ChallengeArrived(pinned, CHALLENGE))
        for _ in range(100):
            if request_shown(app, CHALLENGE.challenge_id):
                break
            await pilot.pause()
        await pilot.press(*"421337", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=approve)
