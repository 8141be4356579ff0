"""The migrations make exactly the schema tables.py defines, once, on SQLite and PostgreSQL;
a database from newer code is refused; one made before migrations by later code is adopted."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from pushauth_server.storage import metadata
from pushauth_server.storage.audit_guard import check_triggers
from pushauth_server.storage.migrate import BASELINE, DatabaseNewer, head
from tests.migrations.cli import db, pushauth
from tests.migrations.revisions import LATER
from tests.support.databases import Blank, blank  # noqa: F401
from tests.support.processes import API_KEY, clean_env


async def _on(blank: Blank, work: Callable[[Connection], Any]) -> Any:
    """Run ``work`` on a plain synchronous connection to the test's database."""
    if blank.is_sqlite:
        engine = create_engine(blank.url)
        try:
            with engine.begin() as connection:
                return work(connection)
        finally:
            engine.dispose()
    async_engine = create_async_engine(blank.url)
    try:
        async with async_engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await async_engine.dispose()


def _differences(target: MetaData) -> Callable[[Connection], list[Any]]:
    def run(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), target))

    return run


def _operator_rows(connection: Connection) -> list[Any]:
    return list(connection.execute(text("SELECT app_id, name FROM applications")))


async def test_migrations_from_empty_make_exactly_the_table_definitions(blank: Blank) -> None:
    result = await blank.database.upgrade_schema()
    assert result.created
    assert result.applied == (BASELINE, *LATER)
    assert await _on(blank, _differences(metadata)) == []
    await _on(blank, check_triggers)  # the audit guards, from the migrations
    assert await _on(blank, _operator_rows) == [("app_operator", "operator")]


async def test_a_table_change_without_a_migration_is_found(blank: Blank) -> None:
    """What the test above catches: a column in tables.py that no migration adds."""
    await blank.database.upgrade_schema()
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["credentials"].append_column(Column("nickname", String(32)))
    differences = await _on(blank, _differences(changed))
    assert [d[0] for d in differences] == ["add_column"]
    assert differences[0][3].name == "nickname"


async def test_an_upgrade_runs_once_when_two_processes_start_together(
    blank: Blank, tmp_path: Path
) -> None:
    tmp_path.joinpath("cli").mkdir()
    runs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pushauth_cli",
            "db",
            "upgrade",
            "--json",
            cwd=tmp_path / "cli",
            env=clean_env({"PUSHAUTH_API_KEY": API_KEY, "PUSHAUTH_DATABASE_URL": blank.url}),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = []
    for run in runs:
        out, err = await run.communicate()
        assert run.returncode == 0, err.decode()
        results.append(json.loads(out))
    assert sorted(len(r["applied"]) for r in results) == [0, len(LATER) + 1]
    assert {r["after"] for r in results} == {head()}
    assert await _on(blank, _operator_rows) == [("app_operator", "operator")]
    versions = await _on(
        blank, lambda c: list(c.execute(text("SELECT version_num FROM alembic_version")))
    )
    assert versions == [(head(),)]


async def test_a_database_from_newer_code_is_refused(blank: Blank, tmp_path: Path) -> None:
    await blank.database.upgrade_schema()
    await _on(
        blank, lambda c: c.execute(text("UPDATE alembic_version SET version_num = '0099_later'"))
    )
    state = db(tmp_path / "cli", "current", blank.url)
    assert state["status"] == "newer"
    assert state["current"] == "0099_later"
    upgraded = pushauth(tmp_path / "cli", "db", "upgrade", "--database-url", blank.url)
    assert upgraded.returncode == 7
    assert "0099_later" in upgraded.stderr
    assert "newer pushauth" in upgraded.stderr
    for extra in ((), ("--no-migrate",)):
        serve = pushauth(
            tmp_path / "serve", "serve", "--port", "0", "--database-url", blank.url, *extra
        )
        assert serve.returncode == 7, serve.stderr
        assert "newer pushauth upgraded it" in serve.stderr
    other = blank.open()
    try:
        with pytest.raises(DatabaseNewer):
            await other.create_schema()  # the app's own start-up refuses it too
    finally:
        await other.dispose()


async def test_a_database_made_before_migrations_by_later_code_is_adopted(
    blank: Blank, tmp_path: Path
) -> None:
    """Code between the release and migrations already made every table: adopting it stamps
    the baseline and the later revisions add nothing twice."""
    # The last schema code made without migrations: the applications groundwork (0003).
    await blank.database.upgrade_schema(target="0003_applications")
    await _on(blank, lambda c: c.execute(text("DROP TABLE alembic_version")))
    state = db(tmp_path / "cli", "current", blank.url)
    assert state["made_before_migrations"] is True
    result = await blank.database.upgrade_schema(check_triggers=True)
    assert result.applied == LATER
    assert await _on(blank, _differences(metadata)) == []
    assert await _on(blank, _operator_rows) == [("app_operator", "operator")]
    assert (await blank.database.upgrade_schema()).applied == ()
