"""Waiting for a real server's log lines: they are read from its stderr by a thread, so the
only event to wait on is the lines themselves (bounded, never a fixed sleep)."""

from __future__ import annotations

import threading
import time

from tests.support.processes import Server


def wait_for_lines(server: Server, text: str, count: int, timeout: float = 30) -> list[str]:
    """The log lines containing ``text`` once there are ``count`` (or all there are at timeout)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        lines = [line for line in server.log if text in line]
        if len(lines) >= count:
            return lines
        pause.wait(0.02)
    return [line for line in server.log if text in line]
