"""Issuing enrollment tokens and registering device keys.

A token can only add an authenticator, once, within its lifetime; only its SHA-256 is stored, so
a copy of the database does not hand out enrollments.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from sqlalchemy import insert, select, update

from pushauth_server import errors
from pushauth_server.clock import new_id, now_ms, sha256_hex
from pushauth_server.domain.apps.models import OPERATOR, AppIdentity
from pushauth_server.domain.audit import log as audit_log
from pushauth_server.domain.audit.log import AuditLog
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord
from pushauth_server.domain.devices.models import Credential
from pushauth_server.domain.webhooks.events import WebhookEvent
from pushauth_server.domain.webhooks.outbox import Outbox, device_data
from pushauth_server.protocol import EnrollmentProof, public_key_rejection, verify
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from pushauth_server.storage.tables import credentials, enrollment_tokens


class EnrollmentService:
    def __init__(
        self, database: Database, settings: Settings, audit: AuditLog, outbox: Outbox
    ) -> None:
        self._db = database
        self._settings = settings
        self._audit = audit
        self._outbox = outbox

    async def issue_token(self, user_id: str, app: AppIdentity = OPERATOR) -> tuple[str, int]:
        """A single-use token for ``user_id``, issued by the calling application ``app``."""
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
                    detail={"expires_at_ms": expires, "app_id": app.app_id, "app": app.name},
                ),
            )
        await self._audit.publish([record])
        return token, expires

    async def register(
        self, *, token: str, public_key: str, device_name: str, signature: str
    ) -> Credential:
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
            row = (
                await connection.execute(
                    select(enrollment_tokens).where(enrollment_tokens.c.token_hash == token_hash)
                )
            ).first()
            # Single use: the compare-and-set lets exactly one registration consume the token.
            consumed = await connection.execute(
                update(enrollment_tokens)
                .where(
                    enrollment_tokens.c.token_hash == token_hash,
                    enrollment_tokens.c.used_at_ms.is_(None),
                    enrollment_tokens.c.expires_at_ms > now,
                )
                .values(used_at_ms=now, credential_id=credential.credential_id)
            )
            if row is None:
                rejection = errors.EnrollmentTokenInvalid(
                    "Unknown enrollment token. Ask for a new one: pushauth enroll USER"
                )
            elif consumed.rowcount != 1:
                why = "already used" if row.used_at_ms is not None else "expired"
                # Nothing about whose token it was: the holder of a used token learns no user id.
                rejection = errors.EnrollmentTokenInvalid(
                    f"This enrollment token is {why}. Ask for a new one (pushauth enroll USER).",
                    reason=why,
                )
            else:
                credential = replace(credential, user_id=row.user_id)
                await connection.execute(
                    insert(credentials).values(
                        credential_id=credential.credential_id,
                        user_id=credential.user_id,
                        name=credential.name,
                        public_key=credential.public_key,
                        created_at_ms=credential.created_at_ms,
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
                record = await audit_log.append(
                    connection,
                    AuditRecord(
                        event=AuditEvent.DEVICE_ENROLLED,
                        user_id=credential.user_id,
                        credential_id=credential.credential_id,
                        detail={"name": device_name, "public_key": public_key},
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
        return credential
