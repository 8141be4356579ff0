"""Expiry is judged by server time: an unanswered challenge expires and the CLI exits 3."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import StartServer
from tests.integration.helpers import enroll_device
from tests.support.processes import Commands


def test_unanswered_challenge_expires_exit_3(
    start_server: StartServer, keyring_env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server(challenge_ttl_seconds="1")
    commands = Commands(server=server, env_extra=keyring_env)
    home = tmp_path / "phone"
    enroll_device(commands, home, "ivan")
    result = commands.pushauth("signin", "ivan", "--json", "--timeout", "60")
    assert result.returncode == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "expired"
    assert data["timed_out"] is False
    # And a late answer is refused: the challenge is no longer pending for the device.
    late = commands.device(
        home, "approve", data["challenge_id"], "--code", data["verification_code"]
    )
    assert late.returncode == 1
