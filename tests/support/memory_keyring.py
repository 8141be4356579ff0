"""An in-memory keyring backend for unit tests (never used outside tests)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.secrets[(service, username)]
        except KeyError as exc:
            raise PasswordDeleteError(username) from exc


class BrokenKeyring(MemoryKeyring):
    """An in-memory keyring that fails the way real ones do: every read and write raises
    ``error`` (secretstorage's ItemNotFoundException, keyring's KeyringLocked or
    NoKeyringError...) while it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.error: Exception | None = None

    def get_password(self, service: str, username: str) -> str | None:
        if self.error is not None:
            raise self.error
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.error is not None:
            raise self.error
        super().set_password(service, username, password)
