"""Bad input of every kind: a 4xx with our error code and a clear message, never a 500, and
never a change of state (every state table is compared before and after).

Every case here is refused without a change of state — which each case asserts — so the cases
share one app and one world (module scope), which keeps a hundred cases fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from tests.server.conftest import Device, Harness, assert_error, fresh_user, running_harness


@dataclass
class World:
    """An enrolled user with nothing pending (for creates), and one with a pending challenge."""

    idle: Device
    busy: Device
    challenge: dict[str, Any]


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    # A hundred refused requests from one address: above the per-address limit of a real server.
    async with running_harness(
        tmp_path_factory.mktemp("validation"), failed_requests_per_minute=10_000
    ) as started:
        yield started


@pytest.fixture
def harness(shared: Harness) -> Harness:
    return shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(shared: Harness) -> World:
    harness = shared
    idle = await harness.enroll(fresh_user("idle"))
    busy = await harness.enroll(fresh_user("busy"))
    challenge = await harness.create(busy.user_id)
    return World(idle=idle, busy=busy, challenge=challenge)


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    status: int
    code: str
    json: Callable[[World], Any] | None = None
    content: bytes | None = None
    api_key: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def create(name: str, status: int = 400, code: str = "invalid_request", **body: Any) -> Case:
    def build(world: World) -> Any:
        result: dict[str, Any] = {"user_id": world.idle.user_id}
        result.update(body)
        return {k: v for k, v in result.items() if v is not ...}  # ... drops a field

    return Case(name, "POST", lambda w: "/v1/challenges", status, code, json=build)


def response_body(name: str, **body: Any) -> Case:
    def build(world: World) -> Any:
        result: dict[str, Any] = {
            "credential_id": world.busy.credential_id,
            "decision": "approve",
            "reason": "",
            "verification_code": world.challenge["verification_code"],
            "signature": "A" * 86,
        }
        result.update(body)
        return {k: v for k, v in result.items() if v is not ...}

    return Case(
        name,
        "POST",
        lambda w: f"/v1/device/challenges/{w.challenge['challenge_id']}/response",
        400,
        "invalid_request",
        json=build,
        api_key=False,
    )


def register(name: str, status: int = 400, code: str = "invalid_request", **body: Any) -> Case:
    def build(_: World) -> Any:
        result: dict[str, Any] = {
            "token": "pet_unknown",
            "public_key": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
            "device_name": "phone",
            "signature": "A" * 86,
        }
        result.update(body)
        return {k: v for k, v in result.items() if v is not ...}

    return Case(name, "POST", lambda w: "/v1/device/register", status, code, json=build)


def challenges_path(_: World) -> str:
    return "/v1/challenges"


CASES = [
    # Creating a challenge.
    Case("malformed json", "POST", challenges_path, 400, "invalid_request", content=b"{nope"),
    Case("json not an object", "POST", challenges_path, 400, "invalid_request", json=lambda w: []),
    Case("empty body", "POST", challenges_path, 400, "invalid_request", content=b""),
    create("missing user_id", user_id=...),
    create("user_id wrong type", user_id=5),
    create("user_id empty", user_id=""),
    create("user_id too long", user_id="u" * 129),
    create("user_id bad characters", user_id="alice smith"),
    create("number_matching wrong type", number_matching="yes"),
    create("action bad pattern", action="1 drop table"),
    create("unknown top-level field", admin=True),
    create("unknown context field", context={"evil": "1"}),
    create("context wrong type", context="note"),
    create("note too long", context={"note": "n" * 501}),
    create("user agent too long", context={"initiator_user_agent": "a" * 513}),
    create("too many custom items", context={"custom": {f"k{i}": "v" for i in range(17)}}),
    create("custom value too long", context={"custom": {"k": "v" * 257}}),
    create("custom value wrong type", context={"custom": {"k": 1}}),
    create("initiator_ip not an ip", context={"initiator_ip": "not-an-ip"}),
    create("initiator_ip out of range", context={"initiator_ip": "256.1.1.1"}),
    create("initiator_ip with port", context={"initiator_ip": "10.0.0.1:443"}),
    create("expires_in_seconds zero", expires_in_seconds=0),
    create("expires_in_seconds negative", expires_in_seconds=-5),
    create("expires_in_seconds over schema max", expires_in_seconds=3601),
    create("expires_in_seconds over server max", code="invalid_timeout", expires_in_seconds=601),
    create("plain approval refused", code="number_matching_required", number_matching=False),
    create("body over max_request_bytes", 413, "payload_too_large", context={"note": "n" * 70_000}),
    Case(
        "no enrolled device",
        "POST",
        challenges_path,
        409,
        "no_enrolled_device",
        json=lambda w: {"user_id": "nobody-enrolled"},
    ),
    # Relying-party reads and actions on unknown or malformed ids.
    Case(
        "unknown challenge", "GET", lambda w: "/v1/challenges/ch_nope", 404, "challenge_not_found"
    ),
    Case(
        "events of unknown challenge",
        "GET",
        lambda w: "/v1/challenges/ch_nope/events",
        404,
        "challenge_not_found",
    ),
    Case(
        "wait on unknown challenge",
        "GET",
        lambda w: "/v1/challenges/ch_nope/wait?timeout_seconds=0",
        404,
        "challenge_not_found",
    ),
    Case(
        "cancel unknown challenge",
        "POST",
        lambda w: "/v1/challenges/ch_nope/cancel",
        404,
        "challenge_not_found",
    ),
    Case(
        "challenge id too long",
        "GET",
        lambda w: "/v1/challenges/" + "c" * 65,
        400,
        "invalid_request",
    ),
    Case(
        "wait timeout too long",
        "GET",
        lambda w: f"/v1/challenges/{w.challenge['challenge_id']}/wait?timeout_seconds=61",
        400,
        "invalid_request",
    ),
    Case(
        "wait timeout not a number",
        "GET",
        lambda w: f"/v1/challenges/{w.challenge['challenge_id']}/wait?timeout_seconds=soon",
        400,
        "invalid_request",
    ),
    Case(
        "revoke unknown credential",
        "POST",
        lambda w: "/v1/devices/cr_nope/revoke",
        404,
        "credential_not_found",
    ),
    Case(
        "list devices bad user id",
        "GET",
        lambda w: "/v1/users/a%20b/devices",
        400,
        "invalid_request",
    ),
    Case("unknown route", "GET", lambda w: "/v1/nothing-here", 404, "route_not_found"),
    Case(
        "wrong method",
        "DELETE",
        lambda w: f"/v1/challenges/{w.challenge['challenge_id']}",
        405,
        "method_not_allowed",
    ),
    # Enrollment tokens.
    Case(
        "token user_id wrong type",
        "POST",
        lambda w: "/v1/enrollment-tokens",
        400,
        "invalid_request",
        json=lambda w: {"user_id": ["alice"]},
    ),
    Case(
        "token unknown field",
        "POST",
        lambda w: "/v1/enrollment-tokens",
        400,
        "invalid_request",
        json=lambda w: {"user_id": "alice", "ttl": 10},
    ),
    Case(
        "token malformed json",
        "POST",
        lambda w: "/v1/enrollment-tokens",
        400,
        "invalid_request",
        content=b'{"user_id": ',
    ),
    # Device registration.
    register("register missing signature", signature=...),
    register("register unknown field", user_id="someone-else"),
    register("register token too long", token="t" * 129),
    register("register device name too long", device_name="d" * 65),
    register("register invalid public key", public_key="not-a-key"),
    register("register public key wrong length", public_key="AAAA"),
    register("register empty device name", device_name=""),
    # Responses.
    response_body("response unknown decision", decision="maybe"),
    response_body("response unknown reason", decision="deny", reason="bored"),
    response_body("response code with letters", verification_code="12a456"),
    response_body("response code too long", verification_code="123456789"),
    response_body("response signature too long", signature="A" * 129),
    response_body("response missing credential", credential_id=...),
    response_body("response missing signature", signature=...),
    response_body("response unknown field", challenge_id="ch_other"),
    response_body("response decision wrong type", decision=True),
    Case(
        "response malformed json",
        "POST",
        lambda w: f"/v1/device/challenges/{w.challenge['challenge_id']}/response",
        400,
        "invalid_request",
        content=b"decision=approve",
        api_key=False,
    ),
    Case(
        "response unknown challenge",
        "POST",
        lambda w: "/v1/device/challenges/ch_nope/response",
        404,
        "challenge_not_found",
        json=lambda w: {
            "credential_id": w.busy.credential_id,
            "decision": "approve",
            "verification_code": "123456",
            "signature": "A" * 86,
        },
        api_key=False,
    ),
    Case(
        "response unknown credential",
        "POST",
        lambda w: f"/v1/device/challenges/{w.challenge['challenge_id']}/response",
        401,
        "unknown_credential",
        json=lambda w: {
            "credential_id": "cr_nope",
            "decision": "approve",
            "verification_code": w.challenge["verification_code"],
            "signature": "A" * 86,
        },
        api_key=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_bad_input_is_refused_without_a_change_of_state(
    harness: Harness, world: World, case: Case
) -> None:
    before = await harness.snapshot()
    kwargs: dict[str, Any] = {"headers": dict(case.headers)}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    if case.content is not None:
        kwargs["content"] = case.content
        kwargs["headers"]["content-type"] = "application/json"
    if case.api_key:
        response = await harness.rp(case.method, case.path(world), **kwargs)
    else:
        response = await harness.client.request(case.method, case.path(world), **kwargs)
    assert_error(response, case.status, case.code)
    assert await harness.snapshot() == before


async def test_case_names_are_unique() -> None:
    assert len({case.name for case in CASES}) == len(CASES)


async def test_validation_problems_name_the_field(harness: Harness, world: World) -> None:
    response = await harness.rp(
        "POST",
        "/v1/challenges",
        json={"user_id": world.idle.user_id, "context": {"note": "n" * 501}},
    )
    error = assert_error(response, 400, "invalid_request")
    assert "note" in error["message"]


RP_ROUTES: list[tuple[str, Callable[[World], str], Callable[[World], Any] | None]] = [
    ("POST", challenges_path, lambda w: {"user_id": w.idle.user_id}),
    ("GET", lambda w: f"/v1/challenges/{w.challenge['challenge_id']}", None),
    ("GET", lambda w: f"/v1/challenges/{w.challenge['challenge_id']}/wait?timeout_seconds=0", None),
    ("GET", lambda w: f"/v1/challenges/{w.challenge['challenge_id']}/events", None),
    ("POST", lambda w: f"/v1/challenges/{w.challenge['challenge_id']}/cancel", None),
    ("POST", lambda w: "/v1/enrollment-tokens", lambda w: {"user_id": w.idle.user_id}),
    ("GET", lambda w: f"/v1/users/{w.busy.user_id}/devices", None),
    ("POST", lambda w: f"/v1/devices/{w.busy.credential_id}/revoke", None),
]
BAD_KEYS = {
    "missing": {},
    "wrong key": {"Authorization": "Bearer pak_wrong"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic scheme": {"Authorization": "Basic cGFrOnBhaw=="},
    "key without scheme": {"Authorization": "pak_unit-" + "k" * 40},
}


@pytest.mark.parametrize("key", sorted(BAD_KEYS))
@pytest.mark.parametrize(
    "route", RP_ROUTES, ids=[f"{m} {i}" for i, (m, _, _) in enumerate(RP_ROUTES)]
)
async def test_relying_party_routes_need_the_api_key(
    harness: Harness,
    world: World,
    route: tuple[str, Callable[[World], str], Callable[[World], Any] | None],
    key: str,
) -> None:
    method, path, body = route
    before = await harness.snapshot()
    response = await harness.client.request(
        method,
        path(world),
        headers=BAD_KEYS[key],
        json=body(world) if body else None,
    )
    assert_error(response, 401, "invalid_api_key")
    assert await harness.snapshot() == before


async def test_the_right_api_key_is_accepted(harness: Harness, world: World) -> None:
    response = await harness.rp("GET", f"/v1/challenges/{world.challenge['challenge_id']}")
    assert response.status_code == 200
