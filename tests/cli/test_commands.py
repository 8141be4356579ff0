"""The `pushauth` commands against a real `pushauth serve`: what a person reads and copies.

Devices are enrolled through the client library (real Ed25519 keys held by the test), so these
tests need no keyring; the commands run as real processes with a fixed terminal width.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from pushauth_server.client import PushAuthClient, calls
from tests.integration.helpers import api_device, rp_client
from tests.support.processes import Commands, Server

# The server refuses C0 controls in names; the 8-bit CSI, bidi overrides, line separators and
# zero-width characters get through, and the CLI must not let a terminal interpret them.
EVIL_NAME = "evil\x9b2J\u202egnp.exe\u2028Approved by alice\u200b"
EVIL_SHOWN = "evil\\x9b2J\\u202egnp.exe\\u2028Approved by alice\\u200b"


@pytest.fixture
def cli(server: Server) -> Commands:
    return Commands(server=server, env_extra={})


def run(
    cli: Commands, *args: str, columns: int = 80, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**cli.env(), "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "pushauth_cli", *args],
        cwd=cli.server.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


async def approve(rp: PushAuthClient, device: PushAuthClient, user: str, **context: str) -> str:
    created = await rp.call(calls.create_challenge(user_id=user, context=context))
    [pending] = [
        p
        for p in await device.call(calls.pending_challenges())
        if p.challenge_id == created.challenge_id
    ]
    assert device.identity is not None
    body = device.identity.response_body(
        pending, decision="approve", verification_code=created.verification_code
    )
    await device.call(calls.respond(created.challenge_id, body))
    return created.challenge_id


def assert_no_raw_controls(*texts: str) -> None:
    for text in texts:
        for char in ("\x9b", "\u202e", "\u2028", "\u200b"):
            assert char not in text, repr(text)


@pytest.mark.parametrize("columns", [80, 120])
async def test_tables_go_to_stdout_with_every_id_whole(cli: Commands, columns: int) -> None:
    device = await api_device(cli, "alice-long.name@example.com", name="Alice's work laptop")
    async with rp_client(cli) as rp, device:
        challenge_id = await approve(rp, device, "alice-long.name@example.com", note="VPN login")
    assert device.identity is not None
    credential_id = device.identity.credential_id

    for args in (["devices"], ["devices", "alice-long.name@example.com"], ["users"], ["audit"]):
        result = run(cli, *args, columns=columns)
        assert result.returncode == 0, result.stderr
        assert "…" not in result.stdout
        if "user" in result.stderr:  # left out at this width, and said so
            assert (columns, args) == (80, ["audit"]), result.stderr
        else:
            assert "alice-long.name@example.com" in result.stdout
        if args[0] == "devices":
            assert credential_id in result.stdout
        if args[0] == "audit":
            assert challenge_id in result.stdout
            assert credential_id in result.stdout
        assert "Traceback" not in result.stderr
        for line in result.stdout.splitlines():
            assert len(line) <= columns, line


def _as_stored_by_an_older_server(cli: Commands, credential_id: str) -> None:
    """Put EVIL_NAME where an older server, which did not refuse such names, would have: the
    device's name and an audit row's detail (the server now refuses them at the door)."""
    path = cli.server.database_url.split("///", 1)[1]
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE credentials SET name = ? WHERE credential_id = ?", (EVIL_NAME, credential_id)
        )
        db.execute(
            "INSERT INTO audit_events (at_ms, event, user_id, credential_id, detail_json) "
            "VALUES (?, 'device.revoked', 'mallory', ?, ?)",
            (int(time.time() * 1000), credential_id, json.dumps({"name": EVIL_NAME})),
        )


async def test_server_provided_text_is_printed_escaped(cli: Commands) -> None:
    device = await api_device(cli, "mallory", name="plain")
    _as_stored_by_an_older_server(cli, device.identity.credential_id)
    async with rp_client(cli) as rp, device:
        challenge_id = await approve(rp, device, "mallory")
    devices = run(cli, "devices", "mallory", columns=200)
    assert EVIL_SHOWN in devices.stdout
    waited = run(cli, "wait", challenge_id)
    assert waited.returncode == 0, waited.stderr
    assert EVIL_SHOWN in " ".join(waited.stderr.split("\n"))  # long lines may wrap on a space
    audit = run(cli, "audit", "mallory", columns=400)
    assert "name=" + EVIL_SHOWN in audit.stdout
    assert_no_raw_controls(devices.stdout, devices.stderr, waited.stderr, audit.stdout)


async def test_unlock_refuses_a_user_the_server_does_not_know(cli: Commands) -> None:
    unknown = run(cli, "unlock", "nobody")
    assert unknown.returncode == 5
    assert "user_not_found" in unknown.stderr
    assert "pushauth users" in unknown.stderr
    assert json.loads(run(cli, "audit", "nobody", "--json").stdout)["events"] == []

    await (await api_device(cli, "olga")).aclose()
    known = run(cli, "unlock", "olga")
    assert known.returncode == 0, known.stderr
    assert "Unlocked push sign-in for olga." in known.stdout  # `| less` shows the result
    detail = run(cli, "audit", "olga", columns=300).stdout
    assert "user.unlocked" in detail
    assert "was(consecutive_failures=0, locked_not_me=no)" in detail
    for python_repr in ("None", "{", "'", "False", "True"):
        assert python_repr not in detail.split("user.unlocked", 1)[1], detail


async def test_cancel_takes_a_pending_challenge_off_the_devices(cli: Commands) -> None:
    await (await api_device(cli, "carl")).aclose()
    created = json.loads(run(cli, "signin", "carl", "--no-wait", "--json").stdout)
    cancelled = run(cli, "cancel", created["challenge_id"], "--json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    second = json.loads(run(cli, "signin", "carl", "--no-wait", "--json").stdout)
    said = run(cli, "cancel", second["challenge_id"])
    assert f"Cancelled challenge {second['challenge_id']} for carl." in said.stdout
    again = run(cli, "cancel", created["challenge_id"])
    assert again.returncode == 5
    assert "challenge_not_pending" in again.stderr


async def test_signin_ip_and_fields_reach_the_device(cli: Commands) -> None:
    device = await api_device(cli, "ivy")
    created = run(
        cli,
        "signin", "ivy", "--no-wait", "--json",
        "--ip", "192.0.2.7", "--field", "repo=infra", "--field", "query=a=b",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    async with device:
        [pending] = await device.call(calls.pending_challenges())
    assert pending.shown["initiator_ip"] == "192.0.2.7"
    assert pending.custom == {"repo": "infra", "query": "a=b"}


async def test_revoke_asks_naming_the_user_and_the_device(cli: Commands) -> None:
    device = await api_device(cli, "vera", name="Vera's phone")
    assert device.identity is not None
    credential_id = device.identity.credential_id
    await device.aclose()
    answered_no = run(cli, "revoke", credential_id, input="n\n")
    assert answered_no.returncode == 7  # nothing done; 1 would mean "denied"
    assert "Revoke vera's device \"Vera's phone\"" in answered_no.stderr
    assert credential_id in answered_no.stderr
    [listed] = json.loads(run(cli, "devices", "vera", "--json").stdout)["devices"]
    assert listed["state"] == "active"


async def test_a_user_named_verify_can_be_listed(cli: Commands) -> None:
    device = await api_device(cli, "verify")
    async with rp_client(cli) as rp, device:
        await approve(rp, device, "verify")
        await approve(rp, device, "verify")
    listed = run(cli, "audit", "--user", "verify", "--json")
    assert listed.returncode == 0, listed.stderr
    events = json.loads(listed.stdout)["events"]
    assert {e["user_id"] for e in events} == {"verify"}
    assert "challenge.approved" in {e["event"] for e in events}
    verified = run(cli, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "All 2 signed responses verify." in verified.stdout  # each response counted once


def test_status_goes_to_stdout(cli: Commands) -> None:
    result = run(cli, "status", "nobody-yet")
    assert result.returncode == 0, result.stderr
    assert "Not locked." in result.stdout
    assert "Consecutive failures: 0." in result.stdout


def test_a_port_in_use_says_how_to_pick_another(cli: Commands, tmp_path: Path) -> None:
    busy = cli.server.port
    result = subprocess.run(
        [sys.executable, "-m", "pushauth_cli", "serve", "--port", str(busy)],
        cwd=tmp_path,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 7
    flat = " ".join(result.stderr.split())
    assert f"Port {busy} on 127.0.0.1 is already in use" in flat
    assert f"--port {busy + 1}" in flat
    assert "Traceback" not in result.stderr
