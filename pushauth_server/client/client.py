"""The one HTTP client (httpx, async) used by the CLI, the device and the benchmark."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from httpx_sse import SSEError, aconnect_sse

from pushauth_server.client import calls
from pushauth_server.client.errors import (
    ClientError,
    ServerUnreachable,
    UnexpectedResponse,
    api_error,
)
from pushauth_server.client.identity import DeviceIdentity
from pushauth_server.client.models import ChallengeState, StreamEvent

T = TypeVar("T")

STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)  # read > 2x the server's keep-alive interval


class PushAuthClient:
    """One server, optionally as a relying party (``api_key``) and/or a device (``identity``)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        identity: DeviceIdentity | None = None,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.identity = identity
        self._http = http or httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": "pushauth-client"},
        )

    async def __aenter__(self) -> PushAuthClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(
        self, auth: calls.Auth, method: str, target: str, body: bytes = b""
    ) -> dict[str, str]:
        if auth == "api_key":
            if not self.api_key:
                raise ClientError("No API key: pass --api-key or set PUSHAUTH_API_KEY.")
            return {"Authorization": f"Bearer {self.api_key}"}
        if auth == "device":
            if self.identity is None:
                raise ClientError("This call needs an enrolled device identity.")
            # The route path and query as sent (not the public URL's prefix), and the exact body.
            return self.identity.proof_headers(method, target, body)
        return {}

    @staticmethod
    def _target(path: str, params: Mapping[str, str | float] | None) -> str:
        """``path`` with its query string, built once so what is signed is what is sent."""
        query = str(httpx.QueryParams(dict(params))) if params else ""
        return f"{path}?{query}" if query else path

    async def call(self, call: calls.Call[T]) -> T:
        target = self._target(call.path, call.params)
        body = b"" if call.json is None else json.dumps(call.json).encode("utf-8")
        for attempt in (1, 2):
            # Signed afresh each attempt: a new timestamp and nonce.
            headers = self._headers(call.auth, call.method, target, body)
            if body:
                headers["Content-Type"] = "application/json"
            try:
                response = await self._http.request(
                    call.method, target, content=body or None, headers=headers
                )
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            if attempt == 1 and _sign_again(call.auth, response):
                continue
            break
        return call.parse(self._body(response))

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        return ServerUnreachable(f"Cannot reach the pushauth server at {self.base_url} ({exc}).")

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            raise UnexpectedResponse(
                f"HTTP {response.status_code} with a non-JSON body: is this a pushauth server?"
            ) from exc
        if response.status_code >= 400:
            raise api_error(response.status_code, body)
        return body

    async def _events(
        self, path: str, auth: calls.Auth, params: dict[str, str] | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        target = self._target(path, params)
        for attempt in (1, 2):
            try:
                async with aconnect_sse(
                    self._http,
                    "GET",
                    target,
                    headers=self._headers(auth, "GET", target),  # signed afresh each attempt
                    timeout=STREAM_TIMEOUT,
                ) as source:
                    response = source.response
                    if response.status_code >= 400:
                        await response.aread()
                        if attempt == 1 and _sign_again(auth, response):
                            continue
                        self._body(response)
                    try:
                        async for sse in source.aiter_sse():
                            yield sse.event, json.loads(sse.data) if sse.data else None
                    except SSEError as exc:
                        raise UnexpectedResponse(f"Not an event stream: {exc}") from exc
                    return
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc

    async def watch_challenge(self, challenge_id: str) -> AsyncGenerator[ChallengeState, None]:
        """The challenge's state now, and again when it resolves (relying party, SSE)."""
        async for event, data in self._events(calls.challenge_events_path(challenge_id), "api_key"):
            if event == "status":
                yield ChallengeState.from_json(data)

    async def audit_stream(
        self, *, user_id: str | None = None, after_id: int | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Audit events after ``after_id``, then each new one as it is written (``ready`` first
        separates the backlog from live events and is yielded as ``{}``)."""
        params = {"user_id": user_id} if user_id else {}
        if after_id is not None:
            params["after_id"] = str(after_id)
        async for event, data in self._events(calls.AUDIT_STREAM_PATH, "api_key", params):
            if event in ("audit", "ready"):
                yield data or {}

    async def device_stream(self) -> AsyncGenerator[StreamEvent, None]:
        """This device's live stream: pending challenges, ``ready``, then new events."""
        async for event, data in self._events(calls.DEVICE_STREAM_PATH, "device"):
            yield StreamEvent(kind=event, data=data or {})


def _sign_again(auth: calls.Auth, response: httpx.Response) -> bool:
    """A device request refused as ``stale_proof`` is signed again, once: a server whose nonce
    memory starts after the proof's timestamp (it restarted after a crash, or its Redis lost its
    data) refuses the proof without spending it and accepts a new one (docs/protocol.md). A
    device whose clock is off is refused again, with the same error."""
    if auth != "device" or response.status_code != 401:
        return False
    try:
        error = response.json().get("error", {})
    except ValueError:
        return False
    return isinstance(error, dict) and error.get("code") == "stale_proof"
