"""The core loop with real parts: ``pushauth serve``, the ``pushauth`` CLI and ``pushauth-device``
(keys in gnome-keyring's Secret Service), talking over real sockets."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.helpers import (
    challenge,
    enroll_device,
    signin_no_wait,
    start_signin,
    watching,
)
from tests.support.processes import Commands


def test_enroll_signin_approve_exits_0(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "alice", name="alice-phone")
    signin, challenge_id = start_signin(commands, "alice", "--json", "--note", "VPN login")
    code = str(challenge(commands, challenge_id)["verification_code"])

    pending = commands.device(home, "pending", "--json")
    assert pending.returncode == 0, pending.stderr
    [shown] = json.loads(pending.stdout)
    assert shown["challenge_id"] == challenge_id
    assert shown["context"]["note"] == "VPN login"
    assert code not in pending.stdout  # the device never learns the code from the server

    approved = commands.device(home, "approve", challenge_id, "--code", code)
    assert approved.returncode == 0, approved.stderr
    out, err = signin.communicate(timeout=30)
    assert signin.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "approved"
    assert result["credential_id"] == credential_id
    assert result["device_name"] == "alice-phone"
    assert result["user_id"] == "alice"
    assert result["action"] == "signIn"
    assert isinstance(result["elapsed_ms"], int)


def test_deny_exits_1(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "bob")
    signin, challenge_id = start_signin(commands, "bob", "--json")
    denied = commands.device(home, "deny", challenge_id)
    assert denied.returncode == 0, denied.stderr
    out, _ = signin.communicate(timeout=30)
    assert signin.returncode == 1
    assert json.loads(out)["status"] == "denied"
    assert json.loads(out)["reason"] == "user_denied"


def test_not_me_denial_is_signed_and_recorded(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "nora")
    created = signin_no_wait(commands, "nora")
    denied = commands.device(home, "deny", str(created["challenge_id"]), "--not-me")
    assert denied.returncode == 0, denied.stderr
    waited = commands.pushauth("wait", str(created["challenge_id"]), "--json")
    assert waited.returncode == 1
    assert json.loads(waited.stdout)["reason"] == "not_me"


def test_wrong_code_fails_the_challenge_in_one_attempt(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "carol")
    created = signin_no_wait(commands, "carol")
    challenge_id = str(created["challenge_id"])
    right = str(created["verification_code"])
    wrong = str((int(right) + 1) % 10 ** len(right)).zfill(len(right))

    first = commands.device(home, "approve", challenge_id, "--code", wrong)
    assert first.returncode == 1
    assert "Wrong number" in first.stderr
    waited = commands.pushauth("wait", challenge_id, "--json")
    assert waited.returncode == 1
    assert json.loads(waited.stdout)["status"] == "denied"
    assert json.loads(waited.stdout)["reason"] == "wrong_code"
    # One attempt only: the right number afterwards changes nothing.
    second = commands.device(home, "approve", challenge_id, "--code", right)
    assert second.returncode == 1
    assert challenge(commands, challenge_id)["reason"] == "wrong_code"


def test_no_enrolled_device_exits_4(commands: Commands) -> None:
    result = commands.pushauth("signin", "nobody", "--json")
    assert result.returncode == 4
    assert "no enrolled device" in result.stderr
    assert result.stdout == ""


def test_bad_api_key_exits_5_and_unreachable_exits_6(commands: Commands) -> None:
    refused = commands.pushauth("signin", "alice", "--api-key", "pak_wrong")
    assert refused.returncode == 5
    assert "invalid_api_key" in refused.stderr
    unreachable = commands.pushauth("signin", "alice", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 6
    assert "pushauth serve" in unreachable.stderr


def test_device_connected_first_receives_the_challenge_over_the_stream(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "dave")
    with watching(commands, home) as watcher:
        created = signin_no_wait(commands, "dave", "--note", "deploy prod")
        arrived = watcher.next()
        assert arrived["challenge_id"] == created["challenge_id"]
        assert arrived["user_id"] == "dave"
        assert arrived["context"]["note"] == "deploy prod"
        assert "verification_code" not in arrived


def test_approve_and_deny_at_once_resolve_exactly_once(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "erin")
    created = signin_no_wait(commands, "erin")
    challenge_id = str(created["challenge_id"])
    # Both answers are signed before either is sent, then raced.
    approve = commands.device_popen(
        home, "approve", challenge_id, "--code", str(created["verification_code"])
    )
    deny = commands.device_popen(home, "deny", challenge_id)
    approve.communicate(timeout=60)
    deny.communicate(timeout=60)
    winners = [p for p in (approve, deny) if p.returncode == 0]
    assert len(winners) == 1
    final = challenge(commands, challenge_id)["status"]
    assert final == ("approved" if winners[0] is approve else "denied")


def test_revoked_device_is_refused(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "frank")
    created = signin_no_wait(commands, "frank")
    revoked = commands.pushauth("revoke", credential_id, "--yes")
    assert revoked.returncode == 0, revoked.stderr
    listed = commands.pushauth("devices", "frank", "--json")
    assert json.loads(listed.stdout)["devices"][0]["state"] == "revoked"

    answer = commands.device(
        home, "approve", str(created["challenge_id"]), "--code", str(created["verification_code"])
    )
    assert answer.returncode == 4
    assert "revoked" in answer.stderr
    assert challenge(commands, str(created["challenge_id"]))["status"] == "pending"


def test_signin_timeout_exits_3_and_cancels(commands: Commands, tmp_path: Path) -> None:
    enroll_device(commands, tmp_path / "phone", "gina")
    result = commands.pushauth("signin", "gina", "--timeout", "0.5", "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["timed_out"] is True
    assert data["status"] == "cancelled"


def test_no_wait_then_wait(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "hank")
    created = signin_no_wait(commands, "hank")
    assert created["status"] == "pending"
    for key in ("challenge_id", "user_id", "action", "verification_code"):
        assert created[key]
    commands.device(
        home, "approve", str(created["challenge_id"]), "--code", str(created["verification_code"])
    )
    waited = commands.pushauth("wait", str(created["challenge_id"]), "--json")
    assert waited.returncode == 0
    assert json.loads(waited.stdout)["status"] == "approved"


def test_interrupted_signin_cancels_the_request(commands: Commands, tmp_path: Path) -> None:
    import signal

    enroll_device(commands, tmp_path / "phone", "ian")
    signin, challenge_id = start_signin(commands, "ian")
    signin.send_signal(signal.SIGINT)
    _, err = signin.communicate(timeout=30)
    assert signin.returncode == 3
    assert "Traceback" not in err
    assert challenge(commands, challenge_id)["status"] == "cancelled"


def test_device_names_are_shown_as_text_not_markup(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    name = "[/] my [work] laptop"
    enroll_device(commands, home, "jo", name=name)
    created = signin_no_wait(commands, "jo")
    commands.device(
        home, "approve", str(created["challenge_id"]), "--code", str(created["verification_code"])
    )
    waited = commands.pushauth("wait", str(created["challenge_id"]))
    assert waited.returncode == 0, waited.stderr
    assert name in waited.stderr
    listed = commands.pushauth("devices", "jo")
    assert listed.returncode == 0, listed.stderr
    assert "[work]" in listed.stdout
