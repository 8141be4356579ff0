"""Identifiers are whole strings and visible text is plain (issue 9): a trailing newline, a C0/C1
control, a bidi override or a zero-width character is a 400 that names the field."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from pushauth_server.client import enrollment_proof
from pushauth_server.protocol import generate_private_key
from tests.server.conftest import Device, Harness, assert_error, fresh_user

BAD = ["\n", "\x1b", "\x85", "\u202e", "\u200b", "\ufeff"]


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\x00"])
async def test_a_user_id_with_a_trailing_newline_is_refused(harness: Harness, suffix: str) -> None:
    user = fresh_user() + suffix
    for path, body in [
        ("/v1/enrollment-tokens", {"user_id": user}),
        ("/v1/challenges", {"user_id": user}),
    ]:
        error = assert_error(await harness.rp("POST", path, json=body), 400, "invalid_request")
        assert "user_id" in error["message"]


@pytest.mark.parametrize("char", BAD)
async def test_user_ids_in_paths_and_queries_are_whole_strings(harness: Harness, char: str) -> None:
    user = quote(fresh_user() + char, safe="")
    for path in (f"/v1/users/{user}/devices", f"/v1/audit?user_id={user}"):
        error = assert_error(await harness.rp("GET", path), 400, "invalid_request")
        assert "user_id" in error["message"], path


@pytest.mark.parametrize("char", BAD)
async def test_a_device_name_must_be_plain_text(harness: Harness, char: str) -> None:
    token = await harness.issue_token(fresh_user())
    body = enrollment_proof(
        generate_private_key(),
        origin=harness.settings.origin,
        token=token,
        device_name=f"phone{char}",
    )
    response = await harness.client.post("/v1/device/register", json=body)
    error = assert_error(response, 400, "invalid_request")
    assert "device_name" in error["message"]


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"note": "VPN login{c}"}, "context.note"),
        ({"initiator_host": "vpn{c}.example.com"}, "context.initiator_host"),
        ({"initiator_user_agent": "curl{c}"}, "context.initiator_user_agent"),
        ({"initiator_ip": "203.0.113.7{c}"}, "context.initiator_ip"),
        ({"custom": {"ticket": "T-42{c}"}}, "context.custom"),
        ({"custom": {"tic{c}ket": "T-42"}}, "context.custom"),
    ],
)
async def test_every_context_field_must_be_plain_text(
    harness: Harness, device: Device, char: str, context: dict[str, object], named: str
) -> None:
    filled = {
        k: (
            v.format(c=char)
            if isinstance(v, str)
            else {kk.format(c=char): vv.format(c=char) for kk, vv in v.items()}
        )  # type: ignore[attr-defined]
        for k, v in context.items()
    }
    response = await harness.rp(
        "POST", "/v1/challenges", json={"user_id": device.user_id, "context": filled}
    )
    error = assert_error(response, 400, "invalid_request")
    assert named in error["message"]
