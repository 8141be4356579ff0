"""Who is calling: a relying party (Bearer API key) or a device (fresh Ed25519 request proof).

Relying parties: the bootstrap key (``PUSHAUTH_API_KEY``, the built-in operator application) is
compared in constant time against its SHA-256, with no database read; any other key must have the
shape of an application key (``pak_``, keys.py) and is looked up by its SHA-256 (one indexed
read), so a rotation or revocation is seen by every process at once. Then the route's scope
(domain/apps/scopes.py) is checked.

Devices: every call that is not a response carries ``X-PushAuth-Credential``,
``X-PushAuth-Timestamp`` (ms), ``X-PushAuth-Nonce`` and ``X-PushAuth-Signature`` over a
:class:`~pushauth_server.protocol.RequestProof` (protocol v3) bound to the method, the route path
with its query string, and the SHA-256 of the body. The timestamp must be within the window, the
nonce must carry at least 128 bits, and each nonce is accepted once per credential, so a captured
proof cannot be replayed — not against this endpoint, and not against another — and one device's
nonces never collide with another's.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

from pushauth_server import errors
from pushauth_server.clock import now_ms, sha256_hex
from pushauth_server.domain.apps.identity import set_calling_app
from pushauth_server.domain.apps.keys import key_hash, looks_like_key
from pushauth_server.domain.apps.models import OPERATOR, AppIdentity
from pushauth_server.domain.apps.scopes import check_scope
from pushauth_server.domain.apps.service import AppService
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.challenges import store as challenge_store
from pushauth_server.domain.challenges.models import Challenge
from pushauth_server.domain.devices import store as device_store
from pushauth_server.domain.devices.models import Credential
from pushauth_server.nonces import Claim, NonceStore
from pushauth_server.observability.request_log import note_credential
from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    RequestProof,
    body_sha256,
    is_valid_nonce,
    request_target,
    verify,
)
from pushauth_server.protocol.legacy import RequestProofV1, RequestProofV2, as_older
from pushauth_server.protocol.proofs import NONCE_MAX_LENGTH, NONCE_MIN_LENGTH
from pushauth_server.settings import Settings
from pushauth_server.storage import Database

_TIMESTAMP = re.compile(r"[0-9]{1,15}")

CREDENTIAL_HEADER = "x-pushauth-credential"
TIMESTAMP_HEADER = "x-pushauth-timestamp"
NONCE_HEADER = "x-pushauth-nonce"
SIGNATURE_HEADER = "x-pushauth-signature"


class ApiKeyCheck:
    """The check of every relying-party request (run by a middleware). Every refusal is audited;
    no key is ever logged or written."""

    def __init__(self, api_key: str, audit: AuditLog, apps: AppService) -> None:
        self._hash = sha256_hex(api_key)
        self._audit = audit
        self._apps = apps

    async def _app_for(self, presented: str) -> AppIdentity | None:
        if hmac.compare_digest(sha256_hex(presented), self._hash):
            self._apps.used(OPERATOR.app_id, now_ms())
            return OPERATOR
        if not looks_like_key(presented):  # never one of ours: no database read
            return None
        return await self._apps.authenticate(presented)

    @staticmethod
    def _digest(app: AppIdentity, presented: str) -> str | None:
        return None if app is OPERATOR else key_hash(presented)

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        header = connection.headers.get("authorization", "")
        scheme, _sep, presented = header.partition(" ")
        presented = presented.strip()
        app: AppIdentity | None = None
        if scheme.lower() != "bearer" or not presented:
            error: errors.PushAuthError = errors.InvalidApiKey(
                "Missing API key: send 'Authorization: Bearer <API key>'."
            )
        else:
            app = await self._app_for(presented)
            error = errors.InvalidApiKey(
                "The API key is not valid for this server (unknown, revoked, or past its "
                "rotation's grace period)."
            )
        if app is not None:
            try:
                # A key of an app without the route's scope (a sign-in key revoking devices).
                check_scope(app, connection.scope["route_handler"])
            except errors.InsufficientScope as refused:
                await self._audit.record(
                    AuditRecord(
                        event=AuditEvent.INSUFFICIENT_SCOPE,
                        detail={
                            "path": connection.url.path,
                            "required_scope": refused.details["required_scope"],
                            "app_id": app.app_id,
                            "app": app.name,
                        },
                    ),
                    authenticated=True,
                )
                raise
            set_calling_app(connection.scope, app, self._digest(app, presented))
            return
        client = connection.client.host if connection.client else None
        await self._audit.record(
            AuditRecord(
                event=AuditEvent.INVALID_API_KEY,
                detail={"path": connection.url.path, "client": client, "missing": not presented},
            )
        )
        raise error


class DeviceAuthenticator:
    def __init__(
        self, database: Database, settings: Settings, audit: AuditLog, nonces: NonceStore
    ) -> None:
        self._db = database
        self._settings = settings
        self._audit = audit
        self.nonces = nonces

    async def _reject(
        self, event: AuditEvent, credential: Credential, path: str, error: errors.PushAuthError
    ) -> errors.PushAuthError:
        await self._audit.record(
            AuditRecord(
                event=event,
                user_id=credential.user_id,
                credential_id=credential.credential_id,
                detail={"what": "request proof", "path": path},
            )
        )
        return error

    async def active_credential(self, credential_id: str) -> Credential:
        async with self._db.read() as connection:
            credential = await device_store.get(connection, credential_id)
        return await self._active(credential, credential_id)

    async def active_credential_and_pending(
        self, credential_id: str
    ) -> tuple[Credential, list[Challenge]]:
        """The active credential and its user's pending challenges, in one read."""
        async with self._db.read() as connection:
            found = await challenge_store.credential_and_pending(
                connection, credential_id, now_ms()
            )
        credential, pending = found or (None, [])
        return await self._active(credential, credential_id), pending

    async def _active(self, credential: Credential | None, credential_id: str) -> Credential:
        if credential is None:
            await self._audit.record(
                AuditRecord(event=AuditEvent.UNKNOWN_CREDENTIAL, credential_id=credential_id[:64])
            )
            raise errors.UnknownCredential(
                "This device is not enrolled on this server. Enroll it again.",
                credential_id=credential_id,
            )
        # A revoked device can no longer list, stream or answer anything.
        if credential.is_revoked:
            # A revoked device still trying is likely a lost or stolen one: worth a record.
            await self._audit.record(
                AuditRecord(
                    event=AuditEvent.REVOKED_DEVICE_USED,
                    user_id=credential.user_id,
                    credential_id=credential_id,
                )
            )
            raise errors.CredentialRevoked(
                "This device has been revoked. Enroll it again to use it.",
                credential_id=credential_id,
            )
        return credential

    async def authenticate_with_pending(
        self, request: Request[Any, Any, Any]
    ) -> tuple[Credential, list[Challenge]]:
        """:meth:`authenticate`, reading the user's pending challenges in the same statement."""
        pending: list[Challenge] = []

        async def load(credential_id: str) -> Credential:
            credential, found = await self.active_credential_and_pending(credential_id)
            pending.extend(found)
            return credential

        return await self.authenticate(request, load=load), pending

    async def authenticate(
        self,
        request: Request[Any, Any, Any],
        *,
        load: Callable[[str], Awaitable[Credential]] | None = None,
    ) -> Credential:
        """The active credential whose fresh, unused request proof ``request`` carries.

        ``load``: how to read the active credential (default :meth:`active_credential`)."""
        headers = request.headers
        credential_id = headers.get(CREDENTIAL_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not (credential_id and timestamp and nonce and signature):
            raise errors.Unauthenticated(
                "Device calls need a request proof (X-PushAuth-Credential, -Timestamp, -Nonce, "
                "-Signature)."
            )
        # Bounded before int(): a huge digit string would otherwise fail inside int().
        if len(credential_id) > 64 or not _TIMESTAMP.fullmatch(timestamp):
            raise errors.InvalidRequest("Malformed request proof headers.")
        # A short or odd nonce could be guessed or pre-spent: at least 128 bits of base64url.
        if not is_valid_nonce(nonce):
            raise errors.InvalidRequest(
                f"X-PushAuth-Nonce must be {NONCE_MIN_LENGTH} to {NONCE_MAX_LENGTH} base64url "
                "characters (at least 128 random bits).",
                field="X-PushAuth-Nonce",
            )
        credential = await (load or self.active_credential)(credential_id)
        now = now_ms()
        window_ms = round(self._settings.request_proof_window_seconds * 1000)
        # A proof is fresh only within the window: an old captured proof is worthless.
        path = _route_path(request)
        if abs(now - int(timestamp)) > window_ms:
            raise await self._reject(
                AuditEvent.STALE_PROOF,
                credential,
                path,
                errors.StaleProof(
                    "The request proof's timestamp is outside the allowed window; "
                    "check the device's clock.",
                    window_seconds=self._settings.request_proof_window_seconds,
                ),
            )
        # The whole request is signed: a changed query string or body breaks the proof.
        query = request.scope.get("query_string", b"").decode("latin-1")
        proof = RequestProof(
            origin=self._settings.origin,
            method=request.method,
            target=request_target(path, query),
            body_sha256=body_sha256(await request.body()),
            timestamp_ms=int(timestamp),
            nonce=nonce,
            credential_id=credential_id,
        )
        if not verify(public_key=credential.public_key, message=proof, signature=signature):
            error: errors.PushAuthError = errors.InvalidSignature(
                "The request proof signature does not verify."
            )
            legacy = self._legacy_version(credential, request, path, proof, signature)
            if legacy is not None:
                error = errors.UnsupportedProtocolVersion.signed_under(
                    legacy, "request proofs", PROTOCOL_VERSION
                )
            raise await self._reject(AuditEvent.INVALID_SIGNATURE, credential, path, error)
        # Each nonce once per credential: the same proof presented again is a replay.
        claim = await self.nonces.claim(
            credential_id, nonce, int(timestamp), int(timestamp) + window_ms
        )
        if claim is Claim.BEFORE_EPOCH:
            # The nonce store cannot vouch for proofs older than its memory (a restart).
            raise await self._reject(
                AuditEvent.STALE_PROOF,
                credential,
                path,
                errors.StaleProof(
                    "The request proof is older than the server's nonce memory (the server "
                    "restarted); sign a new proof.",
                    window_seconds=self._settings.request_proof_window_seconds,
                ),
            )
        if claim is Claim.REPLAYED:
            raise await self._reject(
                AuditEvent.REPLAYED_PROOF,
                credential,
                path,
                errors.ReplayedProof("This request proof was already used."),
            )
        note_credential(request.scope, credential_id)  # for the request's log line
        return credential

    @staticmethod
    def _legacy_version(
        credential: Credential,
        request: Request[Any, Any, Any],
        path: str,
        proof: RequestProof,
        signature: str,
    ) -> int | None:
        """Only to name the problem: the older version ``proof`` was signed under, if it was
        one. It is refused either way."""
        v2 = as_older(RequestProofV2, proof)
        if verify(public_key=credential.public_key, message=v2, signature=signature):
            return 2
        v1 = RequestProofV1(
            origin=proof.origin,
            method=request.method,
            path=path,
            timestamp_ms=proof.timestamp_ms,
            nonce=proof.nonce,
            credential_id=proof.credential_id,
        )
        return (
            1 if verify(public_key=credential.public_key, message=v1, signature=signature) else None
        )


def _route_path(request: Request[Any, Any, Any]) -> str:
    """The path the app routed, without any prefix a proxy mounted it under (ASGI root_path)."""
    path: str = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path
