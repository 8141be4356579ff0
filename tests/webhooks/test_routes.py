"""The webhook routes in process: what an endpoint may be, and what is refused, unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pushauth_server.domain.webhooks.sealing import Sealer
from pushauth_server.storage.tables import applications, webhook_deliveries, webhook_endpoints
from tests.server.conftest import Harness, assert_error, running_harness

SECRET = "unit-deployment-secret-" + "s" * 20


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    # Poll rarely: these tests look at what is queued, not at its delivery.
    async with running_harness(tmp_path, secret=SECRET, webhook_poll_seconds=3600) as started:
        yield started


async def _rows(harness: Harness, table: Any) -> list[Any]:
    async with harness.db.read() as connection:
        return list((await connection.execute(select(table))).all())


async def _add(harness: Harness, url: str, **body: Any) -> Any:
    return await harness.rp("POST", "/v1/webhooks", json={"url": url, "app": "operator", **body})


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://rp.example/hooks", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://user:pw@rp.example/hooks", "credentials"),
        ("https://token@rp.example/hooks", "credentials"),
        ("https:///hooks", "no host"),
        ("https://rp.example/hooks#frag", "fragment"),
        ("https://rp.example/ho oks", "spaces"),
        ("https://rp.example:99999/", "cannot be read"),
        ("https://rp.example/" + "a" * 2100, "longer than 2048"),
    ],
)
async def test_a_bad_url_is_refused_and_nothing_is_stored(
    harness: Harness, url: str, why: str
) -> None:
    error = assert_error(await _add(harness, url), 400, "invalid_webhook_url")
    assert why in error["message"]
    assert await _rows(harness, webhook_endpoints) == []


async def test_unknown_app_and_events_are_refused(harness: Harness) -> None:
    assert_error(
        await harness.rp("POST", "/v1/webhooks", json={"url": "https://a.example", "app": "nope"}),
        404,
        "app_not_found",
    )
    error = assert_error(
        await _add(harness, "https://a.example", events=["challenge.created"]),
        400,
        "invalid_request",
    )
    assert "challenge.created" in error["message"]
    assert await _rows(harness, webhook_endpoints) == []


async def test_the_secret_is_shown_once_and_stored_sealed(harness: Harness) -> None:
    response = await _add(harness, "https://rp.example/hooks", events=["device.revoked"])
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert created["events"] == ["device.revoked"]
    [row] = await _rows(harness, webhook_endpoints)
    assert secret not in str(tuple(row))
    assert secret[len("whsec_") :] not in str(tuple(row))
    # Sealed under PUSHAUTH_SECRET, bound to its endpoint id.
    assert Sealer(SECRET).open(row.secret_sealed, endpoint_id=row.endpoint_id) == secret
    listed = (await harness.rp("GET", "/v1/webhooks")).json()
    assert "secret" not in listed[0]
    assert secret not in str(listed)


async def test_without_pushauth_secret_adding_is_refused(tmp_path: Path) -> None:
    async with running_harness(tmp_path) as harness:
        error = assert_error(
            await _add(harness, "https://rp.example/hooks"), 409, "webhooks_not_configured"
        )
        assert "PUSHAUTH_SECRET" in error["message"]
        assert await _rows(harness, webhook_endpoints) == []


async def test_events_reach_only_subscribed_endpoints_of_apps_allowed_for_the_user(
    harness: Harness,
) -> None:
    async with harness.db.write() as connection:
        for name, users in (("ci", '["deploy-*"]'), ("web", None)):
            await connection.execute(
                applications.insert().values(
                    app_id=f"app_{name}",
                    name=name,
                    display_name=name.upper(),
                    scopes="challenges",
                    users_json=users,
                    created_at_ms=1,
                )
            )
    for app in ("ci", "web"):
        response = await harness.rp(
            "POST",
            "/v1/webhooks",
            json={"url": f"https://{app}.example/h", "app": app, "events": ["device.enrolled"]},
        )
        assert response.status_code == 201, response.text
    revoked_only = await _add(harness, "https://op.example/h", events=["device.revoked"])
    assert revoked_only.status_code == 201

    await harness.enroll("deploy-7")  # ci's restriction covers it; web has none
    await harness.enroll("alice")  # only web
    rows = await _rows(harness, webhook_deliveries)
    by_app = sorted((row.app_id, row.event) for row in rows)
    assert by_app == [
        ("app_ci", "device.enrolled"),
        ("app_web", "device.enrolled"),
        ("app_web", "device.enrolled"),
    ]


async def test_challenge_events_go_to_the_creating_app_only(harness: Harness) -> None:
    created = (await _add(harness, "https://op.example/h")).json()
    device = await harness.enroll()
    challenge = await harness.create(device.user_id)
    response = await harness.rp("POST", f"/v1/challenges/{challenge['challenge_id']}/cancel")
    assert response.status_code == 200, response.text
    rows = await _rows(harness, webhook_deliveries)
    assert sorted(row.event for row in rows) == ["challenge.cancelled", "device.enrolled"]
    assert {row.endpoint_id for row in rows} == {created["endpoint_id"]}


async def test_remove_cancels_what_is_pending(harness: Harness) -> None:
    created = (await _add(harness, "https://op.example/h")).json()
    endpoint_id = created["endpoint_id"]
    queued = await harness.rp("POST", f"/v1/webhooks/{endpoint_id}/test")
    assert queued.status_code == 202, queued.text
    removed = await harness.rp("DELETE", f"/v1/webhooks/{endpoint_id}")
    assert removed.status_code == 200, removed.text
    [row] = await _rows(harness, webhook_deliveries)
    assert row.status == "cancelled"
    assert_error(
        await harness.rp("DELETE", f"/v1/webhooks/{endpoint_id}"), 404, "webhook_not_found"
    )
    assert_error(
        await harness.rp("POST", f"/v1/webhooks/deliveries/{row.delivery_id}/retry"),
        409,
        "delivery_not_failed",
    )
    assert_error(
        await harness.rp("POST", "/v1/webhooks/deliveries/msg_nope.we_nope/retry"),
        404,
        "delivery_not_found",
    )


async def test_webhook_routes_need_the_api_key(harness: Harness) -> None:
    response = await harness.client.get("/v1/webhooks")
    assert_error(response, 401, "invalid_api_key")


async def test_a_user_restricted_admin_cannot_manage_webhooks(harness: Harness) -> None:
    """A deploy-* admin must not subscribe an unrestricted app's endpoint (every user's events),
    nor list, remove, test or re-key other apps' endpoints: like managing applications, webhooks
    need an admin without a user restriction."""
    created = await harness.rp(
        "POST", "/v1/apps", json={"name": "ci-admin", "scopes": ["admin"], "users": ["deploy-*"]}
    )
    assert created.status_code == 201, created.text
    restricted = {"Authorization": f"Bearer {created.json()['key']}"}
    added = await _add(harness, "https://rp.example/hooks")
    assert added.status_code == 201, added.text
    endpoint = added.json()["endpoint_id"]
    before = await _rows(harness, webhook_endpoints)
    for method, path, body in [
        ("POST", "/v1/webhooks", {"url": "https://evil.example/hooks", "app": "operator"}),
        ("GET", "/v1/webhooks", None),
        ("GET", "/v1/webhooks/deliveries", None),
        ("POST", f"/v1/webhooks/{endpoint}/test", None),
        ("POST", f"/v1/webhooks/{endpoint}/rotate-secret", None),
        ("POST", f"/v1/webhooks/deliveries/msg_x.{endpoint}/retry", None),
        ("DELETE", f"/v1/webhooks/{endpoint}", None),
    ]:
        response = await harness.client.request(method, path, headers=restricted, json=body)
        assert_error(response, 403, "user_not_allowed")
    assert await _rows(harness, webhook_endpoints) == before
    assert await _rows(harness, webhook_deliveries) == []
