"""Measure pushauth-pam's start-up: from starting the process to its first connection to the
server (docs/performance.md, "PAM start-up"). Not a test: timings live outside the suite.

    .venv/bin/python -m tests.pam.measure_startup [RUNS] [PROGRAM]

PROGRAM defaults to this venv's ``pushauth-pam``.

A listening socket stands in for the server; the time is taken from just before the process is
started to the moment the socket accepts its connection (the program then fails its request, so
nothing else is measured). Runs as the current user, who must exist in /etc/passwd.
"""

from __future__ import annotations

import os
import pwd
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.pam.system import PROGRAM, write_config


def once(program: str, config: Path, listener: socket.socket, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [program, "auth", "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    connection, _ = listener.accept()
    elapsed = time.perf_counter() - started
    connection.close()
    process.wait()
    return elapsed * 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    program = sys.argv[2] if len(sys.argv) > 2 else str(PROGRAM)
    user = pwd.getpwuid(os.getuid()).pw_name
    with tempfile.TemporaryDirectory() as directory, socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        config = write_config(
            Path(directory) / "pam.toml", server=f"http://127.0.0.1:{port}", api_key="pak_x"
        )
        env = {"PATH": "/usr/bin:/bin", "PAM_USER": user, "PAM_SERVICE": "sudo"}
        once(program, config, listener, env)  # warm the page cache
        samples = sorted(once(program, config, listener, env) for _ in range(runs))
    print(
        f"{runs} runs, process start to first connect: median {statistics.median(samples):.1f} ms,"
        f" min {samples[0]:.1f} ms, max {samples[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
