"""The context hash: everything a device displays is inside the signed response."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pushauth_server.protocol import (
    ChallengeContext,
    ChallengeResponse,
    context_hash,
    private_key_from_seed,
    public_key_b64,
    sign,
    verify,
)
from tests.protocol.strategies import contexts, ints, texts

KEY = private_key_from_seed(bytes(range(32)))
PUBLIC_KEY = public_key_b64(KEY)


def _response(context: ChallengeContext) -> ChallengeResponse:
    return ChallengeResponse(
        origin="https://auth.example.com",
        challenge_id="ch_1",
        nonce="n",
        decision="approve",
        reason="",
        verification_code="123456",
        credential_id="cr_1",
        context_hash=context_hash(context),
        expires_at_ms=1,
    )


def _changed(context: ChallengeContext, data: st.DataObject) -> ChallengeContext:
    name = data.draw(st.sampled_from([f.name for f in dataclasses.fields(context)]))
    old = getattr(context, name)
    if name == "custom":
        items = dict(old)
        change = data.draw(st.sampled_from(["add", "remove", "alter"] if items else ["add"]))
        if change == "add":
            key = data.draw(st.text(max_size=10).filter(lambda k: k not in items))
            items[key] = data.draw(texts)
        elif change == "remove":
            del items[data.draw(st.sampled_from(sorted(items)))]
        else:
            key = data.draw(st.sampled_from(sorted(items)))
            items[key] = data.draw(texts.filter(lambda v: v != items[key]))
        return dataclasses.replace(context, custom=ChallengeContext.custom_items(items))
    values: st.SearchStrategy[Any] = ints if isinstance(old, int) else texts
    changes: dict[str, Any] = {name: data.draw(values.filter(lambda v: v != old))}
    return dataclasses.replace(context, **changes)


@given(context=contexts, data=st.data())
def test_changing_any_context_field_changes_the_hash(
    context: ChallengeContext, data: st.DataObject
) -> None:
    assert context_hash(_changed(context, data)) != context_hash(context)


@given(context=contexts, data=st.data())
def test_a_response_for_one_context_does_not_verify_for_another(
    context: ChallengeContext, data: st.DataObject
) -> None:
    signature = sign(KEY, _response(context))
    other = _response(_changed(context, data))
    assert not verify(public_key=PUBLIC_KEY, message=other, signature=signature)


def test_custom_keys_cannot_pose_as_fixed_fields() -> None:
    plain = ChallengeContext(user_id="u", action="a", created_at_ms=1, note="")
    posing = ChallengeContext(
        user_id="u", action="a", created_at_ms=1, note="", custom=(("note", "x"),)
    )
    forged_note = ChallengeContext(user_id="u", action="a", created_at_ms=1, note="x")
    assert len({context_hash(plain), context_hash(posing), context_hash(forged_note)}) == 3


def test_context_hash_is_hex_sha256() -> None:
    digest = context_hash(ChallengeContext(user_id="u", action="a", created_at_ms=0))
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == digest.lower()


def test_the_asking_application_is_inside_the_hash() -> None:
    """A device shown "Acme VPN" signs a hash that no other application's name gives."""
    asked = ChallengeContext(user_id="u", action="a", created_at_ms=1, application="Acme VPN")
    other = dataclasses.replace(asked, application="Payroll")
    unnamed = dataclasses.replace(asked, application="")
    assert len({context_hash(asked), context_hash(other), context_hash(unnamed)}) == 3
    # Nor can a relying party's note or custom field stand in for it.
    as_note = dataclasses.replace(unnamed, note="Acme VPN")
    as_custom = dataclasses.replace(unnamed, custom=(("application", "Acme VPN"),))
    assert context_hash(asked) not in {context_hash(as_note), context_hash(as_custom)}
    signature = sign(KEY, _response(asked))
    assert not verify(public_key=PUBLIC_KEY, message=_response(other), signature=signature)
