"""Application keys through the real CLI and real HTTP: what a challenges-only key cannot do,
user restrictions, challenge ownership, rotation with its grace period, revocation."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.apps_support import as_app, call, create_app, enroll, error_code
from tests.support.processes import API_KEY, Commands

DEADLINE_SECONDS = 60  # a bound on every wait below, never a timing that is asserted


def _ms(iso_time: str) -> int:
    return round(datetime.fromisoformat(iso_time).timestamp() * 1000)


def _audit(commands: Commands) -> list[dict[str, object]]:
    listed = commands.pushauth("audit", "--json")
    assert listed.returncode == 0, listed.stderr
    events: list[dict[str, object]] = json.loads(listed.stdout)["events"]
    return events


def _wait_for_audit(commands: Commands, match: dict[str, object]) -> dict[str, object]:
    """The first audit row whose event and detail fields match, waiting (bounded) for the
    background writer to write it."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    event = match.pop("event")
    while True:
        for row in _audit(commands):
            detail = row.get("detail") or {}
            assert isinstance(detail, dict)
            if row["event"] == event and all(detail.get(k) == v for k, v in match.items()):
                return row
        assert time.monotonic() < deadline, f"no {event} row matching {match}"


def test_a_challenges_only_key_cannot_enroll_revoke_unlock_or_read_the_audit(
    commands: Commands,
) -> None:
    credential = enroll(commands.server.url, "cora")
    key = create_app(commands, "web", "challenges")
    signin = as_app(commands, key, "signin", "cora", "--no-wait", "--json")
    assert signin.returncode == 0, signin.stderr  # what it is for
    for args, scope in [
        (("enroll", "cora"), "enrollment"),
        (("revoke", credential, "--yes"), "admin"),
        (("unlock", "cora"), "admin"),
        (("audit",), "admin"),
        (("devices",), "admin"),
        (("apps", "list"), "admin"),
    ]:
        refused = as_app(commands, key, *args)
        assert refused.returncode == 5, (args, refused.stderr)  # refused by the server
        assert "insufficient_scope" in refused.stderr
        assert f"'{scope}' scope" in refused.stderr, refused.stderr  # names what is missing
    devices = json.loads(commands.pushauth("devices", "cora", "--json").stdout)["devices"]
    assert devices[0]["state"] == "active"  # nothing changed
    # The first refusal is written at once; repeats within the minute are folded into a count.
    refusal = _wait_for_audit(
        commands, {"event": "security.insufficient_scope", "required_scope": "enrollment"}
    )
    assert refusal["detail"]["app"] == "web"  # type: ignore[index]


def test_a_user_restricted_key_cannot_push_to_other_users(commands: Commands) -> None:
    url = commands.server.url
    enroll(url, "deploy-web")
    enroll(url, "alice")
    key = create_app(commands, "ci-gate", "challenges", "enrollment", users="deploy-*,bob")
    allowed = call(url, key, "POST", "/v1/challenges", {"user_id": "deploy-web"})
    assert allowed.status_code == 201, allowed.text
    for user in ("alice", "nobody-at-all"):  # exists or not: the same answer
        refused = call(url, key, "POST", "/v1/challenges", {"user_id": user})
        assert refused.status_code == 403, refused.text
        assert error_code(refused) == "user_not_allowed"
        assert user not in refused.text
        token = call(url, key, "POST", "/v1/enrollment-tokens", {"user_id": user})
        assert error_code(token) == "user_not_allowed"
    cli = as_app(commands, key, "signin", "alice", "--no-wait")
    assert cli.returncode == 5
    assert "user_not_allowed" in cli.stderr
    # alice got nothing: no challenge was created for her.
    events = [e for e in _audit(commands) if e["user_id"] == "alice"]
    assert [e["event"] for e in events] == ["enrollment.token_issued", "device.enrolled"]


