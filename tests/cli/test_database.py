"""`pushauth db upgrade` and `pushauth db current`, as a script and a person see them: the real
command on a real SQLite file (PostgreSQL: tests/migrations), and its exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from pushauth_server.storage.migrate import BASELINE, head
from tests.migrations.cli import pushauth
from tests.migrations.fixtures import load_sqlite


def test_upgrade_creates_a_new_database_then_has_nothing_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = pushauth(tmp_path, "db", "upgrade", "--database-url", url, "--json")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["created"] is True
    assert created["applied"][0] == BASELINE
    assert created["after"] == head()
    assert created["backup"] is None  # nothing to back up in a new database
    assert stat.S_IMODE(os.stat(tmp_path / "new.db").st_mode) == 0o600
    again = pushauth(tmp_path, "db", "upgrade", "--database-url", url)
    assert again.returncode == 0, again.stderr
    assert f"database schema is current ({head()})" in again.stdout


def test_current_and_upgrade_say_what_they_do_for_a_person(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    load_sqlite(path)  # made by the released pushauth, before migrations
    url = f"sqlite:///{path}"
    before = pushauth(tmp_path, "db", "current", "--database-url", url)
    assert before.returncode == 0, before.stderr
    assert "revision: none (made before migrations)" in before.stdout
    assert f"this pushauth: {head()}" in before.stdout
    assert "behind: `pushauth db upgrade` would run 0002_hot_path_and_audit_chain" in before.stdout
    upgraded = pushauth(tmp_path, "db", "upgrade", "--database-url", url)
    assert upgraded.returncode == 0, upgraded.stderr
    text = " ".join(upgraded.stdout.split())
    assert f"upgraded the database schema from before migrations to {head()}" in text
    [backup] = tmp_path.glob("old.db.backup-unversioned-*")
    assert str(backup) in upgraded.stdout.replace("\n", "")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT count(*) FROM credentials").fetchone()[0] == 5
    copy.close()
    after = pushauth(tmp_path, "db", "current", "--database-url", url)
    assert f"revision: {head()}" in after.stdout
    assert "up to date" in after.stdout


def test_the_url_comes_from_the_environment_or_dot_env_as_for_serve(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"PUSHAUTH_DATABASE_URL=sqlite:///{tmp_path / 'env.db'}\n")
    result = pushauth(tmp_path, "db", "upgrade", "--json")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()
    current = pushauth(tmp_path, "db", "current", "--json")
    assert json.loads(current.stdout)["status"] == "current"


def test_current_on_a_missing_file_changes_nothing_and_exits_7(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    result = pushauth(tmp_path, "db", "current", "--database-url", url)
    assert result.returncode == 7
    assert "No database at" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_an_unreachable_database_exits_6(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://pushauth@127.0.0.1:1/pushauth"  # nothing listens on port 1
    for command in ("current", "upgrade"):
        result = pushauth(tmp_path, "db", command, "--database-url", url)
        assert result.returncode == 6, result.stderr
        assert "Could not reach the database" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_database_locked_by_another_process_is_left_alone_with_exit_7(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    load_sqlite(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database throughout
    try:
        result = pushauth(tmp_path, "db", "upgrade", "--database-url", f"sqlite:///{path}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 7, result.stderr
    assert "locked by another process" in result.stderr
    assert "Traceback" not in result.stderr
    current = pushauth(tmp_path, "db", "current", "--database-url", f"sqlite:///{path}", "--json")
    assert json.loads(current.stdout)["status"] == "behind"  # nothing changed
