"""``scripts/backup-restore``: a backup of a populated, running server restores into a fresh
database on which ``pushauth audit verify`` passes and the enrolled devices are there.

SQLite (the sqlite3 online backup API, taken while the server writes) and PostgreSQL
(pg_dump/pg_restore into a new database).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.integration.helpers import challenge, enroll_device, start_signin
from tests.integration.test_scale_out import ADMIN_DSN
from tests.support.processes import Commands, running_server

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "backup-restore"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def populate(commands: Commands, home: Path) -> str:
    """A device enrolled and a sign-in approved: devices, challenges and a chained audit trail."""
    credential_id = enroll_device(commands, home, "rita", name="rita-phone")
    signin, challenge_id = start_signin(commands, "rita")
    code = str(challenge(commands, challenge_id)["verification_code"])
    assert commands.device(home, "approve", challenge_id, "--code", code).returncode == 0
    signin.communicate(timeout=60)
    assert signin.returncode == 0
    return credential_id


def check_restored(commands: Commands, credential_id: str) -> None:
    verified = commands.pushauth("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = commands.pushauth("devices", "--json")
    assert listed.returncode == 0, listed.stderr
    devices = json.loads(listed.stdout)["devices"]
    assert [d["credential_id"] for d in devices] == [credential_id]


def test_sqlite_backup_while_running_restores(tmp_path: Path, keyring_env: dict[str, str]) -> None:
    source_dir, target_dir = tmp_path / "source", tmp_path / "target"
    source_dir.mkdir()
    target_dir.mkdir()
    source = f"sqlite:///{source_dir / 'pushauth.db'}"
    target = f"sqlite+aiosqlite:///{target_dir / 'restored.db'}"
    backup = tmp_path / "pushauth.backup"
    with running_server(source_dir, source) as server:
        commands = Commands(server=server, env_extra=keyring_env)
        credential_id = populate(commands, tmp_path / "phone")
        made = run_script("backup", source, str(backup))  # the server is running
        assert made.returncode == 0, made.stderr
    assert backup.stat().st_mode & 0o077 == 0  # the backup is its owner's only
    refused = run_script("backup", source, str(backup))
    assert refused.returncode == 1
    assert "exists" in refused.stderr  # never overwrites
    restored = run_script("restore", str(backup), target)
    assert restored.returncode == 0, restored.stderr
    assert run_script("restore", str(backup), target).returncode == 1  # nor overwrites a db
    with running_server(target_dir, target) as server:
        check_restored(Commands(server=server, env_extra=keyring_env), credential_id)


@pytest.fixture
async def two_databases() -> AsyncIterator[tuple[str, str]]:
    names = [f"pushauth_test_{secrets.token_hex(6)}" for _ in range(2)]
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        urls = [f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}" for name in names]
        yield urls[0], urls[1]
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.mark.postgres
def test_postgres_backup_while_running_restores(
    tmp_path: Path, keyring_env: dict[str, str], two_databases: tuple[str, str]
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (scripts/test installs postgresql-client)")
    source, target = two_databases
    backup = tmp_path / "pushauth.dump"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_server(tmp_path / "a", source) as server:
        commands = Commands(server=server, env_extra=keyring_env)
        credential_id = populate(commands, tmp_path / "phone")
        made = run_script("backup", source, str(backup))
        assert made.returncode == 0, made.stderr
        refused = run_script("restore", str(backup), source)  # not over a live database
        assert refused.returncode == 1
        assert "already has pushauth tables" in refused.stderr
    restored = run_script("restore", str(backup), target)
    assert restored.returncode == 0, restored.stderr
    with running_server(tmp_path / "b", target) as server:
        check_restored(Commands(server=server, env_extra=keyring_env), credential_id)


def _small_sqlite(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE t (x)")
    return f"sqlite:///{path}"


def test_nothing_is_written_through_a_symbolic_link(tmp_path: Path) -> None:
    # A link planted where the backup (or the restored database) is to go, pointing at a file
    # that does not exist yet: following it would write the whole database where it points.
    source = _small_sqlite(tmp_path / "pushauth.db")
    elsewhere = tmp_path / "elsewhere"
    planted = tmp_path / "backup.db"
    planted.symlink_to(elsewhere)
    refused = run_script("backup", source, str(planted))
    assert refused.returncode == 1, refused.stderr
    assert "exists (or is a symbolic link)" in refused.stderr
    assert not elsewhere.exists()
    backup = tmp_path / "real.backup"
    assert run_script("backup", source, str(backup)).returncode == 0
    assert backup.stat().st_mode & 0o777 == 0o600
    target = tmp_path / "restored.db"
    target.symlink_to(elsewhere)
    refused = run_script("restore", str(backup), f"sqlite:///{target}")
    assert refused.returncode == 1, refused.stderr
    assert not elsewhere.exists()
    assert "Traceback" not in refused.stderr


def test_a_failed_backup_leaves_no_file(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("x" * 4096)
    backup = tmp_path / "backup.db"
    failed = run_script("backup", f"sqlite:///{not_a_database}", str(backup))
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert not backup.exists()  # no half backup to be mistaken for one, nor to block a retry


def test_a_database_password_is_never_printed(tmp_path: Path) -> None:
    password = "hunter2-" + secrets.token_hex(8)
    refused = run_script("backup", f"mysql://pushauth:{password}@db/pushauth", str(tmp_path / "b"))
    assert refused.returncode == 1
    assert "mysql://pushauth:***@db/pushauth" in refused.stderr
    assert password not in refused.stdout + refused.stderr


@pytest.mark.postgres
def test_a_postgres_password_is_not_printed_on_success(
    tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (scripts/test installs postgresql-client)")
    password = "hunter2-" + secrets.token_hex(8)  # the test cluster trusts 127.0.0.1
    source = two_databases[0].replace("postgres@", f"postgres:{password}@")
    made = run_script("backup", source, str(tmp_path / "pushauth.dump"))
    assert made.returncode == 0, made.stderr
    assert "backed up postgresql+asyncpg://postgres:***@127.0.0.1" in made.stderr
    assert password not in made.stdout + made.stderr


@pytest.mark.postgres
def test_a_file_name_that_looks_like_an_option_is_a_file(
    tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    # Names go to pg_dump/pg_restore as arguments (no shell); one starting with "-" must still
    # be read as the file, never as an option.
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (scripts/test installs postgresql-client)")
    source, target = two_databases

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    made = run("backup", source, "-l")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "-l").stat().st_size > 0
    restored = run("restore", "-l", target)
    assert restored.returncode == 0, restored.stderr
    assert "restored -l into" in restored.stderr
