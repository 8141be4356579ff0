"""pam_pushauth.so in a real PAM stack, driven by ``pamtester`` (Linux-PAM's own test client)
against a real ``pushauth serve`` and a real enrolled device (keys in gnome-keyring)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.pam.flow import PUSHAUTH_USER, PamWorld, finish, make_world
from tests.pam.system import PROGRAM, UnixUser
from tests.support.processes import Commands

pytestmark = pytest.mark.pam

SUCCESS = "successfully authenticated"


@pytest.fixture
def world(commands: Commands, pam_module: Path, login_user: UnixUser, tmp_path: Path) -> PamWorld:
    return make_world(commands, pam_module, login_user, tmp_path)


def test_approve_with_the_right_number_authenticates(world: PamWorld) -> None:
    world.configure(pushinfo=True)
    with world.service() as service:
        child = world.pamtester(service)
        code = world.read_number(child)  # shown before the device is asked to answer
        challenge_id = world.pending_challenge()
        approved = world.commands.device(world.device_home, "approve", challenge_id, "--code", code)
        assert approved.returncode == 0, approved.stderr
        status, output = finish(child)
    assert status == 0, output
    assert SUCCESS in output
    shown = world.challenge(challenge_id)
    assert shown["status"] == "approved"
    assert shown["user_id"] == PUSHAUTH_USER  # through user_map
    assert shown["action"] == f"pam:{service}"
    context = shown["context"]
    assert isinstance(context, dict)
    assert context["custom"]["service"] == service
    assert "pamtester" in context["custom"]["command"]  # pushinfo: the command that asked
    [line] = world.decisions()
    assert "decision=approved" in line
    assert f"user={world.user.name}" in line
    assert f"service={service}" in line
    assert f"challenge={challenge_id}" in line


def test_deny_on_the_device_fails(world: PamWorld) -> None:
    world.configure()
    with world.service() as service:
        child = world.pamtester(service)
        world.read_number(child)
        challenge_id = world.pending_challenge()
        denied = world.commands.device(world.device_home, "deny", challenge_id)
        assert denied.returncode == 0, denied.stderr
        status, output = finish(child)
    assert status != 0
    assert SUCCESS not in output
    assert "Denied on your device" in output
    [line] = world.decisions()
    assert "decision=denied" in line
    assert "reason=user_denied" in line
    assert f"challenge={challenge_id}" in line


def test_wrong_number_fails(world: PamWorld) -> None:
    world.configure()
    with world.service() as service:
        child = world.pamtester(service)
        code = world.read_number(child)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        challenge_id = world.pending_challenge()
        world.commands.device(world.device_home, "approve", challenge_id, "--code", wrong)
        status, output = finish(child)
    assert status != 0
    assert SUCCESS not in output
    assert world.challenge(challenge_id)["reason"] == "wrong_code"
    [line] = world.decisions()
    assert "decision=denied" in line
    assert "reason=wrong_code" in line


def test_no_answer_times_out_and_cancels_the_challenge(world: PamWorld) -> None:
    world.configure(timeout=5)
    with world.service() as service:
        child = world.pamtester(service)
        world.read_number(child)
        challenge_id = world.pending_challenge()
        status, output = finish(child)  # nobody answers
    assert status != 0
    assert SUCCESS not in output
    assert world.challenge(challenge_id)["status"] == "cancelled"
    [line] = world.decisions()
    assert "decision=timed_out" in line
    assert f"challenge={challenge_id}" in line


def test_prompt_mode_shows_the_number_in_a_prompt_and_waits_for_enter(world: PamWorld) -> None:
    world.configure(prompt="always")
    with world.service() as service:
        child = world.pamtester(service)
        child.expect(r"Approve on your device with the number (\d{3}) (\d{3}), then press Enter: ")
        code = str(child.match.group(1) + child.match.group(2))
        challenge_id = world.pending_challenge()
        world.commands.device(world.device_home, "approve", challenge_id, "--code", code)
        child.sendline("")
        status, output = finish(child)
    assert status == 0, output
    assert SUCCESS in output


def test_prompt_left_unanswered_cancels_the_challenge_at_the_timeout(world: PamWorld) -> None:
    """pam_duo issue 52: an unanswered push must not hang the login; the deadline holds even
    while the prompt is still open on the user's terminal."""
    world.configure(prompt="always", timeout=5)
    with world.service() as service:
        child = world.pamtester(service)
        child.expect("then press Enter")
        challenge_id = world.pending_challenge()
        assert world.wait_resolved(challenge_id)["status"] == "cancelled"  # nobody pressed Enter
        child.sendline("")
        status, output = finish(child)
    assert status != 0
    assert SUCCESS not in output
    [line] = world.decisions()
    assert "decision=timed_out" in line


def test_user_going_away_cancels_the_challenge(world: PamWorld) -> None:
    world.configure(prompt="always")
    with world.service() as service:
        child = world.pamtester(service)
        child.expect("then press Enter")
        challenge_id = world.pending_challenge()
        child.close(force=True)  # the terminal is gone: pamtester and its PAM stack end
        assert world.wait_resolved(challenge_id)["status"] == "cancelled"


