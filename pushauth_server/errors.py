"""Every error the server raises on purpose. One tree; HTTP is mapped from it in one place.

    PushAuthError
    ├── InvalidRequest (400)              invalid_request
    │   ├── NumberMatchingRequired        number_matching_required
    │   ├── InvalidTimeout                invalid_timeout
    │   ├── RequestAborted                request_aborted  (the client left mid-body)
    │   ├── UnsupportedProtocolVersion    unsupported_protocol_version
    │   ├── WeakPublicKey                 weak_public_key
    │   └── InvalidWebhookUrl             invalid_webhook_url
    ├── Unauthenticated (401)
    │   ├── InvalidApiKey                 invalid_api_key
    │   ├── InvalidSignature              invalid_signature
    │   ├── StaleProof                    stale_proof
    │   ├── ReplayedProof                 replayed_proof
    │   ├── UnknownCredential             unknown_credential
    │   ├── EnrollmentTokenInvalid        enrollment_token_invalid
    │   └── InvalidMetricsToken           invalid_metrics_token
    ├── Forbidden (403)
    │   ├── InsufficientScope             insufficient_scope  (details.required_scope)
    │   ├── UserNotAllowed                user_not_allowed  (the app is restricted to others)
    │   ├── CredentialRevoked             credential_revoked
    │   ├── WrongAccount                  wrong_account
    │   └── UserLocked                    user_locked
    ├── NotFound (404)
    │   ├── ChallengeNotFound             challenge_not_found
    │   ├── CredentialNotFound            credential_not_found
    │   ├── UserNotFound                  user_not_found
    │   ├── AppNotFound                   app_not_found
    │   ├── WebhookNotFound               webhook_not_found
    │   ├── DeliveryNotFound              delivery_not_found
    │   └── RouteNotFound                 route_not_found
    ├── MethodNotAllowed (405)            method_not_allowed
    ├── Conflict (409)
    │   ├── ChallengeNotPending           challenge_not_pending
    │   ├── NoEnrolledDevice              no_enrolled_device
    │   ├── CredentialAlreadyRevoked      credential_already_revoked
    │   ├── PendingChallengeExists        challenge_pending
    │   ├── DeliveryNotFailed             delivery_not_failed
    │   ├── WebhooksNotConfigured         webhooks_not_configured
    │   ├── AppNameTaken                  app_name_taken
    │   ├── AppRevoked                    app_revoked
    │   └── OperatorAppFixed              operator_app_fixed
    ├── RequestTimeout (408)              request_timeout  (sent by the connection guard)
    ├── PayloadTooLarge (413)             payload_too_large
    ├── RequestLineTooLong (414)          request_line_too_long  (sent by the connection guard)
    ├── UnsupportedMediaType (415)        unsupported_media_type
    ├── HeadersTooLarge (431)             headers_too_large  (sent by the connection guard)
    ├── RateLimited (429)                 rate_limited
    ├── InternalError (500)               internal_error   (never raised on purpose)
    ├── ServerBusy (503)                  server_busy      (overloaded: retry after a moment)
    └── NotReady (503)                    not_ready        (GET /ready: a dependency is away)

Services raise these; :mod:`pushauth_server.http_errors` turns them into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PushAuthError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(PushAuthError):
    status_code = 400
    code = "invalid_request"


class NumberMatchingRequired(InvalidRequest):
    code = "number_matching_required"


class InvalidTimeout(InvalidRequest):
    code = "invalid_timeout"


class RequestAborted(InvalidRequest):
    code = "request_aborted"


class UnsupportedProtocolVersion(InvalidRequest):
    code = "unsupported_protocol_version"

    @classmethod
    def signed_under(cls, version: int, what: str, current: int) -> UnsupportedProtocolVersion:
        """The refusal of ``what`` (e.g. "request proofs") a device signed under ``version``."""
        return cls(
            f"This device signs {what} under protocol version {version}; this server speaks "
            f"version {current} only. Update the device software.",
            version=version,
            supported=[current],
        )


class WeakPublicKey(InvalidRequest):
    code = "weak_public_key"


class InvalidWebhookUrl(InvalidRequest):
    code = "invalid_webhook_url"


class Unauthenticated(PushAuthError):
    status_code = 401
    code = "unauthenticated"


class InvalidApiKey(Unauthenticated):
    code = "invalid_api_key"


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"


class StaleProof(Unauthenticated):
    code = "stale_proof"


class ReplayedProof(Unauthenticated):
    code = "replayed_proof"


class UnknownCredential(Unauthenticated):
    code = "unknown_credential"


class EnrollmentTokenInvalid(Unauthenticated):
    code = "enrollment_token_invalid"


class InvalidMetricsToken(Unauthenticated):
    code = "invalid_metrics_token"


class Forbidden(PushAuthError):
    status_code = 403
    code = "forbidden"


class InsufficientScope(Forbidden):
    """The API key's application lacks the scope the route needs (``details.required_scope``)."""

    code = "insufficient_scope"


