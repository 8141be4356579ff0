"""A relying party's custom field cannot be named like a row the request screen shows itself:
``protocol.context.reserved_custom_key`` (which the server enforces) is checked against the rows
the device actually shows, so a new row cannot be added without reserving its label."""

from __future__ import annotations

from datetime import UTC

from pushauth_device.tui.widgets.challenge_details import detail_rows
from pushauth_server.protocol.context import reserved_custom_key
from tests.device.tui.test_snapshots import ALICE, CHALLENGE


def test_every_row_the_device_shows_is_reserved_from_custom_fields() -> None:
    fixed = [
        label
        for label, _value in detail_rows(ALICE, CHALLENGE, UTC)
        if not label.endswith(" (custom)")  # the relying party's own, marked as such
    ]
    assert {"User", "Server", "Action", "Requested", "Note"} <= set(fixed)
    for label in fixed:
        assert reserved_custom_key(label) is not None, label
    for label in CHALLENGE.custom:  # the relying party's own names stay free
        assert reserved_custom_key(label) is None, label
