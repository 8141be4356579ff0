"""uvicorn for ``pushauth serve``; imported only by that command (uvicorn is slow to import)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from pushauth_cli.render import err

READY_LINE = "pushauth ready on"


class ReadyServer(uvicorn.Server):
    """uvicorn, saying once that it listens, at any log level (scripts and tests wait for it).

    ``before_shutdown`` runs as soon as a shutdown starts (Ctrl-C, SIGTERM): the app ends its
    open event streams there, so uvicorn's graceful shutdown finds every response finished
    instead of cancelling them after its timeout (with a traceback each). ``on_started`` replaces
    the ready line (a worker tells its parent instead; the parent says it once all are up).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        before_shutdown: Callable[[], None] | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown
        self._on_started = on_started

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._before_shutdown is not None:
            self._before_shutdown()
        await super().shutdown(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        if self._on_started is not None:
            self._on_started()
        else:
            host, port = self.config.host, self.config.port
            err.print(f"{READY_LINE} http://{host}:{port}", soft_wrap=True)


def server_for(
    app: Any, settings: Any, log_level: str, *, on_started: Callable[[], None] | None = None
) -> ReadyServer:
    """The uvicorn server of one process (the only one, or one worker) for ``app``."""
    from pushauth_server.connections import connection_limits, guarded_protocol
    from pushauth_server.observability.logs import logging_config

    services = app.state["services"]
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        log_config=logging_config(settings.log_format, log_level),
        access_log=False,  # one pushauth.request line per request instead (request_log.py)
        # Open event streams are ended as the shutdown starts (before_shutdown); devices
        # reconnect (and get what is pending) when the server is back. 5 s for the rest.
        timeout_graceful_shutdown=5,
        # Bounded connections (pushauth_server/connections.py): uvicorn's parser, guarded.
        http=guarded_protocol(
            connection_limits(settings), on_refusal=services.metrics.connection_refused
        ),
        h11_max_incomplete_event_size=settings.max_header_bytes + 1024,  # the guard's backstop
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
    )
    return ReadyServer(config, before_shutdown=services.notifier.hub.close, on_started=on_started)
