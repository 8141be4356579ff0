"""Push-bombing defences through the real server and commands (issue 4)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.integration.helpers import (
    audit_events,
    challenge,
    enroll_device,
    signin_no_wait,
    watching,
)
from tests.support.processes import Commands

LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:")


def assert_local_time_once(said: str) -> None:
    """The time a refusal lasts is said once, in local time to the second (not UTC ISO)."""
    assert len(LOCAL_TIME.findall(said)) == 1, said
    assert not ISO_TIME.search(said), said


def _cancel(commands: Commands, challenge_id: str) -> None:
    import httpx

    from tests.support.processes import API_KEY

    response = httpx.post(
        f"{commands.server.url}/v1/challenges/{challenge_id}/cancel",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 200, response.text


def _challenge_rows(commands: Commands, user: str) -> int:
    db = commands.server.workdir / "pushauth.db"
    with sqlite3.connect(db) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM challenges WHERE user_id = ?", (user,)
        ).fetchone()
    return int(count)


def test_second_pending_challenge_is_refused_or_replaces(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "pam")
    first = signin_no_wait(commands, "pam")
    second = commands.pushauth("signin", "pam", "--no-wait", "--json")
    assert second.returncode == 5
    assert "challenge_pending" in second.stderr
    assert "--replace" in second.stderr
    replaced = signin_no_wait(commands, "pam", "--replace")
    assert challenge(commands, str(first["challenge_id"]))["status"] == "cancelled"
    pending = json.loads(commands.device(home, "pending", "--json").stdout)
    assert [p["challenge_id"] for p in pending] == [replaced["challenge_id"]]


def test_sixth_challenge_in_the_window_is_refused_and_reaches_no_device(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "quinn")
    with watching(commands, home) as watcher:
        delivered = []
        for _ in range(5):
            created = signin_no_wait(commands, "quinn")
            delivered.append(watcher.next()["challenge_id"])
            assert delivered[-1] == created["challenge_id"]
            _cancel(commands, str(created["challenge_id"]))

        refused = commands.pushauth("signin", "quinn", "--json", "--no-wait")
        assert refused.returncode == 5
        assert "rate_limited" in refused.stderr
        assert_local_time_once(refused.stderr)
        assert refused.stdout == ""
        assert _challenge_rows(commands, "quinn") == 5  # nothing was created

        # Lift the limit and send one more: it must be the next thing the device sees, proving
        # the refused one never reached it.
        assert commands.pushauth("unlock", "quinn").returncode == 0
        sentinel = signin_no_wait(commands, "quinn")
        assert watcher.next()["challenge_id"] == sentinel["challenge_id"]
    refusals = [e for e in audit_events(commands, "quinn") if e["event"] == "challenge.refused"]
    assert len(refusals) == 1
    assert refusals[0]["detail"]["reason"] == "rate_limited"


def test_rate_limit_answers_429_with_retry_after(commands: Commands, tmp_path: Path) -> None:
    import httpx

    from tests.support.processes import API_KEY

    enroll_device(commands, tmp_path / "phone", "rita")
    for _ in range(5):
        _cancel(commands, str(signin_no_wait(commands, "rita")["challenge_id"]))
    response = httpx.post(
        f"{commands.server.url}/v1/challenges",
        json={"user_id": "rita"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "rate_limited"


def test_three_denials_lock_push_signin(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "sam")
    for _ in range(3):
        created = signin_no_wait(commands, "sam")
        assert commands.device(home, "deny", str(created["challenge_id"])).returncode == 0
    locked = commands.pushauth("signin", "sam", "--json")
    assert locked.returncode == 5
    assert "user_locked" in locked.stderr
    assert_local_time_once(locked.stderr)
    state = json.loads(commands.pushauth("status", "sam", "--json").stdout)
    assert state["locked"] is True
    assert state["locked_reason"] == "failures"
    events = [e["event"] for e in audit_events(commands, "sam")]
    assert events.count("challenge.denied") == 3
    assert "user.locked" in events


def test_new_challenges_do_not_reset_the_failure_count(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "tess")
    for step in range(3):
        created = signin_no_wait(commands, "tess")
        if step == 1:  # a challenge created (and cancelled) in between changes nothing
            _cancel(commands, str(created["challenge_id"]))
            created = signin_no_wait(commands, "tess")
        commands.device(home, "deny", str(created["challenge_id"]))
    assert commands.pushauth("signin", "tess").returncode == 5


def test_not_me_locks_until_unlock_and_survives_a_restart(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "uma")
    created = signin_no_wait(commands, "uma")
    assert commands.device(home, "deny", str(created["challenge_id"]), "--not-me").returncode == 0

    refused = commands.pushauth("signin", "uma")
    assert refused.returncode == 5
    assert "pushauth unlock uma" in refused.stderr

    commands.server.restart()  # limits and lockouts are stored, not held in memory
    assert commands.pushauth("signin", "uma").returncode == 5

    unlocked = commands.pushauth("unlock", "uma")
    assert unlocked.returncode == 0, unlocked.stderr
    again = signin_no_wait(commands, "uma")
    assert again["status"] == "pending"
    events = [e["event"] for e in audit_events(commands, "uma")]
    for expected in ("challenge.reported_not_me", "user.locked", "user.unlocked"):
        assert expected in events