@pytest.mark.parametrize("mode", [0o775, 0o757])
def test_module_refuses_a_program_others_could_replace(
    world: PamWorld, tmp_path: Path, mode: int
) -> None:
    """The module runs the program as root: a program a user could write is a root shell."""
    program = tmp_path / "bin" / "pushauth-pam"
    program.parent.mkdir()
    shutil.copy2(PROGRAM, program)
    os.chmod(program, 0o755)
    world.configure(users=["nobody-else"], groups=[])  # the program would let the user pass
    with world.service(program=program) as service:
        control, output = finish(world.pamtester(service))
        assert control == 0, output  # root's, not writable by others: it runs
        os.chmod(program, mode)
        writable, _ = finish(world.pamtester(service))
        os.chmod(program, 0o755)
        os.chown(program, 65534, 65534)  # owned by nobody
        not_roots, _ = finish(world.pamtester(service))
    assert writable != 0
    assert not_roots != 0
    assert len(world.decisions()) == 1  # only the control ran the program


@pytest.mark.parametrize(
    ("failmode", "allowed", "decision"),
    [("secure", False, "fail_secure_deny"), ("safe", True, "fail_safe_allow")],
)
def test_server_down_follows_the_failmode(
    world: PamWorld, failmode: str, allowed: bool, decision: str
) -> None:
    world.configure(failmode=failmode)
    world.commands.server.stop()
    with world.service() as service:
        status, output = finish(world.pamtester(service))
    assert (status == 0) is allowed, output
    assert (SUCCESS in output) is allowed
    [line] = world.decisions()
    assert f"decision={decision}" in line
    assert "server_unavailable" in line


@pytest.mark.parametrize(
    ("settings", "code", "shown"),
    [
        ({"api_key": "pak_wrong-" + "x" * 40}, "invalid_api_key", "API key is not accepted"),
        ({"user_map": {}}, "no_enrolled_device", "no device is enrolled"),
    ],
)
def test_a_refusal_denies_even_with_failmode_safe(
    world: PamWorld, settings: dict[str, object], code: str, shown: str
) -> None:
    """Only an unreachable server is an outage; a 4xx answer is a "no" (never fail-open)."""
    world.configure(failmode="safe", **settings)  # without the map, the Unix name has no device
    with world.service() as service:
        status, output = finish(world.pamtester(service))
    assert status != 0
    assert shown in output
    [line] = world.decisions()
    assert "decision=denied" in line
    assert f"reason=server_refused:{code}" in line


def test_server_lost_while_waiting_follows_the_failmode(world: PamWorld) -> None:
    """pam_duo issue 279: the failmode must apply when the server goes away mid-wait too."""
    world.configure(failmode="safe")
    with world.service() as service:
        child = world.pamtester(service)
        world.read_number(child)
        world.commands.server.stop()
        status, output = finish(child)
    assert status == 0, output
    [line] = world.decisions()
    assert "decision=fail_safe_allow" in line
    assert "challenge=ch_" in line


def test_user_outside_users_and_groups_passes_through(
    world: PamWorld, other_user: UnixUser
) -> None:
    world.configure()  # groups = [login_user's group]; other_user is not in it
    with world.service() as service:
        status, output = finish(world.pamtester(service, other_user.name))
    assert status == 0, output
    listed = world.commands.device(world.device_home, "pending", "--json")
    assert listed.stdout.strip() in ("", "[]")  # no push was sent
    [line] = world.decisions()
    assert "decision=bypassed" in line
    assert f"user={other_user.name}" in line


def test_unknown_unix_user_is_denied_without_a_push(world: PamWorld) -> None:
    world.configure(groups=[], users=[])
    with world.service() as service:
        status, _ = finish(world.pamtester(service, "no-such-user-pushauth"))
    assert status != 0
    [line] = world.decisions()
    assert "decision=denied" in line
    assert "reason=unknown_user" in line


@pytest.mark.parametrize(
    ("settings", "mode", "logged"),
    [
        ({}, 0o620, "group- or world-writable"),
        ({}, 0o604, "world-readable"),
        ({"failmod": "safe"}, 0o600, "unknown setting 'failmod'"),
        ({"failmode": "open"}, 0o600, "failmode must be"),
    ],
)
def test_bad_config_denies_with_a_log_line_and_no_traceback(
    world: PamWorld, settings: dict[str, object], mode: int, logged: str
) -> None:
    world.configure(mode=mode, **{"failmode": "safe", **settings})  # safe: still denied
    with world.service() as service:
        status, output = finish(world.pamtester(service))
    assert status != 0
    assert SUCCESS not in output
    assert "Traceback" not in output
    assert "push sign-in is unavailable" in output
    [line] = world.decisions()
    assert "decision=error" in line
    assert logged in line
