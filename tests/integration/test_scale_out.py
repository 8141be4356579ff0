"""Scale-out: two server processes on one PostgreSQL database with Redis channels.

A device connected to the first process receives, over its stream, a challenge created through
the second; the relying party waiting on the second learns the answer posted to the first.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import StartServer
from tests.integration.helpers import enroll_device, watching
from tests.support.processes import Commands

pytestmark = pytest.mark.postgres

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    name = f"pushauth_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_two_processes_share_postgres_and_redis(
    start_server: StartServer,
    keyring_env: dict[str, str],
    postgres_database: str,
    tmp_path: Path,
) -> None:
    settings = {
        "channels_backend": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        "secret": "shared-" + secrets.token_hex(16),  # one deployment: every process has it
    }
    first = start_server(postgres_database, **settings)
    # Both processes must sign and check the same origin, as behind one load balancer.
    second = start_server(postgres_database, public_url=first.url, **settings)
    one = Commands(server=first, env_extra=keyring_env)
    two = Commands(server=second, env_extra=keyring_env)

    home = tmp_path / "phone"
    enroll_device(one, home, "olga")
    with watching(one, home) as watcher:  # the stream is held by the first process
        # Created, and waited for, through the second process.
        signin = two.pushauth_popen("signin", "olga", "--json")
        arrived = await asyncio.to_thread(watcher.next)
        approved = one.device(  # answered through the first process
            home, "approve", arrived["challenge_id"], "--code", _code(one, arrived["challenge_id"])
        )
        assert approved.returncode == 0, approved.stderr
        out, err = signin.communicate(timeout=60)
        assert signin.returncode == 0, err
        assert json.loads(out)["challenge_id"] == arrived["challenge_id"]


def _code(commands: Commands, challenge_id: str) -> str:
    from tests.integration.helpers import challenge

    return str(challenge(commands, challenge_id)["verification_code"])
