"""Request-proof nonces: each (credential, nonce) accepted once, kept off the database.

A device request proof is fresh for ``window`` around its timestamp; its nonce must be remembered
until then and no longer. Two stores behind one interface:

* :class:`MemoryNonceStore` for one process (the memory channels backend): a dict with expiry
  order kept in a heap, bounded (past ``max_entries`` unexpired nonces it refuses new proofs with
  ``503 server_busy`` rather than forget one that could still be replayed);
* :class:`RedisNonceStore` when the channels backend is Redis: ``SET key 1 NX PX ttl``, so a
  proof used against one process is a replay against every other.

**Restarts.** A store that forgets must not let a proof it accepted before be used again. Each
store has an *epoch*: a proof whose timestamp is earlier is refused as stale (devices then sign a
new one; their clients do this by themselves).

* Memory store (:func:`restore`, :func:`persist`): a graceful shutdown writes the unexpired nonces
  to the database with a "clean shutdown" marker, and the next start loads them: nothing is
  forgotten, the epoch is 0 (so is it for a database that had no tables before this start). After
  a crash (``kill -9``), what the dead process accepted is unknown, so the epoch is the start
  time: every proof it accepted that was dated at or before the moment it was accepted is older
  than that. The only others are proofs dated *ahead* of the server's clock when they were
  accepted (a device whose clock runs fast): those are rare, and each is written to the database
  before it is accepted, so the next start loads them too. No proof can be replayed across any
  restart; after a crash, a device whose clock runs *behind* the server's must wait that long
  before its new proofs are accepted.
* Redis store: Redis keeps the nonces across pushauth restarts. If Redis itself loses them
  (restarted without persistence, flushed), the first claim after that sets the epoch to that
  moment; run Redis with persistence, or accept that a proof dated in the future by a device
  whose clock runs ahead could be replayed within its window right after Redis lost its data.
"""

from __future__ import annotations

import hashlib
import heapq
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import delete, insert, select

from pushauth_server import errors
from pushauth_server.clock import now_ms
from pushauth_server.storage import Database
from pushauth_server.storage.tables import request_nonces

MAX_NONCE_ENTRIES = 1_000_000


class Claim(Enum):
    FRESH = "fresh"  # first use: accepted
    REPLAYED = "replayed"  # seen before
    BEFORE_EPOCH = "before_epoch"  # older than what this store can vouch for


class NonceStore(Protocol):
    async def claim(
        self, credential_id: str, nonce: str, timestamp_ms: int, expires_at_ms: int
    ) -> Claim: ...

    async def prune(self) -> None: ...

    async def close(self) -> None: ...


def _key(credential_id: str, nonce: str) -> str:
    """A nonce is scoped to its credential: one key per (credential, nonce), of fixed length."""
    return hashlib.sha256(f"{credential_id}\x00{nonce}".encode()).hexdigest()


class MemoryNonceStore:
    def __init__(
        self,
        *,
        database: Database | None = None,
        max_entries: int = MAX_NONCE_ENTRIES,
        epoch_ms: int | None = None,
    ) -> None:
        """``database``: where nonces of proofs dated ahead of the server's clock are written
        before they are accepted (module docstring); without it, none are accepted."""
        # Until ``restore`` says what the previous process left, assume it left nothing known.
        self.epoch_ms = now_ms() if epoch_ms is None else epoch_ms
        self._database = database
        self._durable_expiries: list[int] = []
        self._max = max_entries
        # Keyed by _key(credential, nonce): fixed length, and what a graceful shutdown stores.
        self._seen: dict[str, int] = {}
        self._expiries: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_expired(self, now: int) -> None:
        expiries, seen = self._expiries, self._seen
        while expiries and expiries[0][0] <= now:
            _, key = heapq.heappop(expiries)
            seen.pop(key, None)

    async def claim(
        self, credential_id: str, nonce: str, timestamp_ms: int, expires_at_ms: int
    ) -> Claim:
        if timestamp_ms < self.epoch_ms:
            return Claim.BEFORE_EPOCH
        now = now_ms()
        self._forget_expired(now)
        key = _key(credential_id, nonce)
        if key in self._seen:
            return Claim.REPLAYED
        if len(self._seen) >= self._max:
            raise errors.ServerBusy(
                "Too many device requests in the proof window; retry in a moment.",
                retry_after_seconds=1,
            )
        self.remember(key, expires_at_ms)
        if timestamp_ms > now:
            # Dated ahead of our clock: the start-time epoch would not cover it after a crash.
            if self._database is None:
                return Claim.BEFORE_EPOCH
            async with self._database.write() as connection:
                await connection.execute(
                    insert(request_nonces),
                    {"nonce": key, "credential_id": "-", "expires_at_ms": expires_at_ms},
                )
            self._durable_expiries.append(expires_at_ms)
        return Claim.FRESH

    async def prune(self) -> None:
        """Delete the written nonces whose proofs have expired (nothing to do, nothing written)."""
        now = now_ms()
        if self._database is None or not any(e <= now for e in self._durable_expiries):
            return
        async with self._database.write() as connection:
            await connection.execute(
                delete(request_nonces).where(
                    request_nonces.c.expires_at_ms <= now, request_nonces.c.credential_id == "-"
                )
            )
        self._durable_expiries = [e for e in self._durable_expiries if e > now]

    def remember(self, key: str, expires_at_ms: int) -> None:
        self._seen[key] = expires_at_ms
        heapq.heappush(self._expiries, (expires_at_ms, key))

    def unexpired(self) -> list[tuple[str, int]]:
        self._forget_expired(now_ms())
        return list(self._seen.items())

    async def close(self) -> None:
        self._seen.clear()
        self._expiries.clear()


