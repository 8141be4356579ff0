"""The two log formats: one line per record, whatever the values hold (no forged fields)."""

from __future__ import annotations

import json
import logging
import shlex

import pytest

from pushauth_server.observability.logs import JsonFormatter, TextFormatter, logging_config

HOSTILE = '/v1/users\n2026-01-01T00:00:00.000Z WARNING pushauth.security event=forged "x=1'


def record(**fields: object) -> logging.LogRecord:
    made = logging.LogRecord("pushauth.security", logging.WARNING, __file__, 1, "m\nn", None, None)
    made.fields = fields
    return made


def test_json_is_one_object_per_line_with_the_fields() -> None:
    line = JsonFormatter().format(record(event="security.x", path=HOSTILE, user_id=None))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["path"] == HOSTILE
    assert parsed["event"] == "security.x"
    assert "user_id" not in parsed  # None is left out
    assert parsed["level"] == "warning"
    assert parsed["logger"] == "pushauth.security"
    assert parsed["ts"].endswith("Z")


def test_text_quotes_what_could_forge_a_field_or_a_line() -> None:
    line = TextFormatter().format(record(event="security.x", path=HOSTILE))
    assert "\n" not in line
    _ts, level, logger, rest = line.split(" ", 3)
    assert (level, logger) == ("WARNING", "pushauth.security")
    pairs = [token for token in shlex.split(rest.split(" ", 1)[1]) if "=" in token]
    fields = dict(pair.split("=", 1) for pair in pairs)
    assert fields["event"] == "security.x"  # the forged "event=forged" stayed inside path
    assert json.loads(line.split("path=", 1)[1].rsplit(" pid=", 1)[0]) == HOSTILE


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_config_sends_pushauth_and_uvicorn_through_one_formatter(log_format: str) -> None:
    config = logging_config(log_format, "warning")  # type: ignore[arg-type]
    assert set(config["loggers"]) >= {"pushauth", "uvicorn", "uvicorn.access"}
    assert config["loggers"]["pushauth"]["level"] == "WARNING"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []  # pushauth.request instead
    expected = "JsonFormatter" if log_format == "json" else "TextFormatter"
    assert config["formatters"]["pushauth"]["()"].endswith(expected)
