"""The asking application, with real parts (issue 11 items 3 and 5): ``pushauth serve``, the
``pushauth`` CLI and ``pushauth-device`` (keys in the Secret Service), over real sockets. The
device shows which application asks and signs it; a relying party cannot change it; an account
says which server and application it enrolled through."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.integration.helpers import audit_events, challenge, enroll_device, signin_no_wait
from tests.support.processes import API_KEY, Commands


def test_the_device_shows_and_signs_the_asking_application(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "amelia")
    created = signin_no_wait(commands, "amelia", "--note", "VPN login")
    challenge_id = str(created["challenge_id"])
    read_back = challenge(commands, challenge_id)["context"]
    assert read_back["application"] == "Operator"  # type: ignore[index]

    listed = commands.device(home, "pending")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    # First after the challenge id: which application asks.
    assert line.split("  ")[:2] == [challenge_id, "application='Operator'"]
    as_json = commands.device(home, "pending", "--json")
    [shown] = json.loads(as_json.stdout)
    assert shown["context"]["application"] == "Operator"

    # The device signs the context hash with the application in it: the server accepts it.
    code = str(created["verification_code"])
    approved = commands.device(home, "approve", challenge_id, "--code", code)
    assert approved.returncode == 0, approved.stderr
    assert "asked by Operator" in " ".join(approved.stderr.split())
    waited = commands.pushauth("wait", challenge_id, "--json")
    assert json.loads(waited.stdout)["status"] == "approved"

    rows = [row for row in audit_events(commands, "amelia") if row["challenge_id"] == challenge_id]
    assert [row["event"] for row in rows] == ["challenge.created", "challenge.approved"]
    assert all(row["context"]["application"] == "Operator" for row in rows)
    assert rows[0]["detail"] == {"app": "operator", "app_id": "app_operator"}
    assert rows[1]["receipt"]["protocol_version"] == 3
    verified = commands.pushauth("audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_relying_party_cannot_choose_the_application(commands: Commands, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    enroll_device(commands, home, "ruth")
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{commands.server.url}/v1/challenges"
    spoof = {"user_id": "ruth", "context": {"application": "Payroll", "note": "VPN login"}}
    refused = httpx.post(url, json=spoof, headers=headers)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request"
    assert "application" in error["message"]
    nothing = commands.device(home, "pending", "--json")
    assert json.loads(nothing.stdout) == []  # nothing was created or pushed

    # Nor as a custom field that would be shown like the device's own "Application" row.
    posing = {"user_id": "ruth", "context": {"custom": {"Application": "Payroll"}}}
    refused = httpx.post(url, json=posing, headers=headers)
    assert refused.status_code == 400, refused.text
    assert "'Application' row" in refused.json()["error"]["message"]
    assert json.loads(commands.device(home, "pending", "--json").stdout) == []

    own = {"user_id": "ruth", "context": {"custom": {"payroll": "May"}}}
    created = httpx.post(url, json=own, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    [shown] = json.loads(commands.device(home, "pending", "--json").stdout)
    assert shown["context"]["application"] == "Operator"
    assert shown["context"]["custom"] == {"payroll": "May"}
    approved = commands.device(
        home, "approve", body["challenge_id"], "--code", body["verification_code"]
    )
    assert approved.returncode == 0, approved.stderr


def test_accounts_say_which_server_and_application_they_enrolled_through(
    commands: Commands, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    credential_id = enroll_device(commands, home, "enid")
    listed = commands.device(home, "accounts", "--json")
    [account] = json.loads(listed.stdout)
    assert account["credential_id"] == credential_id
    assert account["server_url"] == commands.server.url
    assert (account["app_name"], account["app_display_name"]) == ("operator", "Operator")
    text = commands.device(home, "accounts")
    [line] = text.stdout.splitlines()
    assert line.split("\t")[:3] == ["enid", commands.server.url, "Operator"]

    # An account enrolled before servers named the application: a dash, never an error.
    path = home / "accounts.json"
    stored = json.loads(path.read_text("utf-8"))
    for item in stored["accounts"]:
        del item["app_name"], item["app_display_name"]
    path.write_text(json.dumps(stored), "utf-8")
    old = commands.device(home, "accounts")
    assert old.returncode == 0, old.stderr
    assert old.stdout.split("\t")[2] == "—"
    old_json = commands.device(home, "accounts", "--json")
    assert json.loads(old_json.stdout)[0]["app_display_name"] is None
    still = commands.device(home, "pending")
    assert still.returncode == 0, still.stderr
