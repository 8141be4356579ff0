"""A database made by the released pushauth (7f053d1, before migrations) is upgraded with every
row intact, and its audit trail still verifies, on SQLite and PostgreSQL (issue 11, item 4).

The fixtures were made by that release's own code (scripts/migration_fixtures/make.sh): enrolled
devices, a revoked one, pending, approved, denied, "not me", cancelled and expired challenges with
their signed receipts, failure counts and a lockout, unused enrollment tokens, the audit trail.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from pushauth_server.storage.migrate import BASELINE, head
from tests.conftest import StartServer
from tests.migrations.cli import db, pushauth
from tests.migrations.fixtures import NEW_COLUMNS, OLD_TABLES, load, load_sqlite, rows
from tests.migrations.revisions import LATER
from tests.support.databases import Blank, blank, pg_connect  # noqa: F401
from tests.support.processes import Commands


async def test_every_row_survives_and_the_audit_trail_verifies(
    blank: Blank, tmp_path: Path, start_server: StartServer
) -> None:
    reference = tmp_path / "reference.db"
    await load(blank, reference=reference)
    before = db(tmp_path / "cli", "current", blank.url)
    assert before["status"] == "behind"
    assert before["current"] is None
    assert before["made_before_migrations"] is True
    assert before["pending"] == list(LATER)

    upgraded = db(tmp_path / "cli", "upgrade", blank.url)
    assert upgraded["applied"] == list(LATER)
    assert upgraded["after"] == head()
    assert (upgraded["backup"] is not None) == blank.is_sqlite

    counts = {}
    for table, (_, columns) in OLD_TABLES.items():
        old = await rows(blank, table, columns, reference=reference)
        assert old, f"the fixture has no {table} rows"
        assert await rows(blank, table, columns) == old, table  # every row, every value
        counts[table] = len(old)
        for column in NEW_COLUMNS.get(table, ()):
            assert {row[0] for row in await rows(blank, table, (column,))} == {None}, column
    assert counts["credentials"] >= 5
    challenge_states = {r[0] for r in await rows(blank, "challenges", ("status",))}
    assert challenge_states >= {"pending", "approved", "denied", "cancelled", "expired"}
    assert any(r[0] for r in await rows(blank, "user_limits", ("locked_not_me",)))
    assert await rows(blank, "applications", ("app_id", "name", "scopes")) == [
        ("app_operator", "operator", "admin challenges enrollment")
    ]
    assert await rows(blank, "api_keys", ("key_id",)) == []
    assert await rows(blank, "deployment_origins", ("origin",)) == []
    assert db(tmp_path / "cli", "current", blank.url)["status"] == "current"

    server = start_server(blank.url)
    verified = Commands(server=server, env_extra={}).pushauth("audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["valid"] is True, report["problems"]
    assert report["problems"] == []
    assert report["chain"]["before_chain"] == counts["audit_events"]
    assert report["checked"] >= 1  # the release's signed receipts were checked again
    assert report["chain"]["rows"] >= 1  # rows the upgraded server wrote are chained


async def test_serve_refuses_with_no_migrate_and_upgrades_without(
    blank: Blank, tmp_path: Path, start_server: StartServer
) -> None:
    reference = tmp_path / "reference.db"
    await load(blank, reference=reference)
    refused = pushauth(
        tmp_path / "refused", "serve", "--port", "0", "--database-url", blank.url, "--no-migrate"
    )
    assert refused.returncode == 7, refused.stderr
    assert "pushauth db upgrade" in refused.stderr
    assert "--no-migrate" in refused.stderr
    assert db(tmp_path / "cli", "current", blank.url)["status"] == "behind"  # nothing changed

    server = start_server(blank.url)
    log = "".join(server.log)
    assert f"to {head()}" in log, log
    assert db(tmp_path / "cli", "current", blank.url)["current"] == head()
    if not blank.is_sqlite:
        return
    assert blank.path is not None
    [backup] = blank.path.parent.glob(f"{blank.path.name}.backup-unversioned-*")
    assert str(backup) in log.replace("\n", "")  # the server said where it is
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    with sqlite3.connect(backup) as copy:  # the database as the release left it
        tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        events = copy.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    copy.close()
    assert tables == set(OLD_TABLES)
    assert events == len(await rows(blank, "audit_events", ("event_id",), reference=reference))


async def test_a_database_stamped_at_the_baseline_upgrades_the_same_way(
    blank: Blank, tmp_path: Path
) -> None:
    """The release's database after `db upgrade` and one made by 0001_baseline then upgraded
    hold the same schema: the baseline is the release's schema."""
    await blank.database.upgrade_schema(target=BASELINE)
    assert db(tmp_path / "cli", "current", blank.url)["pending"] == list(LATER)
    result = await blank.database.upgrade_schema()
    assert result.applied == LATER


