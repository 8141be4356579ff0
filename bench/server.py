"""``pushauth serve`` as a subprocess on a free port, and what the kernel says it costs.

The server is started exactly as an operator would start it, with only ``PUSHAUTH_API_KEY`` set
(nothing else ``PUSHAUTH_`` is inherited), and is ready when it prints its ready line. Memory is
``VmRSS`` from ``/proc/<pid>/status``; CPU time is ``utime + stime`` from ``/proc/<pid>/stat``;
with ``--workers N`` both are summed over the parent and its workers.
"""

from __future__ import annotations

import collections
import contextlib
import os
import resource
import secrets
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

READY_LINE = "pushauth ready on"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0


class ServerFailed(RuntimeError):
    """The server did not start, or exited under load."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_file_limit() -> dict[str, int]:
    """Raise this process's soft open-file limit to the hard limit (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {"soft_before": before, "soft": soft, "hard": hard}


def _proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerFailed(f"no VmRSS for pid {pid}")


def _proc_cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """``pid``'s children, grandchildren... (``serve --workers N``: the workers)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class ServerProcess:
    workdir: Path
    database_url: str
    api_key: str = field(default_factory=lambda: "pak_bench-" + secrets.token_urlsafe(30))
    port: int = field(default_factory=free_port)
    env_extra: dict[str, str] = field(default_factory=dict)
    workers: int = 1  # `pushauth serve --workers N`
    log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    process: subprocess.Popen[str] | None = None
    _drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerFailed("the server is not running")
        return self.process.pid

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHAUTH_")}
        env.update({"PUSHAUTH_API_KEY": self.api_key, "NO_COLOR": "1", "COLUMNS": "200"})
        env.update(self.env_extra)
        return env

    def start(self) -> None:
        """Start ``pushauth serve`` and block until it says it is listening."""
        ready = threading.Event()
        command = [
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
            "--workers",
            str(self.workers),
        ]
        self.process = process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def drain() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.log.append(line)
                if READY_LINE in line:
                    ready.set()
            ready.set()  # the process ended: stop waiting either way

        self._drain = threading.Thread(target=drain, name="pushauth-serve-stderr", daemon=True)
        self._drain.start()
        if not ready.wait(START_TIMEOUT_SECONDS) or process.poll() is not None:
            self.stop()
            raise ServerFailed("pushauth serve did not start:\n" + "".join(self.log))

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise ServerFailed("pushauth serve exited:\n" + "".join(self.log))

    def pids(self) -> list[int]:
        """The server's processes: the one, or the parent and its workers."""
        return [self.pid, *_descendants(self.pid)]

    def rss_kib(self) -> int:
        return sum(_proc_rss_kib(pid) for pid in self.pids())

    def cpu_seconds(self) -> float:
        """CPU time of every server process (a worker that exited is no longer counted)."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += _proc_cpu_seconds(pid)
        return total

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._drain is not None:
            self._drain.join(5)  # reads to EOF now that the process is gone
        if process.stderr is not None:
            process.stderr.close()
