"""A delivery attempt that cannot even be made is a failed attempt like any other."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from pushauth_server.storage.tables import webhook_endpoints
from tests.server.conftest import running_harness
from tests.server.test_metrics import TOKEN
from tests.support.receiver import Receiver
from tests.webhooks.test_metrics import SECRET, _status, receiver, until

__all__ = ["receiver"]  # the fixture


async def test_a_stored_url_the_client_cannot_request_ends_as_failed(
    tmp_path: Path, receiver: Receiver
) -> None:
    # An endpoint stored before the URL rules refused such a host: the attempt fails like any
    # other (retried, then failed and audited), instead of an error that skips the bookkeeping
    # and goes round every lease for ever.
    async with running_harness(
        tmp_path,
        secret=SECRET,
        metrics_token=TOKEN,
        webhook_timeout_seconds=1,
        webhook_retry_base_seconds=0.01,
        webhook_retry_for_seconds=0.5,
    ) as harness:
        added = await harness.rp(
            "POST", "/v1/webhooks", json={"url": receiver.url, "app": "operator"}
        )
        endpoint_id = added.json()["endpoint_id"]
        async with harness.db.write() as connection:
            await connection.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.endpoint_id == endpoint_id)
                .values(url="https://xn--a.example/hooks")
            )
        queued = await harness.rp("POST", f"/v1/webhooks/{endpoint_id}/test")
        delivery_id = queued.json()["delivery_id"]

        async def failed() -> bool:
            return (await _status(harness, delivery_id))[0] == "failed"

        await until(failed, "the delivery marked failed")
        [row] = (
            await harness.rp("GET", "/v1/webhooks/deliveries", params={"status": "failed"})
        ).json()
    assert "cannot be requested" in row["last_error"]
    assert receiver.received == []
