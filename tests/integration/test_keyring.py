"""Device keys live in the OS keyring (gnome-keyring's Secret Service here), never in plaintext."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.helpers import enroll_device, signin_no_wait
from tests.support.processes import Commands

READ_KEY = """
import keyring, sys
backend = keyring.get_keyring()
print(type(backend).__module__)
print(keyring.get_password("pushauth-device", sys.argv[1]) or "")
"""


def test_enroll_and_approve_with_the_real_secret_service(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "kim")
    probe = subprocess.run(
        [sys.executable, "-c", READ_KEY, credential_id],
        env=commands.env(home),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    backend, stored = probe.stdout.splitlines()
    assert backend == "keyring.backends.SecretService"
    assert stored  # the key is in the Secret Service...
    secret = stored.split(":", 1)[-1]
    for path in home.rglob("*"):  # ...and nowhere in the device's files
        if path.is_file():
            assert secret not in path.read_text(errors="replace")

    created = signin_no_wait(commands, "kim")
    approved = commands.device(
        home, "approve", str(created["challenge_id"]), "--code", str(created["verification_code"])
    )
    assert approved.returncode == 0, approved.stderr


def test_enrollment_refuses_without_a_secure_keyring(commands: Commands, tmp_path: Path) -> None:
    issued = json.loads(commands.pushauth("enroll", "lou", "--json").stdout)
    home = tmp_path / "phone"
    env = commands.env(home)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "pushauth_device",
            "enroll",
            "--server",
            commands.server.url,
            "--token",
            issued["token"],
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert refused.returncode == 4
    assert "No secure keyring" in refused.stderr
    assert "gnome-keyring" in refused.stderr
    assert not (home / "accounts.json").exists()
    # The single-use token was not spent: enrollment works once a real keyring is there.
    enrolled = commands.device(
        home, "enroll", "--server", commands.server.url, "--token", issued["token"]
    )
    assert enrolled.returncode == 0, enrolled.stderr
