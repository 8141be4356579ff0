"""Every way the keyring can fail is a message, what to do, and exit 4: never a traceback, never
advice to store keys in plaintext (keyring's own NoKeyringError suggests keyrings.alt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.errors import KeyringLocked, NoKeyringError
from secretstorage.exceptions import ItemNotFoundException, PromptDismissedException
from typer.testing import CliRunner

from pushauth_device import keystore
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import KeyDamaged, KeyMissing, KeyringUnavailable
from pushauth_device.exit_codes import ExitCode
from pushauth_device.main import app
from pushauth_server.protocol import generate_private_key
from tests.support.memory_keyring import BrokenKeyring

ACCOUNT = Account(
    credential_id="cr_kim",
    user_id="kim",
    server_url="http://127.0.0.1:9",
    origin="http://127.0.0.1:9",
    device_name="phone",
    created_at_ms=0,
)
NO_KEYRING = NoKeyringError(
    "No recommended backend was available. Install a recommended 3rd party backend package; "
    "or, install the keyrings.alt package if you want to use the non-recommended backends."
)


@pytest.fixture
def broken() -> Iterator[BrokenKeyring]:
    previous = keyring.get_keyring()
    backend = BrokenKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    AccountStore(tmp_path / "phone").add(ACCOUNT)
    return tmp_path / "phone"


def device(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def assert_good_advice(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "keyrings.alt" not in stderr
    assert "same D-Bus session" in stderr or "same unlocked keyring" in stderr
    assert "dbus-run-session" in stderr


@pytest.mark.parametrize(
    "error",
    [NO_KEYRING, KeyringLocked("Failed to unlock the collection!"), PromptDismissedException()],
    ids=["no-backend", "locked", "prompt-dismissed"],
)
@pytest.mark.parametrize("command", [("pending",), ("approve", "ch_x", "--code", "123456")])
def test_an_unusable_keyring_exits_4_and_says_what_to_do(
    broken: BrokenKeyring, home: Path, error: Exception, command: tuple[str, ...]
) -> None:
    keystore.save_key(ACCOUNT.credential_id, generate_private_key())
    broken.error = error
    code, stderr = device(home, *command)
    assert code == ExitCode.ACCOUNT
    assert "The keyring could not be read" in stderr
    assert_good_advice(stderr)


def test_an_entry_gone_from_another_session_is_a_missing_key(
    broken: BrokenKeyring, home: Path
) -> None:
    """secretstorage raises ItemNotFoundException when the item vanished between the search and
    the read (the app and the commands in different D-Bus sessions, accounts added and
    removed): that is a missing key, not a crash."""
    broken.error = ItemNotFoundException("Item does not exist!")
    with pytest.raises(KeyMissing):
        keystore.load_key(ACCOUNT.credential_id)
    code, stderr = device(home, "pending")
    assert code == ExitCode.ACCOUNT
    assert "is not in this keyring" in stderr
    assert "another D-Bus session" in stderr
    assert "Traceback" not in stderr


def test_a_key_never_stored_here_is_missing(broken: BrokenKeyring, home: Path) -> None:
    code, stderr = device(home, "approve", "ch_x", "--code", "123456")
    assert code == ExitCode.ACCOUNT
    assert "cr_kim is not in this keyring" in stderr


@pytest.mark.parametrize(
    "stored",
    ["ed25519-raw:!!!not base64", "ed25519-raw:AAAA", "pin-v1:15:x", "pin-v1:99:a:b:c", "hello"],
)
def test_a_damaged_entry_is_a_message_not_a_value_error(
    broken: BrokenKeyring, home: Path, stored: str
) -> None:
    broken.secrets[(keystore.SERVICE, ACCOUNT.credential_id)] = stored
    with pytest.raises(KeyDamaged):
        keystore.load_key(ACCOUNT.credential_id, pin="123456")
    code, stderr = device(home, "pending")
    assert code == ExitCode.ACCOUNT
    assert "damaged" in stderr or "not a key this device wrote" in stderr
    assert "enroll" in stderr


def test_enrolling_without_a_keyring_never_suggests_plaintext(broken: BrokenKeyring) -> None:
    broken.error = NO_KEYRING
    with pytest.raises(KeyringUnavailable) as refused:
        keystore.save_key("cr_new", generate_private_key())
    words = f"{refused.value.message} {refused.value.hint}"
    assert "keyrings.alt" not in words
    assert "dbus-run-session" in words


def test_a_damaged_accounts_file_exits_4(tmp_path: Path) -> None:
    home = tmp_path / "phone"
    home.mkdir()
    (home / "accounts.json").write_text("{not json", encoding="utf-8")
    code, stderr = device(home, "accounts")
    assert code == ExitCode.ACCOUNT
    assert "cannot be read" in stderr


def test_revoke_without_the_key_forgets_the_account_and_names_the_operator_step(
    broken: BrokenKeyring, home: Path
) -> None:
    code, stderr = device(home, "revoke", "--yes")
    assert code == ExitCode.OK, stderr
    assert "pushauth revoke cr_kim" in stderr
    assert AccountStore(home).load() == []
