"""One SSE stream per account, each held by a worker; unlocking PIN accounts; removing accounts.

A stream reconnects with backoff and jitter (:func:`pushauth_device.service.follow`) and on each
connect delivers what is pending first. The wait before a reconnect can be cut short ("reconnect
now"). Keyring reads and PIN checks (scrypt) run in threads, never on the UI's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import aclosing

from pushauth_device import keystore, service
from pushauth_device.accounts import Account
from pushauth_device.errors import KeyDisabled, KeyMissing, WrongPin
from pushauth_device.tui.base import AuthenticatorBase
from pushauth_device.tui.messages import ChallengeArrived, ChallengeResolved, ConnectionChanged
from pushauth_device.tui.problems import describe
from pushauth_device.tui.screens.confirm import ConfirmScreen
from pushauth_device.tui.screens.pin import PinScreen
from pushauth_device.tui.state import ConnectionState
from pushauth_server.client import CredentialRevoked

__all__ = ["ConnectionsMixin"]

REVOKED = "revoked on the server: remove this account and enroll again"


class ConnectionsMixin(AuthenticatorBase):
    _retry_events: dict[str, asyncio.Event]

    def start_stream(self, account: Account) -> None:
        cid = account.credential_id
        if account.require_pin and cid not in self.keys:
            if self.states.get(cid, ConnectionState(kind="locked")).kind != "disabled":
                self.states[cid] = ConnectionState(kind="locked", detail="press u to unlock")
            self.refresh_home()
            return
        if not self.connect:
            return
        self.stop_stream(cid)
        self.run_worker(self._follow(account), name=cid, group="streams", exit_on_error=False)

    def stop_stream(self, credential_id: str) -> None:
        for worker in self.workers:
            if worker.group == "streams" and worker.name == credential_id:
                worker.cancel()

    def _set(self, credential_id: str, state: ConnectionState) -> None:
        self.post_message(ConnectionChanged(credential_id, state))

    async def _follow(self, account: Account) -> None:
        cid = account.credential_id
        retry = self._retry_event(cid)

        async def wait(seconds: float) -> None:
            retry.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(retry.wait(), seconds)

        self._set(cid, ConnectionState(kind="connecting"))
        attempt = 0
        try:
            key = self.keys.get(cid) or await asyncio.to_thread(keystore.load_key, cid)
            events = service.follow(account, key=key, delay=self.reconnect_delay, wait=wait)
            async with aclosing(events) as stream:
                async for event in stream:
                    if isinstance(event, service.Disconnected):
                        attempt += 1
                        next_ms = self.clock() + round(event.delay * 1000)
                        state = ConnectionState(
                            kind="reconnecting",
                            detail=event.reason,
                            next_attempt_ms=next_ms,
                            attempt=attempt,
                        )
                        self._set(cid, state)
                    elif event.kind == "ready":
                        attempt = 0
                        self._set(cid, ConnectionState(kind="connected"))
                    elif (challenge := event.challenge) is not None:
                        self.post_message(ChallengeArrived(account, challenge))
                    elif event.kind == "resolved":
                        data = event.data
                        resolved = ChallengeResolved(
                            str(data.get("challenge_id")),
                            str(data.get("status")),
                            data.get("reason"),
                        )
                        self.post_message(resolved)
                    elif event.kind == "revoked":
                        self._set(cid, ConnectionState(kind="revoked", detail=REVOKED))
        except CredentialRevoked:
            self._set(cid, ConnectionState(kind="revoked", detail=REVOKED))
        except KeyDisabled as exc:
            self._set(cid, ConnectionState(kind="disabled", detail=str(describe(exc))))
        except Exception as exc:  # offline with the reason and what to do; never a traceback
            detail = f"{describe(exc)} Press r to try again."
            self._set(cid, ConnectionState(kind="offline", detail=detail))

    def _retry_event(self, credential_id: str) -> asyncio.Event:
        if not hasattr(self, "_retry_events"):
            self._retry_events = {}
        return self._retry_events.setdefault(credential_id, asyncio.Event())

    def action_retry_now(self) -> None:
        """Reconnect every waiting stream now, and restart the ones that gave up."""
        for account in self.accounts:
            state = self.states.get(account.credential_id)
            if state is not None and state.kind == "offline":
                self.start_stream(account)
            else:
                self._retry_event(account.credential_id).set()

    # PIN accounts listen only once unlocked: the stream's request proofs are signed too.

    def action_unlock_account(self) -> None:
        locked = [a for a in self.accounts if a.require_pin and a.credential_id not in self.keys]
        selected = self.account(self.home.selected_account)
        if selected in locked:
            locked.insert(0, selected)
        if not locked:
            self.notify("Nothing to unlock: no account here is waiting for its PIN.")
            return
        self.ask_unlock(locked[0])

    def ask_unlock(self, account: Account, error: str = "") -> None:
        prompt = f"PIN for {account.label}, to receive its requests on this device:"

        def unlock(pin: str | None) -> None:
            if pin is not None:
                self.run_worker(self._unlock(account, pin), group="keys", exit_on_error=False)

        self.push_screen(PinScreen(prompt, error=error), unlock)

    async def _unlock(self, account: Account, pin: str) -> None:
        cid = account.credential_id
        try:
            key = await asyncio.to_thread(keystore.load_key, cid, pin=pin)
        except WrongPin as exc:
            self.ask_unlock(account, exc.message)
            return
        except Exception as exc:
            detail = str(describe(exc))
            if isinstance(exc, KeyDisabled):
                self._set(cid, ConnectionState(kind="disabled", detail=detail))
            else:
                self._set(cid, ConnectionState(kind="locked", detail=detail))
            self.notify(str(describe(exc)), severity="error")
            return
        self.keys[cid] = key
        self.start_stream(account)

    def action_remove_account(self) -> None:
        account = self.account(self.home.selected_account)
        if account is None:
            self.notify("No account selected.")
            return
        question = f"Revoke {account.label} and remove it from this device?"
        detail = (
            "The server revokes this device's credential at once (signed by this device), and "
            "its key is deleted from the keyring: this device can no longer answer for "
            f"{account.user_id}. To use it again, enroll it again."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._remove(account), group="keys", exit_on_error=False)

        self.push_screen(ConfirmScreen(question, yes="Revoke and remove", detail=detail), confirmed)

    async def _remove(self, account: Account) -> None:
        cid = account.credential_id
        self.stop_stream(cid)
        try:
            await service.revoke(self.store, account, self.keys.get(cid))
        except (KeyDisabled, KeyMissing):
            # No key left to sign a revocation with: forget it here, the operator revokes it.
            await asyncio.to_thread(service.remove, self.store, account)
            self.notify(f"Ask an operator to revoke it: pushauth revoke {cid}", severity="warning")
        except Exception as exc:  # server down, PIN needed: keep the account, say what to do
            self.notify(str(describe(exc)), severity="error")
            self.start_stream(account)
            return
        self.keys.pop(cid, None)
        self.states.pop(cid, None)
        self.accounts = self.store.load()
        self.notify(f"Removed {account.label}.")
        self.refresh_home()