async def test_an_upgrade_that_fails_halfway_changes_nothing(blank: Blank, tmp_path: Path) -> None:
    """The last revision fails (an object of its index's name is already there) after the
    earlier ones ran: the whole upgrade is rolled back, the command says so without a traceback,
    and the database is as the release left it (still upgradable once the obstacle is gone)."""
    reference = tmp_path / "reference.db"
    await load(blank, reference=reference)
    obstacle = "CREATE INDEX ix_webhook_deliveries_created ON challenges (created_at_ms)"
    if blank.path is not None:
        with sqlite3.connect(blank.path) as connection:
            connection.execute(obstacle)
        connection.close()
    else:
        pg = await pg_connect(blank.url)
        try:
            await pg.execute(obstacle)
        finally:
            await pg.close()

    failed = pushauth(tmp_path / "cli", "db", "upgrade", "--database-url", blank.url)
    assert failed.returncode == 7, failed.stderr  # not done (not "unreachable", 6)
    message = " ".join(failed.stderr.split())
    assert "Traceback" not in message
    assert "ix_webhook_deliveries_created" in message  # what is in the way
    assert "Nothing changed" in message
    assert "pushauth db upgrade" in message
    assert "Could not reach" not in message

    state = db(tmp_path / "cli", "current", blank.url)
    assert state["current"] is None
    assert state["made_before_migrations"] is True
    assert state["pending"] == list(LATER)
    for table, (_, columns) in OLD_TABLES.items():
        assert await rows(blank, table, columns) == await rows(
            blank, table, columns, reference=reference
        ), table
    if blank.path is not None:
        with sqlite3.connect(blank.path) as connection:
            names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            columns = {r[1] for r in connection.execute("PRAGMA table_info(challenges)")}
        connection.close()
    else:
        pg = await pg_connect(blank.url)
        try:
            names = {r[0] for r in await pg.fetch("SELECT relname FROM pg_class")}
            columns = {
                r[0]
                for r in await pg.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'challenges'"
                )
            }
        finally:
            await pg.close()
    assert "applications" not in names  # 0003 ran, and was rolled back with the rest
    assert "app_id" not in columns


def test_a_backup_that_cannot_be_written_stops_the_upgrade_and_says_why(tmp_path: Path) -> None:
    """The copy taken before a SQLite upgrade cannot be made (here its name is too long for the
    file system; in life, often a directory the server's user may not write to): the upgrade
    does not run, and the message says what failed and what to do, not "could not reach"."""
    path = tmp_path / ("p" * 230 + ".db")  # the database fits; its backup's name does not
    load_sqlite(path)
    url = f"sqlite:///{path}"
    failed = pushauth(tmp_path / "cli", "db", "upgrade", "--database-url", url)
    assert failed.returncode == 7, failed.stderr
    message = " ".join(failed.stderr.split())
    assert "Could not save a copy of the database" in message
    assert "Nothing changed" in message
    assert "Could not reach" not in message
    state = db(tmp_path / "cli", "current", url)
    assert state["current"] is None
    assert state["pending"] == list(LATER)
