"""Alembic's environment for pushauth: always given a connection by storage/migrate.py.

No ``alembic.ini`` is needed: :mod:`pushauth_server.storage.migrate` builds the configuration in
code, opens the connection (under the migration lock), and hands it over in
``config.attributes["connection"]``; this file only runs the migrations on it, inside the
transaction the caller began (the async template's ``connection.run_sync(do_run_migrations)``
shape, with the engine kept by the caller).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pushauth_server.storage.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "pushauth's migrations run through `pushauth db upgrade` (storage/migrate.py), "
            "which supplies the connection; the alembic command line is not configured."
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("pushauth's migrations run online only (pushauth db upgrade).")
run_migrations_online()
