"""An application's display name is what the device shows as the asking application: it must
name something. Blank, or padded with spaces (ASCII or not), is refused (400), nothing stored."""

from __future__ import annotations

import pytest

from tests.server.conftest import Harness, assert_error

BLANK_OR_PADDED = [" ", "   ", "\u3000", "\u00a0", " Bank", "Bank ", "Bank\u00a0", "\tBank"]


@pytest.mark.parametrize("display_name", BLANK_OR_PADDED)
async def test_a_blank_or_padded_display_name_is_refused(
    harness: Harness, display_name: str
) -> None:
    before = await harness.snapshot()
    created = await harness.rp(
        "POST",
        "/v1/apps",
        json={"name": "shop", "scopes": ["challenges"], "display_name": display_name},
    )
    error = assert_error(created, 400, "invalid_request")
    assert "display_name" in error["message"]
    assert await harness.snapshot() == before
    assert (await harness.rp("GET", "/v1/apps/shop")).status_code == 404


@pytest.mark.parametrize("display_name", BLANK_OR_PADDED)
async def test_an_update_to_a_blank_or_padded_display_name_is_refused(
    harness: Harness, display_name: str
) -> None:
    created = await harness.rp(
        "POST", "/v1/apps", json={"name": "shop", "scopes": ["challenges"], "display_name": "Shop"}
    )
    assert created.status_code == 201, created.text
    before = await harness.snapshot()
    updated = await harness.rp("PATCH", "/v1/apps/shop", json={"display_name": display_name})
    error = assert_error(updated, 400, "invalid_request")
    assert "display_name" in error["message"]
    assert await harness.snapshot() == before
    shown = await harness.rp("GET", "/v1/apps/shop")
    assert shown.json()["display_name"] == "Shop"


async def test_inner_spaces_are_fine(harness: Harness) -> None:
    created = await harness.rp(
        "POST",
        "/v1/apps",
        json={"name": "shop", "scopes": ["challenges"], "display_name": "Acme Web Shop"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "Acme Web Shop"
