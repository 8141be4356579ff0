"""Log lines a machine can read: ``--log-format json`` (one JSON object per line) or ``text``.

Every line has the time (UTC, ISO 8601), the level, the logger and the message; structured facts
travel in ``extra={"fields": {...}}`` and become JSON members, or ``key=value`` pairs in text.
Two kinds of line matter to operators (docs/operations.md, "Logs"):

* ``pushauth.request``: one per HTTP request, when its response ends (:mod:`.request_log`), at
  INFO (``--log-level warning`` turns them off, as it does uvicorn's access log);
* ``pushauth.security``: one per security event (a refused key, a bad signature, a replay, a
  lock...), from the audit log (:func:`security_event`), at WARNING.

What is logged is chosen field by field: never a key, token, code, signature or nonce.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

security_logger = logging.getLogger("pushauth.security")

# Detail members of an audit record that are safe to log (never its receipt or context).
_SAFE_DETAIL = ("reason", "code", "what", "path", "client", "count", "status", "until")


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in _fields(record).items():
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


def _text_value(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=\\' for c in text) or not text.isprintable():
        return json.dumps(text)  # quoted, with newlines and quotes escaped: one line, unambiguous
    return text


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER MESSAGE key=value ...``, one line per record (tracebacks indented)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\n", "\\n")
        parts = [_timestamp(record), record.levelname, record.name, message]
        parts += [f"{k}={_text_value(v)}" for k, v in _fields(record).items() if v is not None]
        parts.append(f"pid={record.process}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + "\n".join(
                "    " + row for row in self.formatException(record.exc_info).splitlines()
            )
        return line


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for the server and uvicorn, all lines on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "pushauth": {"()": f"{__name__}.{type(formatter(log_format)).__name__}"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "pushauth",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "pushauth": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "propagate": False},  # pushauth.request instead
            # Alembic's INFO lines ("Context impl SQLiteImpl.") at every start are noise:
            # pushauth logs what an upgrade ran itself (storage/migrate.py describe_upgrade).
            "alembic": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def configure(log_format: LogFormat, level: str = "info") -> None:
    import logging.config

    logging.config.dictConfig(logging_config(log_format, level))


def security_event(
    event: str,
    *,
    client: str | None = None,
    user_id: str | None = None,
    credential_id: str | None = None,
    challenge_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One ``pushauth.security`` line; only the listed, non-secret facts of ``detail``."""
    fields: dict[str, Any] = {
        "event": event,
        "user_id": user_id,
        "credential_id": credential_id,
        "challenge_id": challenge_id,
        "client": client,
    }
    for key in _SAFE_DETAIL:
        if detail and key in detail and isinstance(detail[key], str | int | float | bool):
            fields[key] = detail[key]
    security_logger.warning("security event %s", event, extra={"fields": fields})
