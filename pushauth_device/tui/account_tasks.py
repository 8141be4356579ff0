"""Keyring and server work on accounts, in workers: unlocking a PIN account, revoking one.

PIN checks (scrypt) and keyring reads run in threads; each task posts its outcome to the app
(:class:`KeyUnlocked`, :class:`UnlockFailed`, :class:`AccountRemoved`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pushauth_device import keystore, service
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import KeyMissing
from pushauth_device.tui.messages import AccountRemoved, KeyUnlocked, UnlockFailed
from pushauth_device.tui.workers import Post, RunWorker

__all__ = ["AccountTasks"]


class AccountTasks:
    def __init__(
        self,
        *,
        store: AccountStore,
        run_worker: RunWorker,
        post: Post,
        keys: Mapping[str, Ed25519PrivateKey],
    ) -> None:
        self._store = store
        self._run_worker = run_worker
        self._post = post
        self._keys = keys

    def unlock(self, account: Account, pin: str) -> None:
        self._run_worker(self._unlock(account, pin), group="keys", exit_on_error=False)

    async def _unlock(self, account: Account, pin: str) -> None:
        try:
            key = await asyncio.to_thread(keystore.load_key, account.credential_id, pin=pin)
        except Exception as exc:
            self._post(UnlockFailed(account, exc))
            return
        self._post(KeyUnlocked(account, key))

    def remove(self, account: Account) -> None:
        """Revoke on the server (signed by this device), then forget it here."""
        self._run_worker(self._remove(account), group="keys", exit_on_error=False)

    async def _remove(self, account: Account) -> None:
        try:
            await service.revoke(self._store, account, self._keys.get(account.credential_id))
        except KeyMissing as exc:
            # No key left to sign a revocation with: forget it here, the operator revokes it.
            await asyncio.to_thread(service.remove, self._store, account)
            self._post(AccountRemoved(account, removed=True, error=exc))
            return
        except Exception as exc:  # server down, PIN needed: keep the account
            self._post(AccountRemoved(account, removed=False, error=exc))
            return
        self._post(AccountRemoved(account, removed=True))
