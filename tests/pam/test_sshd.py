"""The proof that the number reaches an SSH user: a real sshd (UsePAM, keyboard-interactive,
our PAM service with pam_pushauth.so), a real ``ssh`` client in a pseudo-terminal reading the
number from the login prompt, and the real device answering.

sshd holds PAM_TEXT_INFO back until the next prompt (OpenSSH bug 2876), so the number is only
seen here because pushauth-pam puts it inside the prompt (``prompt = "auto"`` does that for sshd
services).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.pam.flow import PamWorld, finish, make_world
from tests.pam.sshd import Sshd, running_sshd, ssh_command
from tests.pam.system import UnixUser, pam_service, unique
from tests.support.processes import Commands

pytestmark = pytest.mark.pam

PROMPT = r"Approve on your device with the number (\d{3}) (\d{3}), then press Enter: "
COMMAND = "echo pushauth-ssh-ok-$((6 * 7))"
RAN = "pushauth-ssh-ok-42"


@pytest.fixture
def world(commands: Commands, pam_module: Path, login_user: UnixUser, tmp_path: Path) -> PamWorld:
    return make_world(commands, pam_module, login_user, tmp_path)


@pytest.fixture
def sshd(world: PamWorld, tmp_path: Path) -> Iterator[Sshd]:
    world.configure()  # prompt = "auto": an sshd service gets the number inside a prompt
    service = unique("sshd-pushauth-test-")
    sshd_dir = tmp_path / "sshd"
    sshd_dir.mkdir(mode=0o700)
    args = ("--config", str(world.config_path), "--log-file", str(world.log_file))
    with (
        pam_service(world.module, *args, name=service),
        running_sshd(sshd_dir, world.user.name, service) as server,
    ):
        yield server


def ssh(world: PamWorld, sshd: Sshd) -> pexpect.spawn:
    return pexpect.spawn(
        "ssh",
        ssh_command(sshd.port, world.user.name, COMMAND),
        encoding="utf-8",
        timeout=60,
        env=world.commands.env(),
    )


def test_ssh_user_sees_the_number_in_the_prompt_and_approval_logs_in(
    world: PamWorld, sshd: Sshd
) -> None:
    client = ssh(world, sshd)
    client.expect(PROMPT)  # the number is on the user's screen before anyone answers
    assert f"({world.user.name}@127.0.0.1) " in str(client.before)  # ssh's own prompt prefix
    code = str(client.match.group(1) + client.match.group(2))
    challenge_id = world.pending_challenge()
    approved = world.commands.device(world.device_home, "approve", challenge_id, "--code", code)
    assert approved.returncode == 0, approved.stderr
    client.sendline("")
    client.expect(RAN)  # the login succeeded and the shell command ran
    status, _ = finish(client)
    assert status == 0, "".join(sshd.log)
    shown = world.challenge(challenge_id)
    assert shown["status"] == "approved"
    assert shown["action"] == "sshLogin"
    context = shown["context"]
    assert isinstance(context, dict)
    assert context["initiator_ip"] == "127.0.0.1"
    assert "SSH login to" in str(context["note"])
    [line] = world.decisions()
    assert "decision=approved" in line
    assert "rhost=127.0.0.1" in line
    assert f"challenge={challenge_id}" in line


def test_ssh_denial_ends_the_login(world: PamWorld, sshd: Sshd) -> None:
    client = ssh(world, sshd)
    client.expect(PROMPT)
    challenge_id = world.pending_challenge()
    denied = world.commands.device(world.device_home, "deny", challenge_id)
    assert denied.returncode == 0, denied.stderr
    client.sendline("")
    status, output = finish(client)
    assert status != 0
    assert RAN not in output
    assert "Too many authentication failures" in output  # MaxAuthTries 1: one denial ends it
    assert any("Failed keyboard-interactive/pam" in line for line in sshd.log), sshd.log
    [line] = world.decisions()
    assert "decision=denied" in line
    assert f"challenge={challenge_id}" in line
