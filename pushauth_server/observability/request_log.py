"""One log line and one metrics update per HTTP request, and its ``X-Request-ID``.

:class:`RequestLog` wraps the whole app (outside Litestar's routing, so unknown routes and the
refusals of the noise middleware are seen too). It gives each request an id — the caller's
``X-Request-ID`` when it is a short, plain token (a proxy's), else a new random one — returns it
in the response's ``X-Request-ID``, and when the response ends writes one ``pushauth.request``
line: id, method, route template (never the raw path or query), status, duration, the error code
if any, the relying party's application name, and the device's credential id once its proof
verified. Handlers note those facts in the ASGI scope with :func:`note_credential` and
:func:`note_error`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Send

from pushauth_server.domain.apps.identity import calling_app
from pushauth_server.observability.metrics import Metrics

logger = logging.getLogger("pushauth.request")

REQUEST_ID_HEADER = b"x-request-id"
_INCOMING_ID = re.compile(rb"[A-Za-z0-9._:-]{8,64}")  # plain, so a caller cannot forge log lines
_CREDENTIAL = "pushauth.credential"
_ERROR = "pushauth.error"
UNMATCHED = "(unmatched)"


def note_credential(scope: Any, credential_id: str) -> None:
    """The device whose request proof (or signed answer) verified: for the request line."""
    scope[_CREDENTIAL] = credential_id


def note_error(scope: Any, code: str) -> None:
    """The error code the request was answered with: for the line and ``pushauth_refusals``."""
    scope[_ERROR] = code


def _request_id(scope: dict[str, Any]) -> bytes:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _INCOMING_ID.fullmatch(value):
            return bytes(value)
    return secrets.token_hex(8).encode()


def _app_name(scope: dict[str, Any]) -> str | None:
    try:
        return calling_app(ASGIConnection(scope)).name  # type: ignore[arg-type]
    except RuntimeError:  # not a relying-party request, or refused before its key was checked
        return None


class RequestLog:
    """ASGI wrapper: request id, one ``pushauth.request`` line, one metrics update."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # unless a response starts: a failure below Litestar's error handling

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            self._done(scope, request_id, status, time.perf_counter() - started)

    def _done(self, scope: dict[str, Any], request_id: bytes, status: int, seconds: float) -> None:
        route = scope.get("path_template") or UNMATCHED
        error = scope.get(_ERROR)
        self._metrics.request(route, scope["method"], status, error)
        if not logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        logger.info(
            "%s %s %d",
            scope["method"],
            route,
            status,
            extra={
                "fields": {
                    "request_id": request_id.decode(),
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "error": error,
                    "app": _app_name(scope),
                    "credential_id": scope.get(_CREDENTIAL),
                    "client": client[0] if client else None,
                }
            },
        )
