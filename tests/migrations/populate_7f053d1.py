"""Populate a database with the *released* pushauth (commit 7f053d1), through its service layer.

Run by scripts/make_migration_fixtures.sh with the old code's own virtualenv, from the old
checkout (its ``tests.server.test_storage`` helpers enroll, create and sign answers): not
imported by the test suite, and not run in CI.

    python populate_7f053d1.py DATABASE_URL [SEARCH_PATH]

It leaves enrolled devices, a revoked device, pending, approved (signed receipt), denied and
"not me" (signed receipts, a lockout) challenges, a cancelled and an expired one, failure
counts from a wrong number, unused enrollment tokens, and the audit trail all of
that wrote.
"""

from __future__ import annotations

import asyncio
import os
import sys

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from pushauth_server import errors
from pushauth_server.domain.challenges.schemas import ContextIn
from pushauth_server.realtime import Notifier
from pushauth_server.services import Services
from pushauth_server.settings import Settings
from pushauth_server.storage import Database
from tests.server.test_storage import ORIGIN, create, enroll, respond, set_expiry

API_KEY = "fixture-" + "k" * 40


async def main(url: str, search_path: str | None) -> None:
    for name in list(os.environ):
        if name.startswith("PUSHAUTH_"):
            del os.environ[name]
    connect_args = {"server_settings": {"search_path": search_path}} if search_path else None
    database = Database(url, connect_args=connect_args)
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
        await create(services, "alice", context=ContextIn(note="left pending", initiator_ip="192.0.2.7"))

        bob = await enroll(services, "bob")
        await respond(services, bob, await create(services, "bob"))
        await services.devices.revoke(bob.credential.credential_id)

        carol = await enroll(services, "carol")  # "not me": locked until an operator unlocks
        await respond(services, carol, await create(services, "carol"), "deny", "not_me")

        dave = await enroll(services, "dave")  # a wrong number: a failure counted
        wrong = await create(services, "dave", number_matching=True)
        bad = "00" if wrong.verification_code != "00" else "11"
        try:
            await respond(services, dave, wrong, code=bad)
        except errors.PushAuthError:
            pass
        await create(services, "dave", action="sudo", replace_pending=True)

        await services.enrollment.issue_token("erin")  # never used
        await services.enrollment.issue_token("frank")
        gina = await enroll(services, "gina")  # "not me", then unlocked by the operator
        await respond(services, gina, await create(services, "gina"), "deny", "not_me")
        await services.limits.unlock("gina")
        await respond(services, gina, await create(services, "gina"))
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
