"""Webhooks with real parts: ``pushauth serve``, the CLI, and a real receiver on 127.0.0.1 that
verifies every signature with the ``standardwebhooks`` library."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from pushauth_server.client import calls
from pushauth_server.domain.webhooks.sealing import new_secret
from tests.conftest import StartServer
from tests.integration.helpers import api_device, audit_events
from tests.integration.webhook_steps import (
    WEBHOOK_SETTINGS,
    add_endpoint,
    commands_for,
    deliveries,
    queue_tests,
    rp_client,
    verified,
    wait_until,
)
from tests.support.processes import free_port
from tests.support.receiver import receiving


async def test_each_event_arrives_once_signed(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    commands = commands_for(server)
    with receiving() as receiver:
        endpoint = add_endpoint(commands, receiver.url)
        secret = endpoint["secret"]
        device = await api_device(commands, "wendy")  # device.enrolled
        async with rp_client(server) as rp, device:

            async def answer(decision: str, reason: str = "") -> str:
                created = await rp.call(calls.create_challenge(user_id="wendy"))
                [pending] = await device.call(calls.pending_challenges())
                assert device.identity is not None
                body = device.identity.response_body(
                    pending,
                    decision=decision,  # type: ignore[arg-type]
                    reason=reason,  # type: ignore[arg-type]
                    verification_code=created.verification_code if decision == "approve" else "",
                )
                await device.call(calls.respond(created.challenge_id, body))
                return created.challenge_id

            approved = await answer("approve")
            denied = await answer("deny")
            cancelled = (await rp.call(calls.create_challenge(user_id="wendy"))).challenge_id
            await rp.call(calls.cancel_challenge(cancelled))
            expiring = await rp.call(calls.create_challenge(user_id="wendy", expires_in_seconds=1))
            expected = {
                "device.enrolled": None,
                "challenge.approved": approved,
                "challenge.denied": denied,
                "challenge.cancelled": cancelled,
                "challenge.expired": expiring.challenge_id,
            }
            seen: dict[str, dict[str, object]] = {}
            while set(seen) != set(expected):  # the expiry comes from the server's sweep
                payload = verified(receiver.next(), secret)
                seen[payload["type"]] = payload
            not_me = await answer("deny", "not_me")  # challenge.denied again, and user.locked
            revoked = await rp.call(calls.revoke_device(device.identity.credential_id))
            for _ in range(3):
                payload = verified(receiver.next(), secret)
                seen.setdefault(payload["type"], payload)
                if payload["type"] == "challenge.denied":
                    assert payload["data"]["challenge_id"] == not_me
            view = await rp.call(calls.get_challenge(approved))

    assert set(seen) == {*expected, "user.locked", "device.revoked"}
    for event, challenge_id in expected.items():
        if challenge_id is not None:
            assert seen[event]["data"]["challenge_id"] == challenge_id  # type: ignore[index]
    # A challenge event is the relying party's view, plus the signed receipt of the answer.
    data = seen["challenge.approved"]["data"]
    assert isinstance(data, dict)
    receipt = data.pop("receipt")
    assert data == view.raw
    assert receipt["decision"] == "approve"
    assert receipt["challenge_id"] == approved
    assert receipt["signature"]
    assert seen["challenge.cancelled"]["data"]["receipt"] is None  # type: ignore[index]
    assert seen["user.locked"]["data"]["user_id"] == "wendy"  # type: ignore[index]
    assert seen["device.revoked"]["data"]["credential_id"] == revoked.credential_id  # type: ignore[index]

    # Each exactly once: every delivery is recorded delivered at its first attempt, and the
    # receiver got one request per delivery id, each id once.
    wait_until(lambda: all(d["status"] == "delivered" for d in deliveries(server)), "all delivered")
    recorded = deliveries(server)
    assert len(recorded) == 8
    assert {d["attempts"] for d in recorded} == {1}
    ids = Counter(r.webhook_id for r in receiver.received)
    assert set(ids) == {d["delivery_id"] for d in recorded}
    assert set(ids.values()) == {1}


async def test_a_wrong_secret_fails_verification(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    with receiving() as receiver:
        endpoint = add_endpoint(commands_for(server), receiver.url)
        await queue_tests(server, endpoint["endpoint_id"], 1)
        got = receiver.next()
    assert verified(got, endpoint["secret"])["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        verified(got, new_secret())
    tampered = type(got)(path=got.path, headers=got.headers, body=got.body.replace("test", "tost"))
    with pytest.raises(WebhookVerificationError):
        verified(tampered, endpoint["secret"])
    assert "whsec_" not in "".join(server.log)  # secrets and signatures are never logged
    assert got.headers["webhook-signature"].split(",", 1)[1] not in "".join(server.log)


async def test_a_receiver_down_for_a_while_gets_it_later(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    with receiving(answers=[503, 503, 503]) as receiver:  # its backend is down, then back
        endpoint = add_endpoint(commands_for(server), receiver.url)
        [delivery_id] = await queue_tests(server, endpoint["endpoint_id"], 1)
        attempts = [receiver.next() for _ in range(4)]
        wait_until(lambda: deliveries(server)[0]["status"] == "delivered", "delivered")
    assert {a.webhook_id for a in attempts} == {delivery_id}  # the same webhook-id each time
    for attempt in attempts:
        verified(attempt, endpoint["secret"])
    [row] = deliveries(server)
    assert row["attempts"] == 4
    assert row["last_status_code"] == 200


async def test_killed_after_the_commit_delivered_after_restart(start_server: StartServer) -> None:
    # A short attempt timeout: the killed process's lease (twice it, plus a second) runs out soon.
    server = start_server(**{**WEBHOOK_SETTINGS, "webhook_timeout_seconds": "2"})
    commands = commands_for(server)
    held = threading.Event()
    with receiving() as receiver:
        endpoint = add_endpoint(commands, receiver.url)
        receiver.hold_next = held  # the receiver has the request and has not answered yet
        device = await api_device(commands, "kim")  # committed: device.enrolled
        first = receiver.next()
        assert server.process is not None
        server.process.kill()  # kill -9 while the delivery is in flight
        server.process.wait()
        server.stop()  # only closes what is left of the killed process
        held.set()
        server.start()  # the same database: the lease runs out, the row is delivered again
        second = receiver.next()
        await device.aclose()
        wait_until(lambda: deliveries(server)[0]["status"] == "delivered", "delivered")
    assert second.webhook_id == first.webhook_id
    assert verified(second, endpoint["secret"])["type"] == "device.enrolled"
    assert verified(second, endpoint["secret"])["data"]["user_id"] == "kim"
    assert deliveries(server)[0]["attempts"] >= 2  # the killed attempt counts


async def test_redirects_are_not_followed_then_failed_audited_and_retried(
    start_server: StartServer,
) -> None:
    server = start_server(**WEBHOOK_SETTINGS, webhook_retry_for_seconds="0.3")
    commands = commands_for(server)
    with receiving() as elsewhere, receiving(default=302) as receiver:
        receiver.location = elsewhere.url
        endpoint = add_endpoint(commands, receiver.url)
        [delivery_id] = await queue_tests(server, endpoint["endpoint_id"], 1)
        wait_until(lambda: deliveries(server)[0]["status"] == "failed", "failed")
        assert elsewhere.received == []  # never sent where the redirect pointed

        failed = commands.pushauth("webhooks", "deliveries", "--failed", "--json")
        assert failed.returncode == 0, failed.stderr
        [row] = json.loads(failed.stdout)["deliveries"]
        assert row["delivery_id"] == delivery_id
        assert "redirects are not followed" in row["last_error"]
        [audited] = [e for e in audit_events(commands) if e["event"] == "webhook.failed"]
        assert audited["detail"]["delivery_id"] == delivery_id

        receiver.default = 200
        retried = commands.pushauth("webhooks", "retry", delivery_id)
        assert retried.returncode == 0, retried.stderr
        while (got := receiver.next()).webhook_id != delivery_id or receiver.default != 200:
            pass
        wait_until(lambda: deliveries(server)[0]["status"] == "delivered", "delivered")
    assert got.webhook_id == delivery_id  # the same webhook-id: receivers de-duplicate on it
    again = commands.pushauth("webhooks", "retry", delivery_id, "--json")
    assert again.returncode != 0
    assert "delivery_not_failed" in again.stderr


async def test_rotation_signs_with_both_secrets_for_the_overlap(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    commands = commands_for(server)
    with receiving() as receiver:
        endpoint = add_endpoint(commands, receiver.url)
        rotated = commands.pushauth("webhooks", "rotate-secret", endpoint["endpoint_id"], "--json")
        assert rotated.returncode == 0, rotated.stderr
        new = json.loads(rotated.stdout)["secret"]
        assert new != endpoint["secret"]
        await queue_tests(server, endpoint["endpoint_id"], 1)
        got = receiver.next()
    assert len(got.headers["webhook-signature"].split()) == 2
    verified(got, new)
    verified(got, endpoint["secret"])


async def test_a_graceful_stop_gives_its_leases_back(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    commands = commands_for(server)
    held = threading.Event()
    with receiving() as receiver:
        endpoint = add_endpoint(commands, receiver.url)
        receiver.hold_next = held
        [delivery_id] = await queue_tests(server, endpoint["endpoint_id"], 1)
        first = receiver.next()  # in flight, leased to the running process
        server.stop()  # SIGTERM: the attempt is abandoned and its lease released
        held.set()
        database = server.workdir / "pushauth.db"
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                "SELECT status, leased_by, lease_until_ms FROM webhook_deliveries"
            ).fetchone()
        assert row == ("pending", None, None)
        server.start()
        second = receiver.next()
        wait_until(lambda: deliveries(server)[0]["status"] == "delivered", "delivered")
    assert first.webhook_id == second.webhook_id == delivery_id


def test_the_cli_lists_tests_and_removes(start_server: StartServer) -> None:
    server = start_server(**WEBHOOK_SETTINGS)
    commands = commands_for(server)
    with receiving() as receiver:
        added = commands.pushauth(
            "webhooks", "add", receiver.url, "--app", "operator", "--events", "device.revoked"
        )
        assert added.returncode == 0, added.stderr
        [secret] = [word for word in added.stdout.split() if word.startswith("whsec_")]
        listed = commands.pushauth("webhooks", "list", "--json")
        [endpoint] = json.loads(listed.stdout)["endpoints"]
        assert endpoint["events"] == ["device.revoked"]
        assert secret not in listed.stdout  # shown once, at creation
        table = commands.pushauth("webhooks", "list")
        assert endpoint["endpoint_id"] in table.stdout
        assert "device.revoked" in table.stdout

        tested = commands.pushauth("webhooks", "test", endpoint["endpoint_id"])
        assert tested.returncode == 0, tested.stderr
        assert verified(receiver.next(), secret)["type"] == "webhook.test"
        shown = commands.pushauth("webhooks", "deliveries")
        assert "webhook.test" in shown.stdout

        removed = commands.pushauth("webhooks", "remove", endpoint["endpoint_id"])
        assert removed.returncode == 0, removed.stderr
        again = commands.pushauth("webhooks", "remove", endpoint["endpoint_id"])
        assert again.returncode != 0
        assert "webhook_not_found" in again.stderr
        assert "pushauth webhooks list" in again.stderr  # what to do next
        bad = commands.pushauth("webhooks", "add", "ftp://x.example/", "--app", "operator")
        assert bad.returncode != 0
        assert "invalid_webhook_url" in bad.stderr


def test_without_pushauth_secret_add_says_what_to_do(start_server: StartServer) -> None:
    commands = commands_for(start_server())
    refused = commands.pushauth("webhooks", "add", "https://rp.example/h", "--app", "operator")
    assert refused.returncode == 5  # refused by the server
    assert "PUSHAUTH_SECRET" in refused.stderr
    assert "webhooks_not_configured" in refused.stderr


async def test_a_receiver_that_is_not_listening_gets_it_once_it_is(
    start_server: StartServer,
) -> None:
    server = start_server(**{**WEBHOOK_SETTINGS, "webhook_retry_max_interval_seconds": "0.1"})
    port = free_port()  # nothing listens there yet: connections are refused
    url = f"http://127.0.0.1:{port}/hooks"
    endpoint = add_endpoint(commands_for(server), url)
    [delivery_id] = await queue_tests(server, endpoint["endpoint_id"], 1)
    wait_until(lambda: deliveries(server)[0]["attempts"] >= 2, "two refused attempts")
    [row] = deliveries(server)
    assert row["status"] == "pending"
    assert "could not reach" in row["last_error"]
    with receiving(port=port) as receiver:  # the receiver comes back
        got = receiver.next()
        wait_until(lambda: deliveries(server)[0]["status"] == "delivered", "delivered")
    assert got.webhook_id == delivery_id
    verified(got, endpoint["secret"])
