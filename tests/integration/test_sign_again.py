"""A device signs a refused request proof again, once, when the server's nonce memory starts
after the proof (docs/protocol.md, "Request proofs"): here, a Redis that lost its nonce epoch (as
a Redis restarted without persistence does) sets the epoch at the next claim, which can refuse
the proof being checked; the device's client then signs a fresh one and the call succeeds."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import redis

from tests.conftest import StartServer
from tests.integration.helpers import enroll_device
from tests.support.processes import Commands

EPOCH_KEY = "pushauth:nonce-epoch"  # nonces.RedisNonceStore (the nonce keys' fixed prefix)


def _stale_refusals(commands: Commands, user: str) -> int:
    listed = commands.pushauth("audit", "--user", user, "--json")
    assert listed.returncode == 0, listed.stderr
    events = json.loads(listed.stdout)["events"]
    return sum(1 for row in events if row["event"] == "security.stale_proof")


def test_a_proof_refused_by_a_new_nonce_epoch_is_signed_again(
    start_server: StartServer, keyring_env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server(
        channels_backend="redis",
        redis_url="redis://127.0.0.1:6379/0",
        secret="epoch-" + secrets.token_hex(16),
    )
    commands = Commands(server=server, env_extra=keyring_env)
    home = tmp_path / "phone"
    user = "epoch-" + secrets.token_hex(3)
    enroll_device(commands, home, user)
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        # The epoch is set at the claim after it is lost, to that claim's time: a proof signed
        # in an earlier millisecond is refused. Repeat until that happened at least once (a
        # proof checked within the millisecond it was signed is accepted at once).
        for _ in range(20):
            client.delete(EPOCH_KEY)
            pending = commands.device(home, "pending", "--json")
            assert pending.returncode == 0, pending.stderr  # refused once at most, signed again
            if _stale_refusals(commands, user):
                break
        else:
            raise AssertionError("no proof was ever refused by a new epoch: nothing was tested")
    finally:
        client.close()
