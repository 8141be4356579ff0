"""`pushauth serve --workers N` and `--log-format`: what is refused before anything starts.

Several workers share state only through PostgreSQL and Redis; on SQLite or with the memory
backend they would each hold their own streams, nonces and limits — refused with a clear
message, exit 2, and nothing listening. (The workers themselves: tests/integration/test_workers.py.)
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import API_KEY, clean_env, free_port


def serve(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], int]:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "pushauth_cli", "serve", "--port", str(port), *args],
        cwd=tmp_path,
        env=clean_env({"PUSHAUTH_API_KEY": API_KEY, **env}),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return result, port


def said(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join(result.stderr.split())


def nothing_listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_workers_on_sqlite_and_memory_are_refused(tmp_path: Path) -> None:
    result, port = serve(tmp_path, "--workers", "2")
    assert result.returncode == 2
    text = said(result)
    assert "--workers 2 needs every worker to share the same state" in text
    assert "the database is SQLite" in text
    assert "PUSHAUTH_CHANNELS_BACKEND=redis" in text
    assert "Run with --workers 1" in text
    assert "Traceback" not in result.stderr
    assert nothing_listens(port)
    assert not (tmp_path / "pushauth.db").exists()  # refused before creating anything


def test_workers_on_postgres_without_redis_are_refused(tmp_path: Path) -> None:
    result, _ = serve(
        tmp_path,
        "--workers",
        "3",
        "--database-url",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    assert result.returncode == 2
    text = said(result)
    assert "the database is SQLite" not in text
    assert "PUSHAUTH_CHANNELS_BACKEND=redis" in text


def test_workers_with_redis_but_no_secret_are_refused(tmp_path: Path) -> None:
    result, _ = serve(
        tmp_path,
        "--workers",
        "2",
        "--database-url",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        PUSHAUTH_CHANNELS_BACKEND="redis",
    )
    assert result.returncode == 2
    assert "PUSHAUTH_SECRET must be set" in said(result)


@pytest.mark.parametrize("args", [["--log-format", "xml"], ["--workers", "0"]])
def test_bad_values_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    result, port = serve(tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert nothing_listens(port)
