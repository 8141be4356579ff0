"""One SSE stream per account, each held by a worker: the app's stream manager.

A stream reconnects with backoff and jitter (:func:`pushauth_device.service.follow`) and on each
connect delivers what is pending first. The wait before a reconnect can be cut short
(:meth:`StreamManager.retry`). What happens is posted to the app as messages
(:class:`ConnectionChanged`, :class:`ChallengeArrived`, :class:`ChallengeResolved`); the keyring
read runs in a thread, never on the UI's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from contextlib import aclosing

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.worker import Worker

from pushauth_device import keystore, service
from pushauth_device.accounts import Account
from pushauth_device.errors import KeyDisabled, KeyMissing
from pushauth_device.problems import describe
from pushauth_device.tui.messages import ChallengeArrived, ChallengeResolved, ConnectionChanged
from pushauth_device.tui.state import ConnectionKind, ConnectionState
from pushauth_device.tui.workers import Post, RunWorker
from pushauth_device.visible import visible
from pushauth_server.client import CredentialRevoked, StreamEvent

__all__ = ["REVOKED", "StreamManager"]

REVOKED = "revoked on the server: press x to remove this account, then enroll it again"


class StreamManager:
    def __init__(
        self,
        *,
        run_worker: RunWorker,
        post: Post,
        keys: Mapping[str, Ed25519PrivateKey],
        clock: Callable[[], int],
        reconnect_delay: Callable[[int], float],
    ) -> None:
        self._run_worker = run_worker
        self._post = post
        self._keys = keys  # PIN accounts unlocked this session (the app's dict, read only here)
        self._clock = clock
        self._reconnect_delay = reconnect_delay
        self._workers: dict[str, Worker[None]] = {}
        self._retry: dict[str, asyncio.Event] = {}

    def start(self, account: Account) -> None:
        """(Re)open the account's stream."""
        cid = account.credential_id
        self.stop(cid)
        self._workers[cid] = self._run_worker(
            self._follow(account), name=cid, group="streams", exit_on_error=False
        )

    def stop(self, credential_id: str) -> None:
        worker = self._workers.pop(credential_id, None)
        if worker is not None:
            worker.cancel()

    def retry(self, credential_id: str) -> None:
        """Cut the wait before the next reconnect attempt short."""
        self._retry_event(credential_id).set()

    def _retry_event(self, credential_id: str) -> asyncio.Event:
        return self._retry.setdefault(credential_id, asyncio.Event())

    def _set(self, credential_id: str, state: ConnectionState) -> None:
        self._post(ConnectionChanged(credential_id, state))

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
            key = self._keys.get(cid) or await asyncio.to_thread(keystore.load_key, cid)
            events = service.follow(account, key=key, delay=self._reconnect_delay, wait=wait)
            async with aclosing(events) as stream:
                async for event in stream:
                    if isinstance(event, service.Disconnected):
                        attempt += 1
                        next_ms = self._clock() + round(event.delay * 1000)
                        state = ConnectionState(
                            kind="reconnecting",
                            detail=visible(event.reason),
                            next_attempt_ms=next_ms,
                            attempt=attempt,
                        )
                        self._set(cid, state)
                    elif event.kind == "ready":
                        attempt = 0
                        self._set(cid, ConnectionState(kind="connected"))
                    else:
                        self._deliver(account, event)
        except CredentialRevoked:
            self._set(cid, ConnectionState(kind="revoked", detail=REVOKED))
        except KeyMissing as exc:  # disabled, damaged or gone: reconnecting will not help
            kind: ConnectionKind = "disabled" if isinstance(exc, KeyDisabled) else "offline"
            self._set(cid, ConnectionState(kind=kind, detail=str(describe(exc))))
        except Exception as exc:  # offline with the reason and what to do; never a traceback
            detail = f"{describe(exc)} Then press r to try again."
            self._set(cid, ConnectionState(kind="offline", detail=detail))

    def _deliver(self, account: Account, event: StreamEvent) -> None:
        if (challenge := event.challenge) is not None:
            self._post(ChallengeArrived(account, challenge))
        elif event.kind == "resolved":
            data = event.data
            replaced_by = data.get("replaced_by")
            self._post(
                ChallengeResolved(
                    str(data.get("challenge_id")),
                    str(data.get("status")),
                    data.get("reason"),
                    str(replaced_by) if replaced_by else None,
                )
            )
        elif event.kind == "revoked":
            self._set(account.credential_id, ConnectionState(kind="revoked", detail=REVOKED))
