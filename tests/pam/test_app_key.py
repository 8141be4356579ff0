"""pam_pushauth.so given what it should be given: an application key with only the
``challenges`` scope (docs/pam.md). It creates, waits on and cancels its own challenges; a key
without that scope is a refusal, never a pass, even with ``failmode = "safe"``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.apps_support import create_app
from tests.pam.flow import PUSHAUTH_USER, PamWorld, finish, make_world
from tests.pam.system import UnixUser
from tests.support.processes import Commands

pytestmark = pytest.mark.pam

SUCCESS = "successfully authenticated"


@pytest.fixture
def world(commands: Commands, pam_module: Path, login_user: UnixUser, tmp_path: Path) -> PamWorld:
    return make_world(commands, pam_module, login_user, tmp_path)


def test_a_challenges_scoped_key_signs_in(world: PamWorld) -> None:
    key = create_app(world.commands, "sudo-host", "challenges", users=PUSHAUTH_USER)
    world.configure(api_key=key)
    with world.service() as service:
        child = world.pamtester(service)
        code = world.read_number(child)
        challenge_id = world.pending_challenge()
        approved = world.commands.device(world.device_home, "approve", challenge_id, "--code", code)
        assert approved.returncode == 0, approved.stderr
        status, output = finish(child)
    assert status == 0, output
    assert SUCCESS in output


def test_a_challenges_scoped_key_cancels_its_challenge_at_the_timeout(world: PamWorld) -> None:
    key = create_app(world.commands, "sudo-host", "challenges")
    world.configure(api_key=key, timeout=5)
    with world.service() as service:
        child = world.pamtester(service)
        world.read_number(child)
        challenge_id = world.pending_challenge()
        status, _output = finish(child)  # nobody answers
    assert status != 0
    assert world.challenge(challenge_id)["status"] == "cancelled"
    [line] = world.decisions()
    assert "decision=timed_out" in line


@pytest.mark.parametrize(
    ("scope", "users", "code"),
    [
        ("enrollment", None, "insufficient_scope"),
        ("challenges", "someone-else", "user_not_allowed"),
    ],
)
def test_a_key_that_may_not_push_denies_even_with_failmode_safe(
    world: PamWorld, scope: str, users: str | None, code: str
) -> None:
    key = create_app(world.commands, "wrong-key", scope, users=users)
    world.configure(api_key=key, failmode="safe")
    with world.service() as service:
        status, output = finish(world.pamtester(service))
    assert status != 0
    assert SUCCESS not in output
    [line] = world.decisions()
    assert "decision=denied" in line
    assert f"reason=server_refused:{code}" in line
