"""A database error never carries its statement's parameters (verification codes, signatures,
nonces, webhook payloads): its text reaches the log when a request fails unexpectedly
(http_errors.py logs the exception), and the log must never hold a code or a signature."""

from __future__ import annotations

import logging
import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pushauth_server.storage import Database
from tests.server.test_storage import database

__all__ = ["database"]  # the fixture: SQLite and PostgreSQL


async def test_a_failed_statement_does_not_show_its_parameters(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    code = "code-" + secrets.token_hex(8)
    with pytest.raises(DBAPIError) as caught:
        async with database.write() as connection:
            await connection.execute(
                text("INSERT INTO no_such_table (verification_code) VALUES (:code)"),
                {"code": code},
            )
    with caplog.at_level(logging.ERROR, logger="pushauth"):
        logging.getLogger("pushauth.server").exception("failed", exc_info=caught.value)
    assert "no_such_table" in caplog.text  # the statement is there, to debug with
    assert code not in caplog.text
    assert code not in str(caught.value)
