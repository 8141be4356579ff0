"""The OpenAPI document, made to describe the real API (checked by the fuzz run in tests/fuzz).

Litestar documents each route's success and its own validation error body. pushauth answers
every error with one body (:mod:`.http_errors`), streams events as ``text/event-stream`` and
authenticates devices with four headers, so the generated document is completed here, in one
place, from :data:`ROUTE_ERRORS`: every status each route can return, with the real error body,
``Allow`` on 405 and ``Retry-After`` on 429/503, SSE media types, and the four proof headers.
A test fails when a route is missing from the table.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from pushauth_server import errors

ERROR_SCHEMA = "Error"
_ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"
PROOF_HEADERS = {
    "DeviceCredential": ("X-PushAuth-Credential", "The device's credential id (cr_...)."),
    "DeviceTimestamp": ("X-PushAuth-Timestamp", "The device's clock, ms since the epoch."),
    "DeviceNonce": ("X-PushAuth-Nonce", "22 to 64 base64url characters (>= 128 random bits)."),
    "DeviceSignature": (
        "X-PushAuth-Signature",
        "Ed25519 signature (base64url) over the request-proof: method, path with query, body "
        "SHA-256, timestamp, nonce, credential. See docs/protocol.md.",
    ),
}
STREAMS = {
    ("get", "/v1/device/stream"): "challenge, ready, resolved, revoked (see docs/protocol.md)",
    ("get", "/v1/challenges/{challenge_id}/events"): "status",
    ("get", "/v1/audit/stream"): "audit, ready",
}

# 429: an address that keeps failing authentication is refused everywhere but /health for the
# rest of its minute (domain/audit/noise.py).
# bad input, bad API key, the key's app lacks the route's scope (or its users), failing too
# often, busy
_RP = (400, 401, 403, 429, 503)
_DEVICE = (400, 401, 403, 429, 503)  # + revoked credential
_BODY = (413, 415)  # any request that carries a body

# (method, path) -> every error status the route can answer with.
ROUTE_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("get", "/health"): (400,),
    ("get", "/ready"): (400, 503),  # 503 not_ready: details.unreachable names what
    ("post", "/v1/enrollment-tokens"): (*_RP, *_BODY),
    ("post", "/v1/challenges"): (*_RP, *_BODY, 403, 409, 429),
    ("get", "/v1/challenges/{challenge_id}"): (*_RP, 404),
    ("get", "/v1/challenges/{challenge_id}/events"): (*_RP, 404),
    ("get", "/v1/challenges/{challenge_id}/wait"): (*_RP, 404),
    ("post", "/v1/challenges/{challenge_id}/cancel"): (*_RP, *_BODY, 404, 409),
    ("get", "/v1/users"): _RP,
    ("get", "/v1/devices"): _RP,
    ("get", "/v1/devices/{credential_id}"): (*_RP, 404),
    ("get", "/v1/users/{user_id}/devices"): _RP,
    ("post", "/v1/devices/{credential_id}/revoke"): (*_RP, *_BODY, 404, 409),
    ("get", "/v1/users/{user_id}/state"): _RP,
    ("post", "/v1/users/{user_id}/unlock"): (*_RP, *_BODY, 404),
    ("get", "/v1/audit"): _RP,
    ("get", "/v1/audit/stream"): _RP,
    ("get", "/v1/audit/head"): _RP,
    ("post", "/v1/audit/verify"): (*_RP, *_BODY),
    ("post", "/v1/webhooks"): (*_RP, *_BODY, 404, 409),
    ("get", "/v1/webhooks"): (*_RP, 404),
    ("delete", "/v1/webhooks/{endpoint_id}"): (*_RP, 404),
    ("post", "/v1/webhooks/{endpoint_id}/test"): (*_RP, *_BODY, 404),
    ("post", "/v1/webhooks/{endpoint_id}/rotate-secret"): (*_RP, *_BODY, 404, 409),
    ("get", "/v1/webhooks/deliveries"): _RP,
    ("post", "/v1/webhooks/deliveries/{delivery_id}/retry"): (*_RP, *_BODY, 404, 409),
    ("get", "/v1/apps"): _RP,
    ("post", "/v1/apps"): (*_RP, *_BODY, 409),
    ("get", "/v1/apps/{name}"): (*_RP, 404),
    ("patch", "/v1/apps/{name}"): (*_RP, *_BODY, 404, 409),
    ("post", "/v1/apps/{name}/rotate"): (*_RP, *_BODY, 404, 409),
    ("post", "/v1/apps/{name}/revoke"): (*_RP, *_BODY, 404, 409),
    ("post", "/v1/device/register"): (400, 401, 429, 503, *_BODY),
    ("get", "/v1/device/challenges"): _DEVICE,
    ("get", "/v1/device/stream"): _DEVICE,
    ("post", "/v1/device/revoke"): (*_DEVICE, *_BODY, 409),
    ("post", "/v1/device/challenges/{challenge_id}/response"): (
        *_DEVICE,
        *_BODY,
        404,
        409,
    ),
}


def _codes_for(status: int) -> list[str]:
    found = {
        cls.code
        for cls in (getattr(errors, name) for name in errors.__all__)
        if isinstance(cls, type)
        and issubclass(cls, errors.PushAuthError)
        and cls.status_code == status
    }
    return sorted(found)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every error pushauth sends. See docs/protocol.md, Errors.",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable."},
                    "message": {"type": "string", "description": "For a person."},
                    "details": {"type": "object", "description": "Structured facts, if any."},
                },
            }
        },
    }


def _error_response(status: int) -> dict[str, Any]:
    codes = ", ".join(f"`{code}`" for code in _codes_for(status))
    response: dict[str, Any] = {
        "description": f"{HTTPStatus(status).phrase}: {codes}",
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
        },
    }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        }
    return response


def _device_security(document: dict[str, Any]) -> list[dict[str, list[str]]]:
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.pop("DeviceProof", None)
    for scheme, (header, description) in PROOF_HEADERS.items():
        schemes[scheme] = {
            "type": "apiKey",
            "in": "header",
            "name": header,
            "description": description,
        }
    return [{scheme: [] for scheme in PROOF_HEADERS}]  # all four together


def _event_schema(events: str) -> dict[str, Any]:
    """One Server-Sent Event (keep-alives are comment lines, not events)."""
    return {
        "type": "object",
        "description": f"Server-Sent Events: {events}. Each data is one JSON document.",
        "required": ["event", "data"],
        "properties": {
            "event": {"type": "string", "description": events},
            "data": {"type": "string", "contentMediaType": "application/json"},
            "id": {"type": "string"},
            "retry": {"type": "integer"},
        },
    }


def _enforced_in_code(schemas: dict[str, Any]) -> None:
    """Constraints the request structs enforce that Litestar does not write down."""
    for name, schema in schemas.items():
        if name.endswith("In") and schema.get("type") == "object":
            schema["additionalProperties"] = False  # forbid_unknown_fields=True
    ip = schemas.get("ContextIn", {}).get("properties", {}).get("initiator_ip")
    if ip is not None:  # checked with ipaddress.ip_address in ContextIn.__post_init__
        ip["anyOf"] = [{"const": ""}, {"format": "ipv4"}, {"format": "ipv6"}]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of Litestar's document with pushauth's errors, streams and proof headers."""
    document = copy.deepcopy(schema)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = _error_schema()
    _enforced_in_code(schemas)
    device_security = _device_security(document)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            for documented in [s for s in responses if s.startswith(("4", "5"))]:
                del responses[documented]  # Litestar's own error body is not what is sent
            for status in ROUTE_ERRORS.get((method, path), (400,)):
                responses[str(status)] = _error_response(status)
            if (method, path) in STREAMS:
                for success in [s for s in responses if s.startswith("2")]:
                    responses[success]["content"] = {
                        "text/event-stream": {"schema": _event_schema(STREAMS[method, path])}
                    }
            if any("DeviceProof" in requirement for requirement in operation.get("security", [])):
                operation["security"] = device_security
    return document


class PushAuthJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``/schema/openapi.json`` completed by :func:`complete` (built once)."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, complete(openapi_schema))
        return self._rendered
