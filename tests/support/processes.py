"""Real processes for integration tests: ``pushauth serve`` on a free port, and the commands.

Nothing here sleeps to synchronise: the server is ready when uvicorn says it is listening (read
from its stderr), and commands are waited for by their exit.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

API_KEY = "pak_test-" + "k" * 40
READY_LINE = "pushauth ready on"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment minus anything PUSHAUTH_ the developer may have set, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHAUTH_")}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


@dataclass
class Server:
    workdir: Path
    database_url: str
    settings: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # more `pushauth serve` options (last wins)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return clean_env({"PUSHAUTH_API_KEY": API_KEY, "PUSHAUTH_URL": self.url, **self.settings})

    def start(self) -> None:
        ready = threading.Event()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pushauth_cli",
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--log-level",
                "warning",
                *self.args,
            ],
            cwd=self.workdir,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        process = self.process

        def drain() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.log.append(line)
                if READY_LINE in line:
                    ready.set()
            ready.set()  # the process ended: stop waiting either way

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(30) or process.poll() is not None:
            self.stop()
            raise RuntimeError("pushauth serve did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Commands:
    """Runs the real ``pushauth`` and ``pushauth-device`` commands against a server."""

    server: Server
    env_extra: dict[str, str]

    def env(self, device_home: Path | None = None) -> dict[str, str]:
        env = self.server.env()
        env.update(self.env_extra)
        if device_home is not None:
            env["PUSHAUTH_DEVICE_HOME"] = str(device_home)
        return env

    def pushauth(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pushauth_cli", *args],
            cwd=self.server.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def device(
        self, home: Path, *args: str, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pushauth_device", *args],
            cwd=self.server.workdir,
            env=self.env(home),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def device_popen(self, home: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pushauth_device", *args],
            cwd=self.server.workdir,
            env=self.env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def pushauth_popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pushauth_cli", *args],
            cwd=self.server.workdir,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@contextlib.contextmanager
def running_server(
    workdir: Path,
    database_url: str,
    settings: Mapping[str, str] | None = None,
    args: list[str] | None = None,
) -> Iterator[Server]:
    server = Server(
        workdir=workdir,
        database_url=database_url,
        settings=dict(settings or {}),
        args=list(args or []),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