def test_a_restricted_admin_sees_only_its_users(commands: Commands) -> None:
    url = commands.server.url
    mine = enroll(url, "deploy-api")
    theirs = enroll(url, "alice")
    key = create_app(commands, "deploy-admin", "admin", users="deploy-*")
    users = call(url, key, "GET", "/v1/users").json()
    assert [u["user_id"] for u in users] == ["deploy-api"]
    devices = call(url, key, "GET", "/v1/devices").json()
    assert [d["credential_id"] for d in devices] == [mine]
    # Another user's device is answered like an unknown one, and is not revoked.
    assert error_code(call(url, key, "GET", f"/v1/devices/{theirs}")) == "credential_not_found"
    revoke = call(url, key, "POST", f"/v1/devices/{theirs}/revoke")
    assert error_code(revoke) == "credential_not_found"
    assert error_code(call(url, key, "POST", "/v1/users/alice/unlock")) == "user_not_allowed"
    assert error_code(call(url, key, "GET", "/v1/users/alice/state")) == "user_not_allowed"
    # The audit: only one of its users, named; not the whole trail, not another user's.
    assert call(url, key, "GET", "/v1/audit", user_id="deploy-api").status_code == 200
    assert error_code(call(url, key, "GET", "/v1/audit")) == "user_not_allowed"
    assert error_code(call(url, key, "GET", "/v1/audit", user_id="alice")) == "user_not_allowed"
    assert error_code(call(url, key, "GET", "/v1/audit/head")) == "user_not_allowed"
    # Nor may it make itself an unrestricted app.
    created = call(url, key, "POST", "/v1/apps", {"name": "escalate", "scopes": ["admin"]})
    assert error_code(created) == "user_not_allowed"
    assert call(url, API_KEY, "GET", f"/v1/devices/{theirs}").json()["state"] == "active"
    assert call(url, key, "POST", f"/v1/devices/{mine}/revoke").status_code == 200


