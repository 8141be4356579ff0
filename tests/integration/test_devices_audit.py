"""Device revocation, and the audit trail: every event written, verifiable, append-only."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pushauth_server.client import CredentialRevoked, calls
from tests.integration.helpers import (
    api_device,
    audit_events,
    challenge,
    enroll_device,
    rp_client,
    signin_no_wait,
)
from tests.support.processes import Commands


def test_revoke_asks_for_confirmation(commands: Commands, tmp_path: Path) -> None:
    credential_id = enroll_device(commands, tmp_path / "phone", "vera")
    answered_no = subprocess.run(
        [sys.executable, "-m", "pushauth_cli", "revoke", credential_id],
        input="n\n",
        capture_output=True,
        text=True,
        cwd=commands.server.workdir,
        env=commands.env(),
        timeout=60,
    )
    assert answered_no.returncode == 7  # nothing done: not "denied"
    assert "vera's device" in answered_no.stderr  # the prompt names the user and the device
    assert "test-device" in answered_no.stderr
    devices = json.loads(commands.pushauth("devices", "vera", "--json").stdout)["devices"]
    assert devices[0]["state"] == "active"
    assert commands.pushauth("revoke", credential_id, "--yes").returncode == 0


def test_devices_lists_name_enrolled_last_used_state(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "walt", name="walt-laptop")
    created = signin_no_wait(commands, "walt")
    commands.device(
        home, "approve", str(created["challenge_id"]), "--code", str(created["verification_code"])
    )
    [device] = json.loads(commands.pushauth("devices", "walt", "--json").stdout)["devices"]
    assert device["name"] == "walt-laptop"
    assert device["enrolled_at"]
    assert device["last_used_at"]
    assert device["state"] == "active"
    table = commands.pushauth("devices", "walt")  # COLUMNS=200: every column fits
    for column in ("name", "enrolled", "last used", "state"):
        assert column in table.stdout


def test_revocation_closes_the_stream(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "xena")
    watcher = commands.device_popen(home, "watch")
    assert watcher.stderr is not None
    for line in watcher.stderr:
        if line.startswith("Connected"):
            break
    assert commands.pushauth("revoke", credential_id, "--yes").returncode == 0
    _, err = watcher.communicate(timeout=30)  # the server closed the stream: watch ends
    assert watcher.returncode == 4
    assert "revoked" in err
    listed = commands.device(home, "pending")
    assert listed.returncode == 4


async def test_response_signed_before_revocation_is_refused(commands: Commands) -> None:
    device = await api_device(commands, "yuri")
    async with rp_client(commands) as rp, device:
        created = await rp.call(calls.create_challenge(user_id="yuri"))
        [pending] = await device.call(calls.pending_challenges())
        assert device.identity is not None
        body = device.identity.response_body(
            pending, decision="approve", verification_code=created.verification_code
        )
        await rp.call(calls.revoke_device(device.identity.credential_id))
        with pytest.raises(CredentialRevoked):
            await device.call(calls.respond(created.challenge_id, body))
        with pytest.raises(CredentialRevoked):
            await device.call(calls.pending_challenges())
    assert challenge(commands, created.challenge_id)["status"] == "pending"
    events = [e["event"] for e in audit_events(commands, "yuri")]
    assert events.count("security.revoked_device_used") == 2


async def test_audit_rows_for_each_event_and_verify_detects_tampering(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "zoe")
    approved = signin_no_wait(commands, "zoe")
    commands.device(
        home, "approve", str(approved["challenge_id"]), "--code", str(approved["verification_code"])
    )
    denied = signin_no_wait(commands, "zoe")
    commands.device(home, "deny", str(denied["challenge_id"]))
    cancelled = signin_no_wait(commands, "zoe")
    commands.pushauth("signin", "zoe", "--no-wait")  # refused: one is pending
    async with rp_client(commands) as rp:
        await rp.call(calls.cancel_challenge(str(cancelled["challenge_id"])))
    assert commands.pushauth("signin", "zoe", "--api-key", "pak_wrong").returncode == 5

    # A device signature that does not verify is rejected and audited.
    device = await api_device(commands, "zoe-api")
    async with device, rp_client(commands) as rp:
        created = await rp.call(calls.create_challenge(user_id="zoe-api"))
        [pending] = await device.call(calls.pending_challenges())
        assert device.identity is not None
        body = device.identity.response_body(pending, decision="deny")
        body["decision"] = "approve"  # altered in transit
        with pytest.raises(Exception, match="does not verify"):
            await device.call(calls.respond(created.challenge_id, body))

    events = {e["event"] for e in audit_events(commands)}
    for expected in (
        "enrollment.token_issued",
        "device.enrolled",
        "challenge.created",
        "challenge.approved",
        "challenge.denied",
        "challenge.cancelled",
        "challenge.refused",
        "security.invalid_api_key",
        "security.invalid_signature",
    ):
        assert expected in events, expected
    [approval] = [e for e in audit_events(commands, "zoe") if e["event"] == "challenge.approved"]
    assert approval["receipt"]["decision"] == "approve"
    assert approval["receipt"]["signature"]
    assert approval["context"]["initiator_host"]

    verified = commands.pushauth("audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["valid"] is True

    db = commands.server.workdir / "pushauth.db"
    with sqlite3.connect(db) as connection:
        # The database itself refuses to change the audit trail...
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("UPDATE audit_events SET event = 'x'")
        # ...so a tamperer must drop the trigger first; verify still catches the rewrite.
        connection.execute("DROP TRIGGER audit_events_no_update")
        receipt = json.loads(
            connection.execute(
                "SELECT receipt_json FROM audit_events WHERE event = 'challenge.denied'"
            ).fetchone()[0]
        )
        receipt["decision"] = "approve"
        connection.execute(
            "UPDATE audit_events SET event = 'challenge.approved', receipt_json = ? "
            "WHERE event = 'challenge.denied'",
            (json.dumps(receipt),),
        )
    tampered = commands.pushauth("audit", "verify", "--json")
    assert tampered.returncode == 8
    problems = json.loads(tampered.stdout)["problems"]
    assert any(p["challenge_id"] == denied["challenge_id"] for p in problems)


def test_audit_follow_streams_live(commands: Commands) -> None:
    follower = commands.pushauth_popen("audit", "--follow", "--json")
    try:
        assert follower.stderr is not None
        assert follower.stdout is not None
        for line in follower.stderr:
            if "Following" in line:
                break
        assert commands.pushauth("enroll", "amy").returncode == 0
        event = json.loads(follower.stdout.readline())
        assert event["event"] == "enrollment.token_issued"
        assert event["user_id"] == "amy"
    finally:
        follower.terminate()
        follower.communicate(timeout=10)


async def test_replays_are_refused_and_audited(commands: Commands) -> None:
    import httpx

    from pushauth_server.client import ChallengeNotPending

    device = await api_device(commands, "rex")
    async with device, rp_client(commands) as rp:
        created = await rp.call(calls.create_challenge(user_id="rex"))
        [pending] = await device.call(calls.pending_challenges())
        assert device.identity is not None
        body = device.identity.response_body(pending, decision="deny")
        await device.call(calls.respond(created.challenge_id, body))
        with pytest.raises(ChallengeNotPending):
            await device.call(calls.respond(created.challenge_id, body))
        # A captured request proof, presented a second time, is refused too.
        headers = device.identity.proof_headers("GET", "/v1/device/challenges")
        url = f"{commands.server.url}/v1/device/challenges"
        async with httpx.AsyncClient() as http:
            assert (await http.get(url, headers=headers)).status_code == 200
            replayed = await http.get(url, headers=headers)
        assert replayed.status_code == 401
        assert replayed.json()["error"]["code"] == "replayed_proof"
    assert challenge(commands, created.challenge_id)["status"] == "denied"
    events = [e["event"] for e in audit_events(commands, "rex")]
    assert "security.replayed_response" in events
    assert "security.replayed_proof" in events


def test_a_device_can_revoke_itself(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "dora")
    revoked = commands.device(home, "revoke", "--yes")
    assert revoked.returncode == 0, revoked.stderr
    [device] = json.loads(commands.pushauth("devices", "dora", "--json").stdout)["devices"]
    assert device["state"] == "revoked"
    assert json.loads(commands.device(home, "accounts", "--json").stdout) == []
    [event] = [e for e in audit_events(commands, "dora") if e["event"] == "device.revoked"]
    assert event["credential_id"] == credential_id
    assert event["detail"]["by"] == "device"


def test_audit_lists_everything_past_one_page(commands: Commands) -> None:
    commands.pushauth("enroll", "page")  # the server has created its tables
    db = commands.server.workdir / "pushauth.db"
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO audit_events (at_ms, event, user_id) VALUES (?, ?, ?)",
            [(i, "enrollment.token_issued", "page") for i in range(2500)],
        )
    events = audit_events(commands, "page")
    assert len(events) == 2501
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids)
