"""CLI pieces without a server: --since parsing, the big number, init's .env, printed URLs."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pushauth_cli.commands.operations import parse_since
from pushauth_cli.commands.server import _new_sqlite_file, _safe_url
from pushauth_cli.config import DEFAULT_DATABASE_URL
from pushauth_cli.main import app
from pushauth_cli.render import big_number
from pushauth_server.settings import DEFAULT_DATABASE_URL as SERVER_DEFAULT_DATABASE_URL


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
    # Without a zone, a time is the operator's local time (as the CLI prints times).
    local = datetime(2026, 11, 20, 8, 30).astimezone()
    assert parse_since("2026-11-20T08:30:00") == int(local.timestamp() * 1000)
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday")


def test_big_number_keeps_the_plain_digits() -> None:
    text = big_number("042917").plain
    assert "0 4 2 9 1 7" in text
    assert len(text.splitlines()) == 5


def test_init_writes_a_private_env_file_and_will_not_overwrite(
    runner: CliRunner, tmp_path: Path
) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    env_file = tmp_path / ".env"
    content = env_file.read_text()
    assert "PUSHAUTH_API_KEY=pak_" in content
    assert "PUSHAUTH_URL=http://127.0.0.1:8300" in content
    # The deployment secret webhooks need (endpoint secrets are sealed under it): 256 bits.
    [secret] = [line for line in content.splitlines() if line.startswith("PUSHAUTH_SECRET=")]
    assert len(secret.split("=", 1)[1]) >= 43
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 7  # nothing done
    assert env_file.read_text() == content
    forced = runner.invoke(app, ["init", "--force"])
    assert forced.exit_code == 0
    assert env_file.read_text() != content


def test_the_cli_writes_the_servers_default_database() -> None:
    # Repeated so that `pushauth --help` need not import the server's settings.
    assert DEFAULT_DATABASE_URL == SERVER_DEFAULT_DATABASE_URL


def test_serve_never_prints_a_database_password() -> None:
    assert "hunter2" not in _safe_url("postgresql+asyncpg://pushauth:hunter2@db/pushauth")
    assert _safe_url("sqlite+aiosqlite:///./pushauth.db") == "sqlite+aiosqlite:///./pushauth.db"


def test_serve_knows_when_it_starts_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "pushauth.db"
    assert _new_sqlite_file(f"sqlite+aiosqlite:///{path}") == path
    path.touch()
    assert _new_sqlite_file(f"sqlite+aiosqlite:///{path}") is None
    assert _new_sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert _new_sqlite_file("postgresql+asyncpg://postgres@127.0.0.1/test") is None
