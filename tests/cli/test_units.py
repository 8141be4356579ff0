"""CLI pieces without a server: exit codes, --since parsing, the big number, init."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pushauth_cli.commands.operations import parse_since
from pushauth_cli.errors import exit_code_for
from pushauth_cli.exit_codes import ExitCode, for_status
from pushauth_cli.main import app
from pushauth_cli.render import big_number
from pushauth_server.client import (
    ApiError,
    ChallengeNotPending,
    NoEnrolledDevice,
    Refused,
    ServerUnreachable,
    Unauthorized,
)


def test_status_exit_codes() -> None:
    assert for_status("approved") == ExitCode.APPROVED == 0
    assert for_status("denied") == ExitCode.DENIED == 1
    assert for_status("expired") == ExitCode.EXPIRED == 3
    assert for_status("cancelled") == ExitCode.EXPIRED


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ServerUnreachable("down"), 6),
        (NoEnrolledDevice(status_code=409, code="no_enrolled_device", message="m"), 4),
        (Unauthorized(status_code=401, code="invalid_api_key", message="m"), 5),
        (Refused(status_code=429, code="rate_limited", message="m"), 5),
        (ChallengeNotPending(status_code=409, code="challenge_not_pending", message="m"), 5),
        (ApiError(status_code=403, code="user_locked", message="m"), 5),
    ],
)
def test_client_errors_map_to_documented_exit_codes(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code  # type: ignore[arg-type]


def test_since_accepts_durations_and_iso_times() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == int(
        datetime(2026, 11, 23, 11, 30, tzinfo=UTC).timestamp() * 1000
    )
    assert parse_since("2h", now) == int(
        datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp() * 1000
    )
    assert parse_since("2026-11-20T00:00:00+00:00") == int(
        datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000
    )
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday")


def test_big_number_keeps_the_plain_digits() -> None:
    text = big_number("042917").plain
    assert "0 4 2 9 1 7" in text
    assert len(text.splitlines()) == 5


def test_init_writes_a_private_env_file_and_will_not_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("PUSHAUTH_"):
            monkeypatch.delenv(key)
    runner = CliRunner()
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    env_file = tmp_path / ".env"
    content = env_file.read_text()
    assert "PUSHAUTH_API_KEY=pak_" in content
    assert "PUSHAUTH_URL=http://127.0.0.1:8300" in content
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 1
    assert env_file.read_text() == content
    forced = runner.invoke(app, ["init", "--force"])
    assert forced.exit_code == 0
    assert env_file.read_text() != content
    for key in ("PUSHAUTH_API_KEY", "PUSHAUTH_URL", "PUSHAUTH_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)


def test_help_lists_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["signin", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "6 server unreachable" in result.output


def test_serve_never_prints_a_database_password() -> None:
    from pushauth_cli.commands.server import _safe_url

    assert "hunter2" not in _safe_url("postgresql+asyncpg://pushauth:hunter2@db/pushauth")
    assert _safe_url("sqlite+aiosqlite:///./pushauth.db") == "sqlite+aiosqlite:///./pushauth.db"
