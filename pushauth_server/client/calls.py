"""Every API call as data: method, path, body, who signs it, and how to read the answer.

Keeping calls transport-free means the one client (:class:`~.client.PushAuthClient`) sends them
all the same way, and the tests can check each call's shape without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pushauth_server.client.models import (
    ChallengeState,
    Device,
    EnrollmentToken,
    PendingChallenge,
    Registration,
    ResponseResult,
    ServerInfo,
    UserSummary,
)

T = TypeVar("T")
Auth = Literal["none", "api_key", "device"]


@dataclass(frozen=True, kw_only=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    auth: Auth = "none"
    json: Any = None
    params: Mapping[str, str | float] = field(default_factory=dict)


def _seg(value: str) -> str:
    return quote(value, safe="")


def health() -> Call[ServerInfo]:
    return Call(method="GET", path="/health", parse=ServerInfo.from_json)


def issue_enrollment_token(user_id: str) -> Call[EnrollmentToken]:
    return Call(
        method="POST",
        path="/v1/enrollment-tokens",
        auth="api_key",
        json={"user_id": user_id},
        parse=EnrollmentToken.from_json,
    )


def create_challenge(
    *,
    user_id: str,
    action: str = "signIn",
    context: Mapping[str, str] | None = None,
    custom: Mapping[str, str] | None = None,
    expires_in_seconds: float | None = None,
    number_matching: bool = True,
    replace_pending: bool = False,
) -> Call[ChallengeState]:
    body: dict[str, Any] = {
        "user_id": user_id,
        "action": action,
        # ``context``: shown fields by name (protocol.CONTEXT_FIELDS), e.g. {"note": "VPN login"}.
        "context": {**(context or {}), "custom": dict(custom or {})},
        "number_matching": number_matching,
        "replace_pending": replace_pending,
    }
    if expires_in_seconds is not None:
        body["expires_in_seconds"] = expires_in_seconds
    return Call(
        method="POST",
        path="/v1/challenges",
        auth="api_key",
        json=body,
        parse=ChallengeState.from_json,
    )


def get_challenge(challenge_id: str) -> Call[ChallengeState]:
    return Call(
        method="GET",
        path=f"/v1/challenges/{_seg(challenge_id)}",
        auth="api_key",
        parse=ChallengeState.from_json,
    )


def wait_challenge(challenge_id: str, timeout_seconds: float) -> Call[ChallengeState]:
    """The long-poll form: returns when resolved, or after ``timeout_seconds`` still pending."""
    return Call(
        method="GET",
        path=f"/v1/challenges/{_seg(challenge_id)}/wait",
        auth="api_key",
        params={"timeout_seconds": timeout_seconds},
        parse=ChallengeState.from_json,
    )


def challenge_events_path(challenge_id: str) -> str:
    return f"/v1/challenges/{_seg(challenge_id)}/events"


def cancel_challenge(challenge_id: str) -> Call[ChallengeState]:
    return Call(
        method="POST",
        path=f"/v1/challenges/{_seg(challenge_id)}/cancel",
        auth="api_key",
        parse=ChallengeState.from_json,
    )


def list_devices(user_id: str) -> Call[list[Device]]:
    return Call(
        method="GET",
        path=f"/v1/users/{_seg(user_id)}/devices",
        auth="api_key",
        parse=lambda data: [Device.from_json(item) for item in data],
    )


def list_all_devices() -> Call[list[Device]]:
    """Every user's devices, by user then enrollment time."""
    return Call(
        method="GET",
        path="/v1/devices",
        auth="api_key",
        parse=lambda data: [Device.from_json(item) for item in data],
    )


def get_device(credential_id: str) -> Call[Device]:
    return Call(
        method="GET",
        path=f"/v1/devices/{_seg(credential_id)}",
        auth="api_key",
        parse=Device.from_json,
    )


def list_users() -> Call[list[UserSummary]]:
    """The users who have, or had, an enrolled device."""
    return Call(
        method="GET",
        path="/v1/users",
        auth="api_key",
        parse=lambda data: [UserSummary.from_json(item) for item in data],
    )


def revoke_device(credential_id: str) -> Call[Device]:
    return Call(
        method="POST",
        path=f"/v1/devices/{_seg(credential_id)}/revoke",
        auth="api_key",
        parse=Device.from_json,
    )


def register(
    *, token: str, public_key: str, device_name: str, signature: str
) -> Call[Registration]:
    return Call(
        method="POST",
        path="/v1/device/register",
        json={
            "token": token,
            "public_key": public_key,
            "device_name": device_name,
            "signature": signature,
        },
        parse=Registration.from_json,
    )


def pending_challenges() -> Call[list[PendingChallenge]]:
    return Call(
        method="GET",
        path="/v1/device/challenges",
        auth="device",
        parse=lambda data: [PendingChallenge.from_json(item) for item in data],
    )


DEVICE_STREAM_PATH = "/v1/device/stream"


def revoke_self() -> Call[Device]:
    """A device revoking its own credential (request proof)."""
    return Call(method="POST", path="/v1/device/revoke", auth="device", parse=Device.from_json)


def respond(challenge_id: str, body: Mapping[str, Any]) -> Call[ResponseResult]:
    return Call(
        method="POST",
        path=f"/v1/device/challenges/{_seg(challenge_id)}/response",
        json=dict(body),
        parse=ResponseResult.from_json,
    )


