"""uvicorn for ``pushauth serve``; imported only by that command (uvicorn is slow to import)."""

from __future__ import annotations

import socket

import uvicorn

from pushauth_cli.render import err

READY_LINE = "pushauth ready on"


class ReadyServer(uvicorn.Server):
    """uvicorn, saying once that it listens, at any log level (scripts and tests wait for it)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.config.host, self.config.port
            err.print(f"{READY_LINE} http://{host}:{port}", soft_wrap=True)
