"""Reads by applications, audited off the hot path: folded in memory, written in the background.

Reading a challenge (read, wait, stream) and reading the audit trail are audited by *which app*
read *what*, but a write per read would put the database writer on the relying party's hot
path. So each read is counted in memory under (event, challenge, app), and the audit log's
background writer (:meth:`AuditLog.tick`, every few seconds, and at shutdown) writes one row per
key with its ``count`` and ``first_at``, all in one transaction. Memory is bounded: past
``MAX_KEYS`` distinct keys a read is counted under (event, no challenge, app) instead.
A crash loses the reads counted since the last tick (at most a few seconds), never a write.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushauth_server.clock import iso, now_ms
from pushauth_server.domain.apps.models import AppIdentity
from pushauth_server.domain.audit.records import AuditEvent, AuditRecord

MAX_KEYS = 10_000

_Key = tuple[AuditEvent, str, str]  # (event, challenge id or "", app id)


@dataclass(kw_only=True, slots=True)
class _Folded:
    app_name: str
    user_id: str | None
    first_at_ms: int
    count: int = 0
    detail: dict[str, object] | None = None


class ReadFolder:
    def __init__(self) -> None:
        self._open: dict[_Key, _Folded] = {}

    def __len__(self) -> int:
        return len(self._open)

    def note(
        self,
        event: AuditEvent,
        app: AppIdentity,
        *,
        challenge_id: str | None = None,
        user_id: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        """Count one read (no I/O)."""
        key = (event, challenge_id or "", app.app_id)
        folded = self._open.get(key)
        if folded is None:
            if len(self._open) >= MAX_KEYS:  # bounded: fold into the app's catch-all row
                key, user_id, detail = (event, "", app.app_id), None, None
                folded = self._open.get(key)
            if folded is None:
                folded = self._open[key] = _Folded(
                    app_name=app.name, user_id=user_id, first_at_ms=now_ms(), detail=detail
                )
        folded.count += 1

    def take(self) -> list[AuditRecord]:
        """The folded rows, emptying the folder."""
        taken, self._open = self._open, {}
        now = now_ms()
        return [
            AuditRecord(
                event=event,
                at_ms=now,
                user_id=folded.user_id,
                challenge_id=challenge_id or None,
                detail={
                    **(folded.detail or {}),
                    "app_id": app_id,
                    "app": folded.app_name,
                    "count": folded.count,
                    "first_at": iso(folded.first_at_ms),
                },
            )
            for (event, challenge_id, app_id), folded in taken.items()
        ]


__all__ = ["MAX_KEYS", "ReadFolder"]