def user_state(user_id: str) -> Call[dict[str, Any]]:
    return Call(method="GET", path=f"/v1/users/{_seg(user_id)}/state", auth="api_key", parse=dict)


def unlock_user(user_id: str) -> Call[dict[str, Any]]:
    return Call(method="POST", path=f"/v1/users/{_seg(user_id)}/unlock", auth="api_key", parse=dict)


def audit_events(
    *, user_id: str | None = None, since_ms: int | None = None, after_id: int | None = None
) -> Call[dict[str, Any]]:
    params: dict[str, str | float] = {}
    if user_id is not None:
        params["user_id"] = user_id
    if since_ms is not None:
        params["since_ms"] = since_ms
    if after_id is not None:
        params["after_id"] = after_id
    return Call(method="GET", path="/v1/audit", auth="api_key", params=params, parse=dict)


AUDIT_STREAM_PATH = "/v1/audit/stream"


def verify_audit(since_head: str | None = None) -> Call[dict[str, Any]]:
    params: dict[str, str | float] = {} if since_head is None else {"since_head": since_head}
    return Call(method="POST", path="/v1/audit/verify", auth="api_key", params=params, parse=dict)


def audit_head() -> Call[dict[str, Any]]:
    return Call(method="GET", path="/v1/audit/head", auth="api_key", parse=dict)


# --- webhooks (admin scope) ---------------------------------------------------------------------


def _listed(data: Any) -> list[dict[str, Any]]:
    return [dict(item) for item in data]


def add_webhook(*, url: str, app: str, events: list[str] | None = None) -> Call[dict[str, Any]]:
    """Register an endpoint; the answer's ``secret`` (whsec_...) is shown this once."""
    body: dict[str, Any] = {"url": url, "app": app}
    if events:
        body["events"] = list(events)
    return Call(method="POST", path="/v1/webhooks", auth="api_key", json=body, parse=dict)


def list_webhooks(app: str | None = None) -> Call[list[dict[str, Any]]]:
    params: dict[str, str | float] = {} if app is None else {"app": app}
    return Call(method="GET", path="/v1/webhooks", auth="api_key", params=params, parse=_listed)


def remove_webhook(endpoint_id: str) -> Call[dict[str, Any]]:
    return Call(
        method="DELETE", path=f"/v1/webhooks/{_seg(endpoint_id)}", auth="api_key", parse=dict
    )


def send_test_webhook(endpoint_id: str) -> Call[dict[str, Any]]:
    return Call(
        method="POST", path=f"/v1/webhooks/{_seg(endpoint_id)}/test", auth="api_key", parse=dict
    )


def rotate_webhook_secret(endpoint_id: str) -> Call[dict[str, Any]]:
    return Call(
        method="POST",
        path=f"/v1/webhooks/{_seg(endpoint_id)}/rotate-secret",
        auth="api_key",
        parse=dict,
    )


def webhook_deliveries(
    *, status: str | None = None, endpoint_id: str | None = None, limit: int = 100
) -> Call[list[dict[str, Any]]]:
    params: dict[str, str | float] = {"limit": limit}
    if status is not None:
        params["status"] = status
    if endpoint_id is not None:
        params["endpoint_id"] = endpoint_id
    return Call(
        method="GET",
        path="/v1/webhooks/deliveries",
        auth="api_key",
        params=params,
        parse=_listed,
    )


def retry_webhook_delivery(delivery_id: str) -> Call[dict[str, Any]]:
    return Call(
        method="POST",
        path=f"/v1/webhooks/deliveries/{_seg(delivery_id)}/retry",
        auth="api_key",
        parse=dict,
    )


# --- applications (admin scope) ------------------------------------------------------------------


def list_apps() -> Call[list[dict[str, Any]]]:
    return Call(method="GET", path="/v1/apps", auth="api_key", parse=list)


def get_app(name: str) -> Call[dict[str, Any]]:
    return Call(method="GET", path=f"/v1/apps/{_seg(name)}", auth="api_key", parse=dict)


def create_app(
    *,
    name: str,
    scopes: list[str],
    display_name: str | None = None,
    users: list[str] | None = None,
) -> Call[dict[str, Any]]:
    """The answer carries the new key under ``key``: shown this once."""
    body: dict[str, Any] = {"name": name, "scopes": scopes}
    if display_name is not None:
        body["display_name"] = display_name
    if users is not None:
        body["users"] = users
    return Call(method="POST", path="/v1/apps", auth="api_key", json=body, parse=dict)


def update_app(name: str, *, display_name: str) -> Call[dict[str, Any]]:
    return Call(
        method="PATCH",
        path=f"/v1/apps/{_seg(name)}",
        auth="api_key",
        json={"display_name": display_name},
        parse=dict,
    )


def rotate_app(name: str, *, grace_seconds: float | None = None) -> Call[dict[str, Any]]:
    """A new key (under ``key``); the old ones stop after ``grace_seconds`` (server default:
    24 hours)."""
    body: dict[str, Any] = {} if grace_seconds is None else {"grace_seconds": grace_seconds}
    return Call(
        method="POST", path=f"/v1/apps/{_seg(name)}/rotate", auth="api_key", json=body, parse=dict
    )


def revoke_app(name: str) -> Call[dict[str, Any]]:
    return Call(method="POST", path=f"/v1/apps/{_seg(name)}/revoke", auth="api_key", parse=dict)
