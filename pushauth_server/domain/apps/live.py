"""Whether the key a long request (a stream) was opened with still works.

The API-key check runs once per request; a stream lasts. So an open stream asks again, at most
once per interval (its keep-alive interval), and ends when the key was revoked or its rotation's
grace ended: a leaked key the operator revoked does not keep an audit stream it opened before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.connection import ASGIConnection

from pushauth_server.domain.apps.identity import calling_key_hash
from pushauth_server.domain.apps.service import AppService

logger = logging.getLogger("pushauth.apps")


class KeyStillLive:
    """Call it as the stream goes on: False once the request's key no longer works (one indexed
    read per ``interval`` at most; the bootstrap key, changed only by a restart, needs none)."""

    def __init__(
        self, apps: AppService, connection: ASGIConnection[Any, Any, Any, Any], interval: float
    ) -> None:
        self._apps = apps
        self._digest = calling_key_hash(connection)
        self._interval = interval
        self._checked = time.monotonic()  # the request's own check, just made

    async def __call__(self) -> bool:
        if self._digest is None:
            return True
        now = time.monotonic()
        if now - self._checked < self._interval:
            return True
        self._checked = now
        try:
            return await self._apps.live(self._digest) is not None
        except Exception:  # the database cannot say: end the stream cleanly (it may reconnect)
            logger.warning("could not check a stream's API key again; the stream ends")
            return False


__all__ = ["KeyStillLive"]
