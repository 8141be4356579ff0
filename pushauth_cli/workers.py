"""``pushauth serve --workers N``: one listening socket, N server processes, one parent.

The parent binds the socket, prepares the database schema once, points prometheus_client's
multiprocess directory at a fresh directory, then starts N workers (``spawn``: each a fresh
interpreter that builds its own settings, app and uvicorn server on the inherited socket; the
kernel hands each new connection to one of them). It says ``pushauth ready on …`` once every
worker is serving. Workers share what must be shared through PostgreSQL (state, limits, audit)
and Redis (events, request nonces): a device's stream held by one worker gets a challenge
created through another.

On Ctrl-C or SIGTERM the parent sends SIGTERM to every worker (each ends its open streams and
finishes its requests: uvicorn's graceful shutdown) and waits for them, killing any that has not
exited after :data:`STOP_TIMEOUT_SECONDS`. A worker that dies while serving is replaced (its
live gauges are dropped); one that dies before it ever served stops everything, with its error.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from typing import Any

logger = logging.getLogger("pushauth.workers")

STOP_TIMEOUT_SECONDS = 15.0  # uvicorn's graceful shutdown is 5 s; then the app's lifespan ends
START_TIMEOUT_SECONDS = 60.0
_spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to build its own app (pickled to it): the command line's settings."""

    overrides: dict[str, Any]
    log_level: str


def run_worker(spec: WorkerSpec, sockets: list[socket.socket], started: Queue[int]) -> None:
    """A worker's whole life (in the child): settings, app, uvicorn on the parent's socket."""
    from pushauth_cli.serving import server_for
    from pushauth_server.app import create_app
    from pushauth_server.observability import logs
    from pushauth_server.settings import Settings

    settings = Settings.load(**spec.overrides)
    logs.configure(settings.log_format, spec.log_level)
    app = create_app(settings)  # the parent upgraded the schema
    server = server_for(app, settings, spec.log_level, on_started=lambda: started.put(os.getpid()))
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)


class Supervisor:
    def __init__(self, spec: WorkerSpec, count: int, listening: socket.socket) -> None:
        self._spec = spec
        self._count = count
        self._sockets = [listening]
        self._started: Queue[int] = _spawn.Queue()
        self._processes: list[SpawnProcess] = []
        self._stop = threading.Event()
        self.metrics_dir = ""

    def _start_one(self) -> SpawnProcess:
        process = _spawn.Process(
            target=run_worker,
            args=(self._spec, self._sockets, self._started),
            name="pushauth-worker",
        )
        process.start()
        return process

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stop.set()

    def run(self, announce: Any) -> int:
        """Start the workers, call ``announce()`` once all serve, supervise until a signal;
        returns the exit code (0 after a requested stop, 1 if the workers could not start)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        self.metrics_dir = tempfile.mkdtemp(prefix="pushauth-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir  # inherited by every worker
        try:
            self._processes = [self._start_one() for _ in range(self._count)]
            if not self._wait_started():
                return 0 if self._stop.is_set() else 1  # stopped while starting: not a failure
            announce([process.pid for process in self._processes])
            self._supervise()
            return 0
        finally:
            self._stop_all()
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _wait_started(self) -> bool:
        ready: set[int] = set()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while len(ready) < self._count and not self._stop.is_set():
            if time.monotonic() > deadline:
                logger.error(
                    "%d of %d workers did not start within %g s; stopping",
                    self._count - len(ready),
                    self._count,
                    START_TIMEOUT_SECONDS,
                )
                return False
            with contextlib.suppress(Exception):  # queue.Empty: look at the workers again
                ready.add(self._started.get(timeout=0.2))
                continue
            dead = [process for process in self._processes if not process.is_alive()]
            if dead:
                logger.error(
                    "worker %s exited (code %s) before it started serving; stopping",
                    dead[0].pid,
                    dead[0].exitcode,
                )
                return False
        return not self._stop.is_set()

    def _supervise(self) -> None:
        while not self._stop.is_set():
            sentinels = [process.sentinel for process in self._processes]
            wait(sentinels, timeout=0.5)  # a worker exited, or look at the stop flag again
            for index, process in enumerate(self._processes):
                if process.is_alive() or self._stop.is_set():
                    continue
                logger.error(
                    "worker %s died (code %s); starting another", process.pid, process.exitcode
                )
                self._forget(process)
                self._processes[index] = self._start_one()

    def _forget(self, process: SpawnProcess) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        for process in self._processes:
            process.join(STOP_TIMEOUT_SECONDS)
            if process.is_alive():
                logger.error("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
