"""Shared fixtures: an in-memory keyring for unit tests, a real server and real commands for
integration tests, and a private Secret Service for the device's keyring in those commands."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import keyring
import pytest

from tests.support.memory_keyring import MemoryKeyring
from tests.support.processes import Commands, Server, running_server
from tests.support.secret_service import SecretServiceUnavailable, secret_service

POSTGRES_URL = os.environ.get(
    "PUSHAUTH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Unit tests never touch a real keyring: each test gets a fresh in-memory one."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def keyring_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for subprocesses that use gnome-keyring's real Secret Service."""
    try:
        with secret_service(tmp_path_factory.mktemp("secret-service")) as env:
            yield env
    except SecretServiceUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the Secret Service is required in CI: {exc}")
        pytest.skip(str(exc))


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start a real ``pushauth serve`` on a free port; ``PUSHAUTH_*`` settings as keywords."""
    counter = itertools.count()
    with ExitStack() as stack:

        def start(database_url: str | None = None, **settings: str) -> Server:
            workdir = tmp_path / f"server-{next(counter)}"
            workdir.mkdir()
            url = database_url or f"sqlite+aiosqlite:///{workdir / 'pushauth.db'}"
            env = {f"PUSHAUTH_{key.upper()}": value for key, value in settings.items()}
            return stack.enter_context(running_server(workdir, url, env))

        yield start


@pytest.fixture
def server(start_server: StartServer) -> Server:
    return start_server()


@pytest.fixture
def commands(server: Server, keyring_env: dict[str, str]) -> Commands:
    return Commands(server=server, env_extra=keyring_env)