def test_an_app_sees_only_its_own_challenges(commands: Commands) -> None:
    url = commands.server.url
    enroll(url, "olive")
    first = create_app(commands, "shop", "challenges")
    second = create_app(commands, "blog", "challenges")
    created = call(url, first, "POST", "/v1/challenges", {"user_id": "olive"})
    assert created.status_code == 201, created.text
    challenge_id = created.json()["challenge_id"]
    unknown = call(url, second, "GET", "/v1/challenges/ch_doesnotexist")
    for method, path in [
        ("GET", f"/v1/challenges/{challenge_id}"),
        ("GET", f"/v1/challenges/{challenge_id}/wait"),
        ("GET", f"/v1/challenges/{challenge_id}/events"),
        ("POST", f"/v1/challenges/{challenge_id}/cancel"),
    ]:
        other = call(url, second, method, path, timeout_seconds="0")
        assert other.status_code == 404, (path, other.text)  # as if it did not exist
        assert error_code(other) == error_code(unknown) == "challenge_not_found"
    assert call(url, first, "GET", f"/v1/challenges/{challenge_id}").status_code == 200
    assert call(url, API_KEY, "GET", f"/v1/challenges/{challenge_id}").status_code == 200
    cancelled = call(url, first, "POST", f"/v1/challenges/{challenge_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    row = _wait_for_audit(commands, {"event": "challenge.cancelled", "app": "shop"})
    assert row["challenge_id"] == challenge_id
    # Reads are audited, folded per challenge and app, by the background writer.
    read = _wait_for_audit(commands, {"event": "challenge.read", "app": "shop"})
    assert read["challenge_id"] == challenge_id
    assert read["detail"]["count"] >= 1  # type: ignore[index]
    rows = _audit(commands)
    assert not any(
        r["event"] == "challenge.read" and (r["detail"] or {}).get("app") == "blog"  # type: ignore[union-attr]
        for r in rows
    )


def test_issuing_a_token_and_unlocking_name_the_app(commands: Commands) -> None:
    url = commands.server.url
    enroll(url, "ulla")
    portal = create_app(commands, "portal", "enrollment")
    ops = create_app(commands, "ops", "admin")
    assert call(url, portal, "POST", "/v1/enrollment-tokens", {"user_id": "ulla"}).is_success
    assert call(url, ops, "POST", "/v1/users/ulla/unlock").is_success
    assert call(url, ops, "GET", "/v1/audit").is_success
    _wait_for_audit(commands, {"event": "enrollment.token_issued", "app": "portal"})
    _wait_for_audit(commands, {"event": "user.unlocked", "app": "ops"})
    _wait_for_audit(commands, {"event": "audit.read", "app": "ops"})


def test_a_rotated_key_works_during_its_grace_and_stops_after(commands: Commands) -> None:
    url = commands.server.url
    old = create_app(commands, "rotating", "admin")
    rotated = commands.pushauth("apps", "rotate", "rotating", "--grace", "3s", "--json")
    assert rotated.returncode == 0, rotated.stderr
    data = json.loads(rotated.stdout)
    new, stops_ms = data["key"], _ms(data["old_keys_stop_at"])
    assert new != old
    assert new.startswith("pak_")
    assert [k["state"] for k in data["keys"]] == ["active", "grace"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:  # the old key: accepted until the grace ends, then refused
        answer = call(url, old, "GET", "/v1/apps")
        # The server decided before the answer arrived: a refusal that arrives before the end
        # of the grace (same host, same clock) was a refusal during the grace.
        received_ms = time.time() * 1000
        if answer.status_code == 401:
            assert received_ms >= stops_ms, "refused before its grace period ended"
            break
        assert answer.status_code == 200, answer.text
        assert time.monotonic() < deadline, "the old key never stopped"
        time.sleep(0.1)  # pacing the polls, not synchronising: the loop waits on the refusal
    assert error_code(answer) == "invalid_api_key"
    assert call(url, new, "GET", "/v1/apps").status_code == 200
    shown = json.loads(commands.pushauth("apps", "show", "rotating", "--json").stdout)
    assert [k["state"] for k in shown["keys"]] == ["active", "expired"]


def test_rotation_with_no_grace_and_revocation_stop_keys_at_once(commands: Commands) -> None:
    url = commands.server.url
    old = create_app(commands, "quick", "challenges")
    rotated = commands.pushauth("apps", "rotate", "quick", "--grace", "0", "--json")
    new = json.loads(rotated.stdout)["key"]
    assert error_code(call(url, old, "GET", "/v1/challenges/ch_x")) == "invalid_api_key"
    assert call(url, new, "GET", "/v1/challenges/ch_x").status_code == 404
    revoked = commands.pushauth("apps", "revoke", "quick", "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["state"] == "revoked"
    assert error_code(call(url, new, "GET", "/v1/challenges/ch_x")) == "invalid_api_key"
    again = commands.pushauth("apps", "rotate", "quick")
    assert again.returncode == 5
    assert "app_revoked" in again.stderr


def test_the_operator_app_is_the_bootstrap_key(commands: Commands) -> None:
    listed = json.loads(commands.pushauth("apps", "list", "--json").stdout)["apps"]
    [operator] = [a for a in listed if a["name"] == "operator"]
    assert operator["bootstrap"]
    assert operator["scopes"] == ["admin", "challenges", "enrollment"]
    for action in (("rotate",), ("revoke",), ("update", "--display-name", "Root")):
        refused = commands.pushauth("apps", *action[:1], "operator", *action[1:])
        assert refused.returncode == 5
        assert "operator_app_fixed" in refused.stderr
        if action != ("update", "--display-name", "Root"):
            assert "PUSHAUTH_API_KEY" in refused.stderr


def test_keys_are_shown_once_and_stored_only_as_hashes(commands: Commands) -> None:
    created = commands.pushauth("apps", "create", "hashed", "--scope", "challenges", "--json")
    key = json.loads(created.stdout)["key"]
    assert len(key) >= len("pak_") + 43  # 256 random bits, base64url
    table = commands.pushauth("apps", "create", "printed")
    assert table.stdout.strip().startswith("pak_")  # the key alone on stdout; words on stderr
    for args in (("apps", "list", "--json"), ("apps", "show", "hashed", "--json")):
        assert key not in commands.pushauth(*args).stdout
    database = Path(commands.server.workdir) / "pushauth.db"
    for path in database.parent.glob("pushauth.db*"):
        assert key.encode() not in path.read_bytes()
    assert key not in "".join(commands.server.log)


def test_bad_names_and_display_names_are_refused(commands: Commands) -> None:
    url = commands.server.url
    assert commands.pushauth("apps", "create", "Bad Name").returncode == 2  # checked locally
    for body in (
        {"name": "UPPER", "scopes": ["admin"]},
        {"name": "ok", "scopes": []},
        {"name": "ok", "scopes": ["root"]},
        {"name": "ok", "scopes": ["admin"], "display_name": "evil\u202emoc"},
        {"name": "ok", "scopes": ["admin"], "display_name": "x" * 65},
        {"name": "ok", "scopes": ["admin"], "users": []},
        {"name": "ok", "scopes": ["admin"], "users": ["a b"]},
    ):
        refused = call(url, API_KEY, "POST", "/v1/apps", body)
        assert refused.status_code == 400, (body, refused.text)
    create_app(commands, "taken", "admin")
    again = call(url, API_KEY, "POST", "/v1/apps", {"name": "taken", "scopes": ["admin"]})
    assert error_code(again) == "app_name_taken"
    updated = commands.pushauth("apps", "update", "taken", "--display-name", "Taken Inc", "--json")
    assert json.loads(updated.stdout)["display_name"] == "Taken Inc"


@pytest.mark.parametrize("flush", ["restart"])
def test_last_used_is_kept_without_a_write_per_request(commands: Commands, flush: str) -> None:
    key = create_app(commands, "used", "challenges")
    assert call(commands.server.url, key, "GET", "/v1/challenges/ch_x").status_code == 404
    shown = json.loads(commands.pushauth("apps", "show", "used", "--json").stdout)
    assert shown["last_used_at"] is not None  # this process's memory
    commands.server.restart()  # written at shutdown
    shown = json.loads(commands.pushauth("apps", "show", "used", "--json").stdout)
    assert shown["last_used_at"] is not None
