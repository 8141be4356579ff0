"""Signing and sending an answer, in a worker: the app's answer sender.

An approval of a PIN account unwraps the key with the PIN typed for that approval; a denial is
signed with the key already unlocked for the stream (saying no needs no PIN). The outcome is
posted to the app (:class:`AnswerSent` or :class:`AnswerFailed`), which records it and closes
the request; :func:`outcome_of` and :func:`settled_elsewhere` put outcomes into words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pushauth_device import keystore, service
from pushauth_device.tui.history import Outcome
from pushauth_device.tui.messages import AnswerFailed, AnswerSent, RequestAnswered
from pushauth_device.tui.state import QueuedRequest
from pushauth_device.tui.workers import Post, RunWorker
from pushauth_device.visible import visible
from pushauth_server.client import ResponseResult

__all__ = ["AnswerSender", "outcome_of", "settled_elsewhere"]


def outcome_of(result: ResponseResult, user_id: str) -> tuple[Outcome, str, str]:
    """The recorded outcome of this device's own answer, the message, and its severity."""
    if result.status == "approved":
        return "approved", "Approved.", "information"
    if result.reason == "wrong_code":
        return "failed", "Wrong number: this sign-in failed. Start it again.", "error"
    if result.reason == "not_me":
        user = visible(user_id)
        return (
            "reported",
            f"Denied and reported as not you. {user} is now locked until an operator runs "
            f"`pushauth unlock {user}`.",
            "warning",
        )
    if result.status == "denied":
        return "denied", "Denied.", "warning"
    return "expired", f"The request is {visible(result.status)}.", "warning"


def settled_elsewhere(
    user_id: str, status: str, reason: str | None, replaced_by: str | None
) -> tuple[Outcome, str]:
    """What happened to a request this device did not answer, for the history and a notice."""
    who = f"The request for {visible(user_id)}"
    if status == "expired":
        return "expired", f"{who} expired before it was answered."
    if status == "cancelled" and replaced_by:
        return "replaced", f"{who} was replaced by a newer request ({visible(replaced_by)})."
    if status == "cancelled":
        return "cancelled", f"{who} was cancelled by the application that asked."
    if status == "approved":
        return "approved elsewhere", f"{who} was approved on another device."
    if reason == "wrong_code":
        return "failed elsewhere", f"{who} failed on another device: a wrong number was typed."
    if reason == "not_me":
        return "denied elsewhere", f"{who} was reported as not them on another device."
    if status == "denied":
        return "denied elsewhere", f"{who} was denied on another device."
    return "resolved elsewhere", f"{who} is now {visible(status)}."


class AnswerSender:
    def __init__(
        self, *, run_worker: RunWorker, post: Post, keys: Mapping[str, Ed25519PrivateKey]
    ) -> None:
        self._run_worker = run_worker
        self._post = post
        self._keys = keys
        self._sending: set[str] = set()

    def is_sending(self, challenge_id: str) -> bool:
        return challenge_id in self._sending

    def send(self, request: QueuedRequest, answer: RequestAnswered, *, pin: str | None) -> None:
        """Sign and send ``answer`` (``pin`` unwraps the key of a PIN account's approval)."""
        self._sending.add(answer.challenge_id)
        self._run_worker(self._send(request, answer, pin), group="answers", exit_on_error=False)

    async def _send(self, request: QueuedRequest, answer: RequestAnswered, pin: str | None) -> None:
        account, challenge = request.account, request.challenge
        cid = account.credential_id
        try:
            key = self._keys.get(cid) if pin is None else None
            if key is None:  # an approval with its PIN, or a key that is not unlocked yet
                key = await asyncio.to_thread(keystore.load_key, cid, pin=pin)
            result = await service.answer(
                account,
                challenge,
                decision="approve" if answer.choice == "approve" else "deny",
                reason="not_me" if answer.choice == "not_me" else "",
                verification_code=answer.code,
                key=key,
            )
        except Exception as exc:  # the app puts it into words; never a traceback
            self._sending.discard(answer.challenge_id)
            self._post(AnswerFailed(request, answer, exc))
            return
        self._sending.discard(answer.challenge_id)
        self._post(AnswerSent(request, result))
