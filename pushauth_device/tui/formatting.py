"""Times and durations as the screens show them, in one place (and one time zone)."""

from __future__ import annotations

from datetime import datetime, tzinfo

__all__ = ["clock_time", "countdown", "date_time"]


def clock_time(at_ms: int, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz).astimezone(tz).strftime("%H:%M:%S")


def date_time(at_ms: int, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def countdown(remaining_ms: int) -> str:
    seconds = max(0, -(-remaining_ms // 1000))  # round up: "0:01" until it is really over
    return f"{seconds // 60}:{seconds % 60:02d}"
