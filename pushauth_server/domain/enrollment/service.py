"""Issuing enrollment tokens and registering device keys.

A token can only add an authenticator, once, within its lifetime; only its SHA-256 is stored, so
a copy of the database does not hand out enrollments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update

from pushauth_server import errors
from pushauth_server.clock import new_id, now_ms, sha256_hex
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.webhooks.events import WebhookEvent
from pushauth_server.domain.webhooks.outbox import Outbox, device_data
from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    EnrollmentProof,
    public_key_rejection,
    verify,
)
from pushauth_server.protocol.legacy import EnrollmentProofV2, as_older
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from pushauth_server.storage.tables import applications, credentials, enrollment_tokens

# The token, with the application that issued it (an outer join: tokens issued before
# applications existed record none).
_TOKEN = (
    select(
        enrollment_tokens,
        applications.c.name.label("app_name"),
        applications.c.display_name.label("app_display_name"),
        applications.c.revoked_at_ms.label("app_revoked_at_ms"),
    )
    .select_from(
        enrollment_tokens.outerjoin(
            applications, applications.c.app_id == enrollment_tokens.c.app_id
        )
    )
    .where(enrollment_tokens.c.token_hash == bindparam("token_hash"))
)

_ISSUER_REVOKED = exists().where(
    applications.c.app_id == enrollment_tokens.c.app_id,
    applications.c.revoked_at_ms.is_not(None),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EnrolledThrough:
    """The application whose enrollment token a device redeemed."""

    app_id: str
    name: str
    display_name: str

    @classmethod
    def of(cls, row: Any) -> EnrolledThrough | None:
        if row.app_id is None or row.app_name is None:
            return None
        return cls(app_id=row.app_id, name=row.app_name, display_name=row.app_display_name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Enrollment:
    credential: Credential
    through: EnrolledThrough | None


class EnrollmentService:
    def __init__(
        self, database: Database, settings: Settings, audit: AuditLog, outbox: Outbox
    ) -> None:
        self._db = database
        self._settings = settings
        self._audit = audit
        self._outbox = outbox

    async def issue_token(self, user_id: str, app: AppIdentity) -> tuple[str, int]:
        """A single-use token for ``user_id``, issued by (and recorded as issued by) ``app``."""
        token = "pet_" + secrets.token_urlsafe(32)
        created = now_ms()
        expires = created + round(self._settings.enrollment_token_ttl_seconds * 1000)
        async with self._db.write() as connection:
            await connection.execute(
                insert(enrollment_tokens).values(
                    token_hash=sha256_hex(token),
                    user_id=user_id,
                    created_at_ms=created,
                    expires_at_ms=expires,
                    app_id=app.app_id,
                )
            )
            record = await audit_log.append(
                connection,
                AuditRecord(
                    event=AuditEvent.ENROLLMENT_TOKEN_ISSUED,
                    user_id=user_id,
                    detail={"expires_at_ms": expires, "app": app.name, "app_id": app.app_id},
                ),
            )
        await self._audit.publish([record])
        return token, expires

    async def register(
        self, *, token: str, public_key: str, device_name: str, signature: str
    ) -> Enrollment:
        """Register ``public_key`` for the token's user: the new credential and the application
        (if the token records one) it enrolled through."""
        key_rejection = public_key_rejection(public_key)
        if key_rejection is not None and not key_rejection.weak:
            raise errors.InvalidRequest(
                f"public_key is not a base64url Ed25519 public key ({key_rejection.problem}).",
                field="public_key",
            )
        if key_rejection is not None:
            # A small-order key would accept one forged signature for every message.
            raise errors.WeakPublicKey(
                f"public_key is refused: {key_rejection.problem}. Generate a new Ed25519 key pair.",
                field="public_key",
                problem=key_rejection.problem,
            )
        proof = EnrollmentProof(
            origin=self._settings.origin,
            token=token,
            public_key=public_key,
            device_name=device_name,
        )
        # Proof of possession: the key being registered signed this token for this server.
        if not verify(public_key=public_key, message=proof, signature=signature):
            await self._audit.record(
                AuditRecord(event=AuditEvent.INVALID_SIGNATURE, detail={"what": "enrollment proof"})
            )
            legacy = as_older(EnrollmentProofV2, proof)
            if verify(public_key=public_key, message=legacy, signature=signature):
                # An old device would show requests without the asking application: refused by
                # name, before it spends the token.
                raise errors.UnsupportedProtocolVersion.signed_under(
                    legacy.VERSION, "enrollment proofs", PROTOCOL_VERSION
                )
            raise errors.InvalidSignature("The enrollment proof signature does not verify.")
        token_hash = sha256_hex(token)
        now = now_ms()
        credential = Credential(
            credential_id=new_id("cr"),
            user_id="",
            name=device_name,
            public_key=public_key,
            created_at_ms=now,
            last_used_at_ms=None,
            revoked_at_ms=None,
        )
        rejection: errors.EnrollmentTokenInvalid | None = None
        batch = self._outbox.batch()
        async with self._db.write() as connection:
            row = (await connection.execute(_TOKEN, {"token_hash": token_hash})).first()
            # A revoked application's outstanding tokens stop with its keys.
            app_revoked = row is not None and row.app_revoked_at_ms is not None
            # Single use: the compare-and-set lets exactly one registration consume the token.
            consumed = None
            if row is not None and not app_revoked:
                consumed = await connection.execute(
                    update(enrollment_tokens)
                    .where(
                        enrollment_tokens.c.token_hash == token_hash,
                        enrollment_tokens.c.used_at_ms.is_(None),
                        enrollment_tokens.c.expires_at_ms > now,
                        ~_ISSUER_REVOKED,  # not even if it was revoked a moment ago
                    )
                    .values(used_at_ms=now, credential_id=credential.credential_id)
                )
            if row is None:
                rejection = errors.EnrollmentTokenInvalid(
                    "Unknown enrollment token. Ask for a new one: pushauth enroll USER"
                )
            elif app_revoked:
                rejection = errors.EnrollmentTokenInvalid(
                    "This enrollment token was issued by an application that has since been "
                    "revoked. Ask for a new one (pushauth enroll USER).",
                    reason="application revoked",
                )
            elif consumed is None or consumed.rowcount != 1:
                why = "already used" if row.used_at_ms is not None else "expired"
                # Nothing about whose token it was: the holder of a used token learns no user id.
                rejection = errors.EnrollmentTokenInvalid(
                    f"This enrollment token is {why}. Ask for a new one (pushauth enroll USER).",
                    reason=why,
                )
            else:
                # The credential remembers the application it enrolled through (the token's).
                credential = replace(credential, user_id=row.user_id, app_id=row.app_id)
                await connection.execute(
                    insert(credentials).values(
                        credential_id=credential.credential_id,
                        user_id=credential.user_id,
                        name=credential.name,
                        public_key=credential.public_key,
                        created_at_ms=credential.created_at_ms,
                        app_id=credential.app_id,
                    )
                )
                await self._outbox.user_event(
                    connection,
                    batch,
                    WebhookEvent.DEVICE_ENROLLED,
                    user_id=credential.user_id,
                    data=device_data(credential),
                    now_ms=now,
                )
                through = EnrolledThrough.of(row)
                detail: dict[str, object] = {"name": device_name, "public_key": public_key}
                if through is not None:
                    detail.update(app=through.name, app_id=through.app_id)
                record = await audit_log.append(
                    connection,
                    AuditRecord(
                        event=AuditEvent.DEVICE_ENROLLED,
                        user_id=credential.user_id,
                        credential_id=credential.credential_id,
                        detail=detail,
                    ),
                )
        if rejection is not None:
            await self._audit.record(
                AuditRecord(
                    event=AuditEvent.INVALID_ENROLLMENT_TOKEN,
                    user_id=row.user_id if row is not None else None,
                    detail={"reason": rejection.details.get("reason", "unknown")},
                )
            )
            raise rejection
        batch.done()
        await self._audit.publish([record])
        return Enrollment(credential=credential, through=through)
