"""uvicorn for ``pushauth serve``; imported only by that command (uvicorn is slow to import)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from pushauth_cli.render import err

READY_LINE = "pushauth ready on"


class ReadyServer(uvicorn.Server):
    """uvicorn, saying once that it listens, at any log level (scripts and tests wait for it).

    ``before_shutdown`` runs as soon as a shutdown starts (Ctrl-C, SIGTERM): the app ends its
    open event streams there, so uvicorn's graceful shutdown finds every response finished
    instead of cancelling them after its timeout (with a traceback each).
    """

    def __init__(
        self, config: uvicorn.Config, *, before_shutdown: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._before_shutdown is not None:
            self._before_shutdown()
        await super().shutdown(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.config.host, self.config.port
            err.print(f"{READY_LINE} http://{host}:{port}", soft_wrap=True)
