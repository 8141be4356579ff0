"""Storage: the tables, and a database handle that works on SQLite and PostgreSQL alike."""

from pushauth_server.storage.database import Connection, Database
from pushauth_server.storage.tables import metadata

__all__ = ["Connection", "Database", "metadata"]
