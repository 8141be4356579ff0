"""The real Secret Service (gnome-keyring in its own D-Bus session): an account enrolled in one
session and used from another, or with no session at all, is a message and exit 4."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.helpers import enroll_device, signin_no_wait
from tests.support.processes import Commands
from tests.support.secret_service import secret_service


def run_device(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushauth_device", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_commands_in_another_dbus_session_say_so(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "sam")
    created = signin_no_wait(commands, "sam")
    with secret_service(tmp_path / "other-session") as other:
        env = {**commands.env(home), **other}  # same accounts file, another keyring session
        for args in (("pending",), ("approve", str(created["challenge_id"]), "--code", "1")):
            done = run_device(env, *args)
            assert done.returncode == 4, done.stderr
            assert "is not in this keyring" in done.stderr
            assert "D-Bus session" in done.stderr
            assert "Traceback" not in done.stderr
    # In the session it was enrolled in, the same command works.
    listed = commands.device(home, "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [c["challenge_id"] for c in json.loads(listed.stdout)] == [created["challenge_id"]]


def test_no_dbus_session_at_all(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "noa")
    env = commands.env(home)
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path / 'no-bus'}"
    done = run_device(env, "pending")
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert "keyrings.alt" not in done.stderr
    assert "dbus-run-session" in done.stderr
