"""Populate a database with the *released* pushauth (commit 7f053d1), through its service layer.

Run by scripts/migration_fixtures/make.sh with the old code's own virtualenv, from the old
checkout (its ``tests.server.test_storage`` helpers enroll, create and sign answers): not
imported by the test suite, and not run in CI.

    python populate_7f053d1.py DATABASE_URL

It leaves enrolled devices, a revoked device, pending, approved (signed receipt), denied and
"not me" (signed receipts, a lockout) challenges, a cancelled and an expired one, failure
counts from a wrong number, unused enrollment tokens, and the audit trail all of
that wrote; then, through the release's real HTTP app (in process), device requests whose
signed proofs leave their nonces in ``request_nonces``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.testing import AsyncTestClient

from pushauth_server import errors
from pushauth_server.app import create_app
from pushauth_server.client.identity import DeviceIdentity
from pushauth_server.domain.challenges.schemas import ContextIn
from pushauth_server.realtime import Notifier
from pushauth_server.services import Services
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from tests.server.test_storage import ORIGIN, create, enroll, respond, set_expiry

API_KEY = "fixture-" + "k" * 40


async def main(url: str) -> None:
    for name in list(os.environ):
        if name.startswith("PUSHAUTH_"):
            del os.environ[name]
    database = Database(url)
    await database.create_schema()
    config = Settings(api_key=API_KEY, database_url=url, public_url=ORIGIN, _env_file=None)  # type: ignore[call-arg]
    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with channels:
        services = Services.build(config, database, Notifier(channels))
        alice = await enroll(services, "alice")
        await respond(services, alice, await create(services, "alice", action="signIn"))
        await respond(
            services, alice, await create(services, "alice", action="sudo"), decision="deny"
        )
        cancelled = await create(services, "alice", action="deploy")
        await services.challenges.cancel(cancelled.challenge_id)
        expired = await create(services, "alice", action="signIn")
        await set_expiry(database, expired.challenge_id, 1)
        await services.challenges.expire_due()
        await create(
            services, "alice", context=ContextIn(note="left pending", initiator_ip="192.0.2.7")
        )

        bob = await enroll(services, "bob")
        await respond(services, bob, await create(services, "bob"))
        await services.devices.revoke(bob.credential.credential_id)

        carol = await enroll(services, "carol")  # "not me": locked until an operator unlocks
        await respond(services, carol, await create(services, "carol"), "deny", "not_me")

        dave = await enroll(services, "dave")  # a wrong number: a failure counted
        wrong = await create(services, "dave", number_matching=True)
        bad = "00" if wrong.verification_code != "00" else "11"
        with contextlib.suppress(errors.PushAuthError):  # refused: the wrong number
            await respond(services, dave, wrong, code=bad)
        await create(services, "dave", action="sudo", replace_pending=True)

        await services.enrollment.issue_token("erin")  # never used
        await services.enrollment.issue_token("frank")
        gina = await enroll(services, "gina")  # "not me", then unlocked by the operator
        await respond(services, gina, await create(services, "gina"), "deny", "not_me")
        await services.limits.unlock("gina")
        await respond(services, gina, await create(services, "gina"))
    await database.dispose()

    identity = DeviceIdentity(
        origin=ORIGIN,
        credential_id=alice.credential.credential_id,
        private_key=alice.key,
    )
    async with AsyncTestClient(create_app(config), base_url=ORIGIN) as client:
        for _ in range(2):
            path = "/v1/device/challenges"
            response = await client.get(path, headers=identity.proof_headers("GET", path))
            assert response.status_code == 200, response.text


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
