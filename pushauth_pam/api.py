"""The three relying-party calls pushauth-pam makes, over the standard library's ``http.client``.

Not httpx and not ``pushauth_server.client``: importing either costs more than the 150 ms the
program has from start to its first network call. Every transport error, every 5xx and every
unreadable body becomes ``ServerUnavailable`` here, in one place, so the failmode applies to all
of them (a timeout too: pam_duo issue 279); a 4xx becomes ``ServerRefused`` with the server's
error code.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote, urlsplit

from pushauth_pam.errors import ServerRefused, ServerUnavailable

__all__ = ["RelyingPartyApi"]

# The longest long-poll the server accepts (GET /v1/challenges/{id}/wait?timeout_seconds=).
MAX_WAIT_SECONDS = 25.0


class RelyingPartyApi:
    def __init__(
        self, *, server: str, api_key: str, timeout: float, ca_file: str | None = None
    ) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {server}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._ca_file = ca_file

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if not self._https:
            return http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        import ssl  # only for https: it costs ~10 ms to import

        context = ssl.create_default_context(cafile=self._ca_file)
        return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=context)

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, extra: float = 0
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = self._connection(self._timeout + extra)
        try:
            connection.request(method, self._prefix + path, body=payload, headers=headers)
            response = connection.getresponse()
            status, data = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnavailable(f"{method} {path}: {exc or type(exc).__name__}") from exc
        finally:
            connection.close()
        if status >= 500:
            raise ServerUnavailable(f"{method} {path}: HTTP {status}")
        try:
            decoded = json.loads(data) if data else {}
        except ValueError as exc:
            raise ServerUnavailable(f"{method} {path}: HTTP {status}, not JSON") from exc
        if not isinstance(decoded, dict):
            raise ServerUnavailable(f"{method} {path}: HTTP {status}, not a JSON object")
        if status >= 400:
            error = decoded.get("error")
            if not isinstance(error, dict):
                error = {}
            raise ServerRefused(
                status, str(error.get("code", "http_error")), str(error.get("message", ""))
            )
        return decoded

    def create_challenge(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/challenges", body)

    def wait(self, challenge_id: str, seconds: float) -> dict[str, Any]:
        """Long-poll: returns when the challenge resolves or after ``seconds`` still pending."""
        seconds = max(0.0, min(seconds, MAX_WAIT_SECONDS))
        path = f"/v1/challenges/{quote(challenge_id, safe='')}/wait?timeout_seconds={seconds:.3f}"
        return self._call("GET", path, extra=seconds)

    def cancel(self, challenge_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/challenges/{quote(challenge_id, safe='')}/cancel")
