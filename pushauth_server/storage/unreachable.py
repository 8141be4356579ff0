"""A database that cannot be reached is overload, not a bug: ``503 server_busy`` and retry.

Before a transaction commits, losing the connection (the server restarted, an operator's
``pg_terminate_backend``, a network cut) or failing to open one means nothing changed; the
request is answered ``503`` with ``Retry-After`` and the pool reconnects on the next checkout.
(A connection lost *during* ``COMMIT`` is the one ambiguous case any database client has: the
answer is still 503, and the retried request sees what was committed.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError

from pushauth_server import errors

# Connection exceptions (class 08), and the server shutting down or not yet accepting (57P0x).
_UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (
        getattr(exc, "orig", None),
        getattr(getattr(exc, "orig", None), "__cause__", None),
    ):
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, errors.PushAuthError):
        return False
    if isinstance(exc, OSError):  # refused, reset, unreachable: before any statement ran
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = _sqlstate(exc) or ""
        return state.startswith(_UNREACHABLE_SQLSTATES)
    return False


def unreachable() -> errors.ServerBusy:
    return errors.ServerBusy(
        "The database cannot be reached just now; nothing changed. Retry shortly.",
        retry_after_seconds=2,
    )


@asynccontextmanager
async def busy_when_unreachable() -> AsyncIterator[None]:
    """Turn a lost or refused database connection inside the block into ``ServerBusy``."""
    try:
        yield
    except Exception as exc:
        if is_unreachable(exc):
            raise unreachable() from exc
        raise