_CLEAN = {"nonce": "clean-shutdown", "credential_id": ""}  # no real nonce or credential is empty


async def restore(database: Database, store: MemoryNonceStore, *, fresh_database: bool) -> None:
    """At start: take back what a graceful shutdown left, and set the epoch (module docstring)."""
    async with database.write() as connection:
        rows = (await connection.execute(select(request_nonces))).all()
        await connection.execute(delete(request_nonces))
    clean = any(row.credential_id == _CLEAN["credential_id"] for row in rows)
    store.epoch_ms = 0 if fresh_database or clean else now_ms()
    now = now_ms()
    for row in rows:
        if row.credential_id and row.expires_at_ms > now:
            store.remember(row.nonce, row.expires_at_ms)


async def persist(database: Database, store: MemoryNonceStore) -> None:
    """At a graceful shutdown: the unexpired nonces and the clean-shutdown marker."""
    rows = [
        {"credential_id": "-", "nonce": key, "expires_at_ms": expiry}
        for key, expiry in store.unexpired()
    ]
    rows.append({**_CLEAN, "expires_at_ms": now_ms()})
    async with database.write() as connection:
        await connection.execute(delete(request_nonces))
        await connection.execute(insert(request_nonces), rows)


# KEYS[1]: the epoch key, KEYS[2]: the nonce key. ARGV: now, the proof's timestamp, ttl (ms).
# Returns 0 fresh, 1 replayed, 2 before the epoch. One round trip, atomic.
_CLAIM = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[1], 'NX')
  epoch = redis.call('GET', KEYS[1])
end
if tonumber(ARGV[2]) < tonumber(epoch) then return 2 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
return 1
"""


class RedisNonceStore:
    def __init__(self, redis_url: str, *, prefix: str = "pushauth") -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(redis_url)
        self._script = self._redis.register_script(_CLAIM)
        self._epoch_key = f"{prefix}:nonce-epoch"
        self._prefix = f"{prefix}:nonce:"

    async def claim(
        self, credential_id: str, nonce: str, timestamp_ms: int, expires_at_ms: int
    ) -> Claim:
        now = now_ms()
        key = f"{self._prefix}{credential_id}:{nonce}"
        try:
            result = await self._script(
                keys=[self._epoch_key, key], args=[now, timestamp_ms, max(1, expires_at_ms - now)]
            )
        except Exception as exc:  # Redis unreachable: fail closed, and say it is temporary
            raise errors.ServerBusy(
                "The server cannot check request proofs right now; retry in a moment.",
                retry_after_seconds=1,
            ) from exc
        return (Claim.FRESH, Claim.REPLAYED, Claim.BEFORE_EPOCH)[int(result)]

    async def prune(self) -> None:
        return None  # Redis expires the keys itself

    async def close(self) -> None:
        await self._redis.aclose()


def nonce_store(channels_backend: str, redis_url: str, database: Database) -> NonceStore:
    if channels_backend == "redis":
        return RedisNonceStore(redis_url)
    return MemoryNonceStore(database=database)
