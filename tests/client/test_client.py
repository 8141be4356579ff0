"""PushAuthClient against the in-process app, and against nothing at all."""

from __future__ import annotations

import httpx
import pytest

from pushauth_server.client import (
    ChallengeNotPending,
    ClientError,
    CredentialRevoked,
    DeviceIdentity,
    NoEnrolledDevice,
    NotFound,
    PushAuthClient,
    ServerUnreachable,
    Unauthorized,
    UnexpectedResponse,
    calls,
    enrollment_proof,
)
from pushauth_server.protocol import generate_private_key
from tests.server.conftest import API_KEY, Harness, fresh_user
from tests.support.processes import free_port

BASE = "http://testserver.local"


def rp(harness: Harness, api_key: str = API_KEY) -> PushAuthClient:
    return PushAuthClient(BASE, api_key=api_key, http=harness.client)


async def enrolled(harness: Harness, user: str) -> PushAuthClient:
    token = await rp(harness).call(calls.issue_enrollment_token(user))
    key = generate_private_key()
    body = enrollment_proof(key, origin=token.server_url, token=token.token, device_name="phone")
    registration = await rp(harness).call(calls.register(**body))
    identity = DeviceIdentity(
        origin=registration.origin, credential_id=registration.credential_id, private_key=key
    )
    return PushAuthClient(BASE, identity=identity, http=harness.client)


async def test_closed_port_is_server_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with PushAuthClient(url, api_key=API_KEY, timeout=5) as client:
        with pytest.raises(ServerUnreachable, match=r"127\.0\.0\.1"):
            await client.call(calls.health())
        with pytest.raises(ServerUnreachable):
            async for _ in client.watch_challenge("ch_1"):
                pass


async def test_non_json_answer_is_an_unexpected_response() -> None:
    def not_pushauth(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    http = httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(not_pushauth))
    async with PushAuthClient(BASE, http=http) as client:
        with pytest.raises(UnexpectedResponse, match="502"):
            await client.call(calls.health())


async def test_calls_needing_credentials_fail_before_sending(harness: Harness) -> None:
    client = PushAuthClient(BASE, http=harness.client)
    with pytest.raises(ClientError, match="API key"):
        await client.call(calls.get_challenge("ch_1"))
    with pytest.raises(ClientError, match="device"):
        await client.call(calls.pending_challenges())


async def test_a_whole_sign_in_through_the_client(harness: Harness) -> None:
    user = fresh_user()
    device = await enrolled(harness, user)
    info = await rp(harness).call(calls.health())
    assert info.origin == harness.settings.origin
    created = await rp(harness).call(calls.create_challenge(user_id=user, context={"note": "VPN"}))
    assert created.status == "pending"
    assert created.devices == 1
    [pending] = await device.call(calls.pending_challenges())
    assert pending.challenge_id == created.challenge_id
    assert pending.shown["note"] == "VPN"
    assert device.identity is not None
    body = device.identity.response_body(
        pending, decision="approve", verification_code=created.verification_code
    )
    result = await device.call(calls.respond(created.challenge_id, body))
    assert result.status == "approved"
    state = await rp(harness).call(calls.get_challenge(created.challenge_id))
    assert state.is_resolved
    assert state.device_name == "phone"
    with pytest.raises(ChallengeNotPending) as replay:
        await device.call(calls.respond(created.challenge_id, body))
    assert replay.value.details["status"] == "approved"


async def test_server_errors_arrive_typed(harness: Harness) -> None:
    with pytest.raises(Unauthorized) as bad_key:
        await rp(harness, "pak_wrong").call(calls.get_challenge("ch_1"))
    assert bad_key.value.code == "invalid_api_key"
    with pytest.raises(NotFound) as unknown:
        await rp(harness).call(calls.get_challenge("ch_nope"))
    assert unknown.value.code == "challenge_not_found"
    with pytest.raises(NoEnrolledDevice):
        await rp(harness).call(calls.create_challenge(user_id=fresh_user()))

    user = fresh_user()
    device = await enrolled(harness, user)
    assert device.identity is not None
    await rp(harness).call(calls.revoke_device(device.identity.credential_id))
    with pytest.raises(CredentialRevoked):
        await device.call(calls.pending_challenges())
