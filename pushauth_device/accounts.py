"""Accounts on this device: (server, user, credential). Non-secret, kept as JSON in the home dir.

The home is ``--home``, else ``PUSHAUTH_DEVICE_HOME``, else the platform's config dir, so several
simulated devices can live on one machine. Private keys are never here: see :mod:`.keystore`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from pushauth_device.errors import AccountAmbiguous, AccountNotFound, AccountsFileDamaged
from pushauth_device.visible import visible

ACCOUNTS_FILE = "accounts.json"
NO_APP = "—"


def default_home() -> Path:
    env = os.environ.get("PUSHAUTH_DEVICE_HOME")
    return Path(env) if env else Path(platformdirs.user_config_dir("pushauth-device"))


@dataclass(frozen=True, kw_only=True, slots=True)
class Account:
    credential_id: str
    user_id: str
    server_url: str
    origin: str
    device_name: str
    created_at_ms: int
    require_pin: bool = False
    # The application whose token this account enrolled through, as the server named it; None
    # for accounts enrolled before servers said (shown as a dash).
    app_name: str | None = None
    app_display_name: str | None = None

    @property
    def label(self) -> str:
        return f"{visible(self.user_id)} @ {visible(self.server_url)}"

    @property
    def app_title(self) -> str:
        """The application's display name alone (or its name), made visible; ``—`` if unknown."""
        return visible(self.app_display_name or self.app_name or "") or NO_APP

    @property
    def enrolled_through(self) -> str:
        """The application it enrolled through, made visible, for a person: ``—`` if unknown."""
        if not self.app_display_name and not self.app_name:
            return NO_APP
        name, display = self.app_name or "", self.app_display_name or ""
        if name and display and name.casefold() != display.casefold():
            return f"{visible(display)} ({visible(name)})"
        return visible(display or name)


class AccountStore:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / ACCOUNTS_FILE

    def load(self) -> list[Account]:
        if not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Account(**item) for item in data.get("accounts", [])]
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise AccountsFileDamaged(
                f"The accounts file {self.path} cannot be read ({type(exc).__name__}).",
                "Restore it from a backup, or move it away and enroll this device again.",
            ) from exc

    def stamp(self) -> tuple[int, int] | None:
        """Changes whenever the accounts file does (another process enrolled or removed one)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_mtime_ns, info.st_size

    def save(self, accounts: list[Account]) -> None:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = json.dumps({"accounts": [asdict(a) for a in accounts]}, indent=2)
        # Write-then-rename, so a crash never leaves a half-written accounts file.
        fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".accounts-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, self.path)

    def add(self, account: Account) -> None:
        self.save([*self.load(), account])

    def remove(self, credential_id: str) -> None:
        self.save([a for a in self.load() if a.credential_id != credential_id])

    def select(self, selector: str | None) -> Account:
        """One account: by credential id, by user id, or the only one."""
        accounts = self.load()
        if not accounts:
            raise AccountNotFound(
                "This device has no accounts.",
                "Enroll one: pushauth-device enroll --server URL --token TOKEN",
            )
        if selector:
            matches = [a for a in accounts if selector in (a.credential_id, a.user_id)]
        else:
            matches = accounts
        if not matches:
            raise AccountNotFound(
                f"No account matches {visible(selector or '')!r}.", "See: pushauth-device accounts"
            )
        if len(matches) > 1:
            raise AccountAmbiguous(
                "Several accounts match.", "Pick one with --account CREDENTIAL_ID."
            )
        return matches[0]
