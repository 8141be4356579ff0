"""The context fields are defined once (on ChallengeContext) and everything else follows them:
the signed encoding, the request and response schemas, the audit rows, the client and the device.
A new field then needs one edit; this test adds one and watches each part pick it up."""

from __future__ import annotations

import dataclasses

from pushauth_server.domain.challenges import schemas
from pushauth_server.domain.challenges.models import context_dict
from pushauth_server.protocol import CONTEXT_FIELDS, RELYING_PARTY_FIELDS, ChallengeContext


def test_every_shown_field_is_signed_in_order() -> None:
    context = ChallengeContext(user_id="u", action="a", created_at_ms=1, note="n")
    names = [name for name, _ in context.fields()]
    assert names[3 : 3 + len(CONTEXT_FIELDS)] == [spec.name for spec in CONTEXT_FIELDS]


def test_the_asking_application_is_the_first_context_field_and_server_supplied() -> None:
    first = CONTEXT_FIELDS[0]
    assert (first.name, first.label, first.server_supplied) == ("application", "Application", True)
    assert [spec.name for spec in CONTEXT_FIELDS if spec.server_supplied] == ["application"]


def test_the_schemas_and_the_audit_rows_follow_the_definition() -> None:
    shown = {spec.name for spec in CONTEXT_FIELDS}
    sent = {spec.name for spec in RELYING_PARTY_FIELDS}
    # What the server supplies is shown and signed, but a relying party cannot send it.
    assert sent == shown - {"application"}
    assert set(schemas.ContextIn.__struct_fields__) == sent | {"custom"}
    assert set(schemas.ContextOut.__struct_fields__) == shown | {"custom"}
    context = ChallengeContext(user_id="u", action="a", created_at_ms=1)
    assert set(context_dict(context)) == shown | {"custom"}


def test_lengths_and_labels_come_from_the_definition() -> None:
    by_name = {spec.name: spec for spec in CONTEXT_FIELDS}
    assert by_name["note"].max_length == 500
    assert by_name["initiator_ip"].is_ip
    for field in dataclasses.fields(ChallengeContext):
        if "shown" in field.metadata:
            assert by_name[field.name].label  # every shown field has a label to display
