"""``replace_pending`` replaces only what the calling application may cancel.

Cancelling is ownership-checked (domain/apps/access.py): an application cancels only its own
challenges, an ``admin`` one every challenge of its users. A replacement is a cancellation too: a
web app's ``challenges`` key must not cancel a sudo prompt another application is waiting on.
"""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Device, Harness, assert_error


async def _app_key(harness: Harness, name: str, *scopes: str) -> dict[str, str]:
    created = await harness.rp("POST", "/v1/apps", json={"name": name, "scopes": list(scopes)})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


async def _create(harness: Harness, key: dict[str, str], user_id: str, **body: Any) -> Any:
    return await harness.client.post(
        "/v1/challenges", headers=key, json={"user_id": user_id, **body}
    )


async def test_replace_pending_does_not_cancel_another_applications_challenge(
    harness: Harness, device: Device
) -> None:
    sudo = await _app_key(harness, "sudo", "challenges")
    web = await _app_key(harness, "web", "challenges")
    asked = await _create(harness, sudo, device.user_id)
    assert asked.status_code == 201, asked.text
    sudo_challenge = asked.json()["challenge_id"]

    refused = await _create(harness, web, device.user_id, replace_pending=True)
    error = assert_error(refused, 409, "challenge_pending")
    assert "another application" in error["message"]
    # The other application's challenge is still pending, and nothing new was pushed.
    still = await harness.client.get(f"/v1/challenges/{sudo_challenge}", headers=sudo)
    assert still.json()["status"] == "pending"
    assert [p.challenge_id for p in await harness.pending(device)] == [sudo_challenge]

    # Its own pending challenge it may replace, as before.
    mine = await _create(harness, sudo, device.user_id, replace_pending=True)
    assert mine.status_code == 201, mine.text
    old = await harness.client.get(f"/v1/challenges/{sudo_challenge}", headers=sudo)
    assert old.json()["status"] == "cancelled"


async def test_an_admin_application_replaces_any_challenge_of_its_users(
    harness: Harness, device: Device
) -> None:
    web = await _app_key(harness, "web", "challenges")
    asked = await _create(harness, web, device.user_id)
    assert asked.status_code == 201, asked.text
    replaced = await harness.rp(
        "POST", "/v1/challenges", json={"user_id": device.user_id, "replace_pending": True}
    )
    assert replaced.status_code == 201, replaced.text
    old = await harness.client.get(f"/v1/challenges/{asked.json()['challenge_id']}", headers=web)
    assert old.json()["status"] == "cancelled"
