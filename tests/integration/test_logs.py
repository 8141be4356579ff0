"""The server's log lines, read from a real ``pushauth serve``: one per request and per security
event, in json and in text, with the facts an operator needs — and never a secret.

A full flow runs through it (enroll, a sign-in with number matching, the device's approval, a
device request with a proof whose nonce and signature the test knows, a refused API key, a
metrics scrape); then every secret of that flow is looked for in every line.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.helpers import api_device, audit_events, challenge, start_signin
from tests.server.server_log import wait_for_lines
from tests.support.processes import API_KEY, Commands, running_server

METRICS_TOKEN = "mt_" + "m" * 40
WRONG_KEY = "pak_wrong-" + "w" * 40


def _parse(line: str, log_format: str) -> dict[str, Any] | None:
    """A pushauth log line as a dict (None for lines that are not log lines: the banners)."""
    line = line.rstrip("\n")
    if log_format == "json":
        if not line.startswith("{"):
            return None
        parsed: dict[str, Any] = json.loads(line)
        return parsed
    parts = line.split(" ", 3)
    if len(parts) < 4 or not re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", parts[0]):
        return None
    fields: dict[str, Any] = {"level": parts[1].lower(), "logger": parts[2]}
    for token in shlex.split(parts[3]):
        key, sep, value = token.partition("=")
        if sep and re.fullmatch(r"[a-z_]+", key):
            fields[key] = value
    return fields


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_one_line_per_request_and_security_event_and_no_secret(
    log_format: str, tmp_path: Path, keyring_env: dict[str, str]
) -> None:
    workdir = tmp_path / "server"
    workdir.mkdir()
    with running_server(
        workdir,
        f"sqlite:///{workdir / 'pushauth.db'}",
        {"PUSHAUTH_METRICS_TOKEN": METRICS_TOKEN},
        args=["--log-level", "info", "--log-format", log_format],
    ) as server:
        commands = Commands(server=server, env_extra=keyring_env)
        secrets: list[str] = [API_KEY, WRONG_KEY, METRICS_TOKEN]

        # Enroll (the token is a secret), sign in with number matching, approve.
        issued = commands.pushauth("enroll", "alice", "--json")
        assert issued.returncode == 0, issued.stderr
        token = json.loads(issued.stdout)["token"]
        secrets.append(token)
        home = tmp_path / "phone"
        enrolled = commands.device(
            home, "enroll", "--server", server.url, "--token", token, "--json"
        )
        assert enrolled.returncode == 0, enrolled.stderr
        credential_id = json.loads(enrolled.stdout)["credential_id"]
        signin, challenge_id = start_signin(commands, "alice", "--json")
        code = str(challenge(commands, challenge_id)["verification_code"])
        approved = commands.device(home, "approve", challenge_id, "--code", code)
        assert approved.returncode == 0, approved.stderr
        _out, err = signin.communicate(timeout=60)
        assert signin.returncode == 0, err
        rows = audit_events(commands, "alice")
        [approval] = [row for row in rows if row["event"] == "challenge.approved"]
        secrets += [approval["receipt"]["signature"], approval["receipt"]["nonce"]]

        # A device request whose proof the test made: its nonce and signature are known.
        device = await api_device(commands, "bob")
        assert device.identity is not None
        proof = device.identity.proof_headers("GET", "/v1/device/challenges")
        secrets += [proof["X-PushAuth-Nonce"], proof["X-PushAuth-Signature"]]
        async with httpx.AsyncClient(base_url=server.url) as http:
            listed = await http.get("/v1/device/challenges", headers=proof)
            refused = await http.get("/v1/users", headers={"Authorization": f"Bearer {WRONG_KEY}"})
            wrong_token = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            scraped = await http.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
        await device.aclose()
        assert listed.status_code == 200
        assert refused.status_code == 401
        assert scraped.status_code == 200
        assert wrong_token.status_code == 401
        last_id = scraped.headers["x-request-id"]
        await asyncio.to_thread(wait_for_lines, server, last_id, 1)
        log = list(server.log)

    # Never a key, token, code, signature or nonce.
    text = "".join(log)
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:12]}…"
    assert not re.search(rf"(?<![\w.]){code}(?![\w.])", text), "the verification code is logged"

    lines = [parsed for line in log if (parsed := _parse(line, log_format)) is not None]
    requests = {line["request_id"]: line for line in lines if line["logger"] == "pushauth.request"}
    # One line per request, found by the id the response carried.
    device_line = requests[listed.headers["x-request-id"]]
    assert device_line["route"] == "/v1/device/challenges"
    assert device_line["method"] == "GET"
    assert str(device_line["status"]) == "200"
    assert float(device_line["duration_ms"]) >= 0
    assert device_line["credential_id"] == device.identity.credential_id
    assert "app" not in device_line
    refused_line = requests[refused.headers["x-request-id"]]
    assert str(refused_line["status"]) == "401"
    assert refused_line["error"] == "invalid_api_key"
    creates = [
        line
        for line in requests.values()
        if line["route"] == "/v1/challenges" and line["method"] == "POST"
    ]
    assert creates
    assert all(line["app"] == "operator" for line in creates)
    responses = [line for line in requests.values() if line["route"].endswith("/response")]
    assert [line["credential_id"] for line in responses] == [credential_id]
    assert responses[0]["route"] == "/v1/device/challenges/{challenge_id}/response"
    assert len(requests) == len([line for line in lines if line["logger"] == "pushauth.request"])
    # The refused key is a security event line of its own.
    security = [line for line in lines if line["logger"] == "pushauth.security"]
    assert [line["event"] for line in security] == [
        "security.invalid_api_key",
        "security.invalid_metrics_token",
    ]
    assert {line["client"] for line in security} == {"127.0.0.1"}
