"""Server-Sent Events, written as bytes: a frame per event, keep-alives as comment lines only.

Payloads are already-encoded JSON (one line: JSON encoders never emit a raw line break), so a
frame is the event name and the bytes, with nothing encoded again per subscriber. Keep-alives are
a comment line and nothing else, so a browser ``EventSource`` does not fire an empty message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar.response import Stream

MEDIA_TYPE = "text/event-stream"
KEEPALIVE = b": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def frame(event: str, data: bytes) -> bytes:
    """One SSE event; ``data`` must be a single line (encoded JSON is)."""
    return b"event: " + event.encode("ascii") + b"\ndata: " + data + b"\n\n"


def response(frames: AsyncIterator[bytes]) -> Stream:
    """A streaming response of ready-made SSE frames."""
    return Stream(frames, media_type=MEDIA_TYPE, headers=HEADERS)
