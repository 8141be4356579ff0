"""PIN-wrapped keys: the keyring alone cannot sign; wrong PINs are counted and the tenth wipes."""

from __future__ import annotations

import keyring
import pytest

from pushauth_device import keystore, pinwrap
from pushauth_device.errors import KeyDisabled, PinInvalid, PinRequired, WrongPin
from pushauth_server.protocol import private_key_from_seed, public_key_b64

KEY = private_key_from_seed(bytes(range(32)))


def test_wrapped_key_needs_the_pin_and_opens_with_it() -> None:
    keystore.save_key("cr_a", KEY, pin="123456")
    stored = keyring.get_password(keystore.SERVICE, "cr_a")
    assert stored is not None
    assert stored.startswith("pin-v1:")
    with pytest.raises(PinRequired):
        keystore.load_key("cr_a")
    assert public_key_b64(keystore.load_key("cr_a", pin="123456")) == public_key_b64(KEY)


def test_ten_wrong_pins_in_a_row_disable_the_key() -> None:
    keystore.save_key("cr_b", KEY, pin="123456")
    for left in range(keystore.MAX_WRONG_PINS - 1, 0, -1):
        with pytest.raises(WrongPin) as wrong:
            keystore.load_key("cr_b", pin="000000")
        assert wrong.value.attempts_left == left
    with pytest.raises(KeyDisabled):
        keystore.load_key("cr_b", pin="000000")
    with pytest.raises(KeyDisabled):  # the right PIN no longer helps
        keystore.load_key("cr_b", pin="123456")


def test_a_right_pin_resets_the_count() -> None:
    keystore.save_key("cr_c", KEY, pin="123456")
    for _ in range(keystore.MAX_WRONG_PINS - 1):
        with pytest.raises(WrongPin):
            keystore.load_key("cr_c", pin="000000")
    keystore.load_key("cr_c", pin="123456")
    with pytest.raises(WrongPin) as wrong:
        keystore.load_key("cr_c", pin="000000")
    assert wrong.value.attempts_left == keystore.MAX_WRONG_PINS - 1


def test_short_or_non_digit_pins_are_refused() -> None:
    for pin in ("12345", "12345a", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        with pytest.raises(PinInvalid):
            keystore.save_key("cr_d", KEY, pin=pin)


def test_wrapped_blob_is_bound_to_its_account() -> None:
    wrapped = pinwrap.wrap(b"k" * 32, pin="123456", credential_id="cr_x")
    decoded = pinwrap.WrappedKey.decode(wrapped.encode())
    assert pinwrap.unwrap(decoded, pin="123456", credential_id="cr_x") == b"k" * 32
    assert pinwrap.unwrap(decoded, pin="123456", credential_id="cr_y") is None


def test_production_cost_is_scrypt_2_to_15(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # without the cheap_scrypt fixture of this package's conftest
    assert pinwrap.SCRYPT_LOG2_N == 15
