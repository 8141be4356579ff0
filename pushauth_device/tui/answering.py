"""Answering a request: ask the PIN where the account wants it, sign, send, report, close.

An approval of a PIN account unwraps the key with the PIN typed for that approval; a wrong PIN
asks again (with the attempts left) and the tenth in a row disables the key. A denial is signed
with the key already unlocked for the stream: saying no needs no PIN. The outcome is recorded
and the request screen closes with one short message, never an error dialog.
"""

from __future__ import annotations

import asyncio

from pushauth_device import keystore, service
from pushauth_device.errors import ChallengeUnavailable, KeyDisabled, WrongPin
from pushauth_device.tui.base import AuthenticatorBase
from pushauth_device.tui.history import Outcome
from pushauth_device.tui.messages import RequestAnswered
from pushauth_device.tui.problems import describe
from pushauth_device.tui.screens.pin import PinScreen
from pushauth_device.tui.state import ConnectionState, QueuedRequest
from pushauth_server.client import ResponseResult

__all__ = ["AnsweringMixin"]


def outcome_of(result: ResponseResult) -> tuple[Outcome, str, str]:
    """The recorded outcome, the message, and its severity."""
    if result.status == "approved":
        return "approved", "Approved.", "information"
    if result.reason == "wrong_code":
        return "failed", "Wrong number: this sign-in failed. Start it again.", "error"
    if result.reason == "not_me":
        return "reported", "Denied and reported as not you.", "warning"
    if result.status == "denied":
        return "denied", "Denied.", "warning"
    return "expired", f"The request is {result.status}.", "warning"


class AnsweringMixin(AuthenticatorBase):
    def on_request_answered(self, message: RequestAnswered) -> None:
        queued = self.requests.get(message.challenge_id)
        if queued is None or message.challenge_id in self.answering:
            return  # already being sent: a second key press does not answer twice
        if message.choice == "approve" and queued.account.require_pin:
            self.ask_pin(queued, message)
            return
        self.send(queued, message, pin=None)

    def ask_pin(self, queued: QueuedRequest, message: RequestAnswered, error: str = "") -> None:
        prompt = f"PIN for {queued.account.label}, to approve:"

        def typed(pin: str | None) -> None:
            if pin is not None and queued.challenge.challenge_id in self.requests:
                self.send(queued, message, pin=pin)

        self.push_screen(PinScreen(prompt, error=error), typed)

    def send(self, queued: QueuedRequest, message: RequestAnswered, *, pin: str | None) -> None:
        self.answering.add(message.challenge_id)
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == message.challenge_id:
            screen.set_busy(True, "Sending…")
        self.run_worker(self._send(queued, message, pin), group="answers", exit_on_error=False)

    async def _send(self, queued: QueuedRequest, message: RequestAnswered, pin: str | None) -> None:
        account, challenge = queued.account, queued.challenge
        cid = account.credential_id
        try:
            key = self.keys.get(cid) if pin is None else None
            if key is None:  # an approval with its PIN, or a key that is not unlocked yet
                key = await asyncio.to_thread(keystore.load_key, cid, pin=pin)
            result = await service.answer(
                account,
                challenge,
                decision="approve" if message.choice == "approve" else "deny",
                reason="not_me" if message.choice == "not_me" else "",
                verification_code=message.code,
                key=key,
            )
        except WrongPin as exc:
            self._answer_failed(message.challenge_id, exc.message)
            self.ask_pin(queued, message, exc.message)
            return
        except KeyDisabled as exc:
            problem = describe(exc)
            self.keys.pop(cid, None)
            self.states[cid] = ConnectionState(kind="disabled", detail=str(problem))
            self.answering.discard(message.challenge_id)
            self.close_request(message.challenge_id, str(problem), severity="error")
            return
        except ChallengeUnavailable:
            self.answering.discard(message.challenge_id)
            self.record(queued, "resolved elsewhere")
            text = "This request was already settled elsewhere; nothing was sent."
            self.close_request(message.challenge_id, text)
            return
        except Exception as exc:  # the request stays open: the person can try again
            self._answer_failed(message.challenge_id, str(describe(exc)))
            return
        self.answering.discard(message.challenge_id)
        outcome, text, severity = outcome_of(result)
        self.record(queued, outcome)
        self.close_request(message.challenge_id, text, severity=severity)

    def _answer_failed(self, challenge_id: str, status: str) -> None:
        self.answering.discard(challenge_id)
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == challenge_id:
            screen.set_busy(False, status)
