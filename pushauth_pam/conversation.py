"""The PAM conversation, as pam_pushauth.so relays it: one line per message on stdout, the
answer to a prompt as one line on stdin (see the protocol at the top of pam_pushauth.c).

Text is cleaned of control characters and cut to PAM's message size, so nothing the server or a
remote user sent can draw on the user's terminal.
"""

from __future__ import annotations

import os
import select
import time

__all__ = ["Conversation", "ConversationClosed"]

_MAX_MESSAGE = 500  # under PAM_MAX_MSG_SIZE (512 bytes) with the tag


class ConversationClosed(Exception):
    """The module closed the socket: the user went away (Ctrl-C, dropped connection)."""


def _clean(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return cleaned.encode()[:_MAX_MESSAGE].decode(errors="ignore")


class Conversation:
    def __init__(self, read_fd: int = 0, write_fd: int = 1) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._pending = b""

    def _send(self, tag: str, text: str) -> None:
        data = f"{tag} {_clean(text)}\n".encode()
        try:
            while data:
                data = data[os.write(self._write_fd, data) :]
        except OSError as exc:  # EPIPE: the module is gone
            raise ConversationClosed from exc

    def info(self, text: str) -> None:
        self._send("info", text)

    def error(self, text: str) -> None:
        self._send("error", text)

    def prompt(self, text: str, *, deadline: float, echo: bool = True) -> str | None:
        """Ask and wait for the answer until ``deadline`` (``time.monotonic()``); ``None`` when
        it passes first. ``ConversationClosed`` when the module closed the socket."""
        self._send("prompt-echo-on" if echo else "prompt-echo-off", text)
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(self._read_fd, 4096)
            except OSError as exc:
                raise ConversationClosed from exc
            if not chunk:
                raise ConversationClosed
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode(errors="replace")
