"""The pushauth HTTP client library, shared by the CLI, the device and the benchmark."""

from pushauth_server.client import calls
from pushauth_server.client.client import PushAuthClient
from pushauth_server.client.errors import (
    ApiError,
    ChallengeNotPending,
    ClientError,
    Conflict,
    CredentialRevoked,
    Forbidden,
    NoEnrolledDevice,
    NotFound,
    Refused,
    ServerUnreachable,
    Unauthorized,
    UnexpectedResponse,
)
from pushauth_server.client.identity import DeviceIdentity, enrollment_proof
from pushauth_server.client.models import (
    ChallengeState,
    Device,
    EnrollmentToken,
    PendingChallenge,
    Registration,
    ResponseResult,
    ServerInfo,
    StreamEvent,
    UserSummary,
)

__all__ = [
    "ApiError",
    "ChallengeNotPending",
    "ChallengeState",
    "ClientError",
    "Conflict",
    "CredentialRevoked",
    "Device",
    "DeviceIdentity",
    "EnrollmentToken",
    "Forbidden",
    "NoEnrolledDevice",
    "NotFound",
    "PendingChallenge",
    "PushAuthClient",
    "Refused",
    "Registration",
    "ResponseResult",
    "ServerInfo",
    "ServerUnreachable",
    "StreamEvent",
    "Unauthorized",
    "UnexpectedResponse",
    "UserSummary",
    "calls",
    "enrollment_proof",
]
