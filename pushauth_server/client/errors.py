"""Errors the client library raises. Transport failures and server error codes become these.

ClientError
├── ServerUnreachable                 connection refused, DNS, TLS, timeouts
├── UnexpectedResponse                not a pushauth server, or a body we cannot read
└── ApiError                          the server answered with an error code
    ├── Unauthorized (401)            bad API key, bad or replayed proof
    ├── Forbidden (403)
    │   └── CredentialRevoked         credential_revoked
    ├── NotFound (404)
    ├── Conflict (409)
    │   ├── NoEnrolledDevice          no_enrolled_device
    │   └── ChallengeNotPending       challenge_not_pending
    └── Refused (429, 503)            a limit, or the server is busy; ``retry_after``
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error from :mod:`pushauth_server.client`."""


class ServerUnreachable(ClientError):
    pass


class UnexpectedResponse(ClientError):
    pass


class ApiError(ClientError):
    def __init__(
        self, *, status_code: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or {}

    @property
    def retry_after(self) -> float | None:
        value = self.details.get("retry_after_seconds")
        return float(value) if isinstance(value, int | float) else None


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class CredentialRevoked(Forbidden):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class NoEnrolledDevice(Conflict):
    pass


class ChallengeNotPending(Conflict):
    pass


class Refused(ApiError):
    pass


_BY_CODE: dict[str, type[ApiError]] = {
    "credential_revoked": CredentialRevoked,
    "no_enrolled_device": NoEnrolledDevice,
    "challenge_not_pending": ChallengeNotPending,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: Refused,
    503: Refused,  # server_busy: retry after a moment
}


def api_error(status_code: int, body: Any) -> ApiError:
    """Build the typed error for an error response ``body`` (already decoded JSON)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(
            status_code=status_code, code="http_error", message=f"HTTP {status_code} from server"
        )
    code = str(error.get("code", "http_error"))
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status_code, ApiError)
    details = error.get("details")
    return cls(
        status_code=status_code,
        code=code,
        message=str(error.get("message", "")),
        details=details if isinstance(details, dict) else {},
    )