class UserNotAllowed(Forbidden):
    """The API key's application is restricted to other users."""

    code = "user_not_allowed"


class CredentialRevoked(Forbidden):
    code = "credential_revoked"


class WrongAccount(Forbidden):
    code = "wrong_account"


class UserLocked(Forbidden):
    code = "user_locked"


class NotFound(PushAuthError):
    status_code = 404
    code = "not_found"


class ChallengeNotFound(NotFound):
    code = "challenge_not_found"


class CredentialNotFound(NotFound):
    code = "credential_not_found"


class UserNotFound(NotFound):
    """No device was ever enrolled for this user id, and it has no sign-in state."""

    code = "user_not_found"


class AppNotFound(NotFound):
    code = "app_not_found"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class RouteNotFound(NotFound):
    code = "route_not_found"


class MethodNotAllowed(PushAuthError):
    status_code = 405
    code = "method_not_allowed"


class Conflict(PushAuthError):
    status_code = 409
    code = "conflict"


class ChallengeNotPending(Conflict):
    code = "challenge_not_pending"


class NoEnrolledDevice(Conflict):
    code = "no_enrolled_device"


class CredentialAlreadyRevoked(Conflict):
    code = "credential_already_revoked"


class PendingChallengeExists(Conflict):
    code = "challenge_pending"


class DeliveryNotFailed(Conflict):
    code = "delivery_not_failed"


class WebhooksNotConfigured(Conflict):
    code = "webhooks_not_configured"


class AppNameTaken(Conflict):
    code = "app_name_taken"


class AppRevoked(Conflict):
    """The application is revoked: its keys cannot be rotated (create a new application)."""

    code = "app_revoked"


class OperatorAppFixed(Conflict):
    """The built-in operator app's key is PUSHAUTH_API_KEY: it is not rotated or revoked here."""

    code = "operator_app_fixed"


class RateLimited(PushAuthError):
    status_code = 429
    code = "rate_limited"


class PayloadTooLarge(PushAuthError):
    status_code = 413
    code = "payload_too_large"


class RequestTimeout(PushAuthError):
    status_code = 408
    code = "request_timeout"


class RequestLineTooLong(PushAuthError):
    status_code = 414
    code = "request_line_too_long"


class UnsupportedMediaType(PushAuthError):
    status_code = 415
    code = "unsupported_media_type"


class HeadersTooLarge(PushAuthError):
    status_code = 431
    code = "headers_too_large"


class InternalError(PushAuthError):
    status_code = 500
    code = "internal_error"


class ServerBusy(PushAuthError):
    status_code = 503
    code = "server_busy"


class NotReady(PushAuthError):
    status_code = 503
    code = "not_ready"


__all__ = [
    "AppNameTaken",
    "AppNotFound",
    "AppRevoked",
    "ChallengeNotFound",
    "ChallengeNotPending",
    "Conflict",
    "CredentialAlreadyRevoked",
    "CredentialNotFound",
    "CredentialRevoked",
    "DeliveryNotFailed",
    "DeliveryNotFound",
    "EnrollmentTokenInvalid",
    "Forbidden",
    "HeadersTooLarge",
    "InsufficientScope",
    "InternalError",
    "InvalidApiKey",
    "InvalidMetricsToken",
    "InvalidRequest",
    "InvalidSignature",
    "InvalidTimeout",
    "InvalidWebhookUrl",
    "MethodNotAllowed",
    "NoEnrolledDevice",
    "NotFound",
    "NotReady",
    "NumberMatchingRequired",
    "OperatorAppFixed",
    "PayloadTooLarge",
    "PendingChallengeExists",
    "PushAuthError",
    "RateLimited",
    "ReplayedProof",
    "RequestAborted",
    "RequestLineTooLong",
    "RequestTimeout",
    "RouteNotFound",
    "ServerBusy",
    "StaleProof",
    "Unauthenticated",
    "UnknownCredential",
    "UnsupportedMediaType",
    "UnsupportedProtocolVersion",
    "UserLocked",
    "UserNotAllowed",
    "UserNotFound",
    "WeakPublicKey",
    "WebhookNotFound",
    "WebhooksNotConfigured",
    "WrongAccount",
]
