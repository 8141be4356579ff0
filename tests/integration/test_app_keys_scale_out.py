"""Key changes on a multi-process deployment: two ``pushauth serve`` processes sharing one
PostgreSQL database and Redis. A revocation or a rotation without grace made through one
process stops the key on the other at once: no restart, no cache to expire."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.conftest import StartServer
from tests.integration.apps_support import call, create_app, error_code
from tests.integration.test_scale_out import postgres_database  # noqa: F401 (a fixture)
from tests.support.processes import Commands

pytestmark = pytest.mark.postgres


def test_a_revoked_apps_key_stops_at_once_on_the_other_process(
    start_server: StartServer,
    keyring_env: dict[str, str],
    postgres_database: str,
    tmp_path: Path,
) -> None:
    settings = {
        "channels_backend": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        "secret": "shared-" + secrets.token_hex(16),
    }
    first = start_server(postgres_database, **settings)
    second = start_server(postgres_database, public_url=first.url, **settings)
    one = Commands(server=first, env_extra=keyring_env)

    key = create_app(one, "shared", "challenges")
    other = create_app(one, "rotated", "challenges")
    # Made through the first process, used through the second.
    assert call(second.url, key, "GET", "/v1/challenges/ch_none").status_code == 404
    assert call(second.url, other, "GET", "/v1/challenges/ch_none").status_code == 404

    revoked = one.pushauth("apps", "revoke", "shared")
    assert revoked.returncode == 0, revoked.stderr
    stopped = call(second.url, key, "GET", "/v1/challenges/ch_none")  # the very next request
    assert stopped.status_code == 401
    assert error_code(stopped) == "invalid_api_key"

    rotated = one.pushauth("apps", "rotate", "rotated", "--grace", "0")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert error_code(call(second.url, other, "GET", "/v1/challenges/ch_none")) == (
        "invalid_api_key"
    )
    assert call(second.url, new, "GET", "/v1/challenges/ch_none").status_code == 404
