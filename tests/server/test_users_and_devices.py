"""Relying-party routes to list users and every device, look one device up, and unlock only a
user the server knows."""

from __future__ import annotations

import pytest

from pushauth_server import errors
from tests.server.conftest import Harness, assert_error, fresh_user
from tests.server.test_storage import (  # noqa: F401 - fixtures
    Stack,
    create,
    database,
    enroll,
    respond,
    stack,
)


async def test_users_lists_everyone_with_a_device(harness: Harness) -> None:
    alice, bob = fresh_user("alice"), fresh_user("bob")
    phone = await harness.enroll(alice, name="phone")
    await harness.enroll(alice, name="laptop")
    await harness.enroll(bob)
    revoked = await harness.rp("POST", f"/v1/devices/{phone.credential_id}/revoke")
    assert revoked.status_code == 200
    await harness.issue_token(fresh_user("carol"))  # a token alone does not make a user

    response = await harness.rp("GET", "/v1/users")
    assert response.status_code == 200, response.text
    users = {u["user_id"]: u for u in response.json()}
    assert set(users) == {alice, bob}
    assert (users[alice]["active_devices"], users[alice]["revoked_devices"]) == (1, 1)
    assert (users[bob]["active_devices"], users[bob]["revoked_devices"]) == (1, 0)
    assert users[bob]["last_used_at"] is None


async def test_devices_lists_every_users_devices(harness: Harness) -> None:
    first = await harness.enroll(fresh_user(), name="one")
    second = await harness.enroll(fresh_user(), name="two")
    response = await harness.rp("GET", "/v1/devices")
    assert response.status_code == 200, response.text
    listed = {d["credential_id"]: d for d in response.json()}
    assert set(listed) == {first.credential_id, second.credential_id}
    assert listed[second.credential_id]["user_id"] == second.user_id
    assert listed[second.credential_id]["name"] == "two"


async def test_one_device_by_credential_id(harness: Harness) -> None:
    device = await harness.enroll(fresh_user(), name="Vera's phone")
    response = await harness.rp("GET", f"/v1/devices/{device.credential_id}")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Vera's phone"
    assert response.json()["user_id"] == device.user_id
    assert_error(await harness.rp("GET", "/v1/devices/cr_nope"), 404, "credential_not_found")


async def test_listing_needs_the_api_key(harness: Harness) -> None:
    for path in ("/v1/users", "/v1/devices", "/v1/devices/cr_x"):
        assert (await harness.client.get(path)).status_code == 401


async def test_unlock_refuses_a_user_the_server_does_not_know(harness: Harness) -> None:
    before = await harness.rp("GET", "/v1/audit/")
    error = assert_error(await harness.rp("POST", "/v1/users/nobody/unlock"), 404, "user_not_found")
    assert "nobody" in error["message"]
    after = await harness.rp("GET", "/v1/audit/")
    assert after.json()["events"] == before.json()["events"]  # nothing audited for a typo

    device = await harness.enroll(fresh_user())
    unlocked = await harness.rp("POST", f"/v1/users/{device.user_id}/unlock")
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked"] is False


async def test_store_queries_on_each_database(stack: Stack) -> None:
    # The same queries on SQLite and PostgreSQL: counts, the last use (read from the answered
    # challenges), and unlock refusing a user the database has never seen.
    user = fresh_user("dora")
    device = await enroll(stack.services, user)
    await enroll(stack.services, user)
    await respond(stack.services, device, await create(stack.services, user))
    await stack.services.devices.revoke(device.credential.credential_id)

    [summary] = [u for u in await stack.services.devices.users() if u.user_id == user]
    assert (summary.active_devices, summary.revoked_devices) == (1, 1)
    assert summary.last_used_at_ms is not None
    listed = [c for c in await stack.services.devices.list_all() if c.user_id == user]
    assert len(listed) == 2
    assert any(c.last_used_at_ms for c in listed)

    with pytest.raises(errors.UserNotFound):
        await stack.services.limits.unlock(fresh_user("nobody"))
    _, after = await stack.services.limits.unlock(user)
    assert not after.locked_not_me
