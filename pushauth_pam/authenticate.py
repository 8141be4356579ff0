"""The decision for one PAM ``auth`` request: who needs a push, the push, the answer.

Exit codes, read by pam_pushauth.so:

====  ====================  =============================================================
code  PAM result            when
====  ====================  =============================================================
0     PAM_SUCCESS           approved; the user is not in ``users``/``groups`` (bypassed);
                            the server is unreachable and ``failmode = "safe"``
1     PAM_AUTH_ERR          denied, wrong number, timed out, cancelled, refused (4xx)
2     PAM_AUTHINFO_UNAVAIL  the server is unreachable and ``failmode = "secure"``
3     PAM_SERVICE_ERR       bad configuration or an internal error
4     PAM_USER_UNKNOWN      no such Unix user
====  ====================  =============================================================

Every exit is logged (``audit.py``).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import time
from dataclasses import dataclass
from typing import Any

from pushauth_pam.api import RelyingPartyApi
from pushauth_pam.audit import DecisionLog
from pushauth_pam.config import PamConfig
from pushauth_pam.conversation import Conversation, ConversationClosed
from pushauth_pam.errors import ServerError, ServerRefused, ServerUnavailable
from pushauth_pam.request import PamRequest, challenge_body

__all__ = [
    "EXIT_AUTH_ERR",
    "EXIT_CONFIG",
    "EXIT_SUCCESS",
    "EXIT_UNAVAILABLE",
    "EXIT_USER_UNKNOWN",
    "Authenticator",
    "spaced",
]

EXIT_SUCCESS = 0
EXIT_AUTH_ERR = 1
EXIT_UNAVAILABLE = 2
EXIT_CONFIG = 3
EXIT_USER_UNKNOWN = 4

_REFUSALS = {
    "no_enrolled_device": "no device is enrolled for you: ask an administrator to enroll one",
    "challenge_pending": "another request is waiting on your device: answer or deny it first",
    "user_locked": "your account is locked for push sign-in: ask an administrator",
    "rate_limited": "too many requests: wait a little and try again",
    "invalid_api_key": "this machine's API key is not accepted: ask an administrator",
    "insufficient_scope": "this machine's API key lacks the challenges scope: ask an administrator",
    "user_not_allowed": "this machine's API key may not sign you in: ask an administrator",
}
_DENIALS = {
    "wrong_code": "Denied: the number typed on the device was wrong.",
    "not_me": "Denied on your device (reported as not you).",
    "user_denied": "Denied on your device.",
}


def spaced(code: str) -> str:
    """``482913`` → ``482 913``: easier to read and compare (six and eight digits split in two)."""
    if len(code) >= 6 and len(code) % 2 == 0:
        half = len(code) // 2
        return f"{code[:half]} {code[half:]}"
    return code


def needs_push(config: PamConfig, account: pwd.struct_passwd) -> bool:
    """Everyone needs a push unless ``users``/``groups`` narrow it down."""
    if not config.users and not config.groups:
        return True
    if account.pw_name in config.users:
        return True
    member_of = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for name in config.groups:
        try:
            if grp.getgrnam(name).gr_gid in member_of:
                return True
        except KeyError:
            continue  # a group that does not exist has no members
    return False


@dataclass
class Authenticator:
    config: PamConfig
    request: PamRequest
    conversation: Conversation
    log: DecisionLog
    api: RelyingPartyApi

    pushauth_user: str = ""
    challenge_id: str = ""

    def _record(self, decision: str, reason: str = "") -> None:
        self.log.record(
            decision,
            self.request,
            pushauth_user=self.pushauth_user,
            challenge_id=self.challenge_id,
            reason=reason,
        )

    def _tell(self, text: str, *, error: bool = False) -> None:
        with contextlib.suppress(ConversationClosed):  # gone: the log has the decision
            (self.conversation.error if error else self.conversation.info)(text)

    def _use_prompt(self) -> bool:
        if self.config.prompt == "auto":
            return self.request.is_ssh  # sshd holds info messages back (OpenSSH bug 2876)
        return self.config.prompt == "always"

    def run(self) -> int:
        request = self.request
        if not request.user:
            self._record("denied", "no_user")
            return EXIT_USER_UNKNOWN
        try:
            account = pwd.getpwnam(request.user)
        except KeyError:
            # Denied before any network call: no challenge for names that are not accounts.
            self._record("denied", "unknown_user")
            return EXIT_USER_UNKNOWN
        if not needs_push(self.config, account):
            self._record("bypassed", "not_in_users_or_groups")
            return EXIT_SUCCESS
        self.pushauth_user = self.config.user_map.get(request.user, request.user)
        try:
            return self._push()
        except ServerUnavailable as exc:
            self._cancel()
            return self._unavailable(str(exc))
        except ServerRefused as exc:
            self._record("denied", f"server_refused:{exc.code}")
            hint = _REFUSALS.get(exc.code, f"the server refused the request ({exc.code})")
            self._tell(f"pushauth: {hint}", error=True)
            return EXIT_AUTH_ERR
        except (ConversationClosed, KeyboardInterrupt):
            self._cancel()
            self._record("cancelled", "conversation_closed")
            return EXIT_AUTH_ERR

    def _unavailable(self, why: str) -> int:
        if self.config.failmode == "safe":
            self._record("fail_safe_allow", f"server_unavailable: {why}")
            self._tell("pushauth: the server cannot be reached; allowed (failmode safe).")
            return EXIT_SUCCESS
        self._record("fail_secure_deny", f"server_unavailable: {why}")
        self._tell("pushauth: the server cannot be reached; denied (failmode secure).", error=True)
        return EXIT_UNAVAILABLE

    def _cancel(self) -> None:
        if not self.challenge_id:
            return
        with contextlib.suppress(ServerError):  # resolved already, or the server is gone
            self.api.cancel(self.challenge_id)

    def _push(self) -> int:
        body = challenge_body(
            self.request,
            user_id=self.pushauth_user,
            pushinfo=self.config.pushinfo,
            timeout=self.config.timeout,
        )
        deadline = time.monotonic() + self.config.timeout
        created = self.api.create_challenge(body)
        self.challenge_id = str(created.get("challenge_id", ""))
        number = spaced(str(created.get("verification_code", "")))
        if self._use_prompt():
            answered = self.conversation.prompt(
                f"Approve on your device with the number {number}, then press Enter: ",
                deadline=deadline,
            )
            if answered is None:
                return self._timed_out()
        else:
            self.conversation.info(f"pushauth: approve on your device with the number {number}")
        state = self._wait(created, deadline)
        return self._finish(state)

    def _wait(self, state: dict[str, Any], deadline: float) -> dict[str, Any]:
        while state.get("status") == "pending":
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            state = self.api.wait(self.challenge_id, remaining)
        return state

    def _timed_out(self) -> int:
        self._cancel()
        self._record("timed_out")
        self._tell("pushauth: no answer in time; denied.", error=True)
        return EXIT_AUTH_ERR

    def _finish(self, state: dict[str, Any]) -> int:
        status = state.get("status")
        reason = str(state.get("reason") or "")
        if status == "approved":
            self._record("approved")
            device = state.get("device_name")
            self._tell(f"pushauth: approved{f' on {device}' if device else ''}.")
            return EXIT_SUCCESS
        if status == "pending":
            return self._timed_out()
        if status == "expired":
            self._record("timed_out", "expired")
            self._tell("pushauth: the request expired; denied.", error=True)
            return EXIT_AUTH_ERR
        if status == "denied":
            self._record("denied", reason)
            self._tell(f"pushauth: {_DENIALS.get(reason, 'Denied.')}", error=True)
            return EXIT_AUTH_ERR
        self._record("cancelled" if status == "cancelled" else "denied", reason or str(status))
        self._tell("pushauth: the request was cancelled; denied.", error=True)
        return EXIT_AUTH_ERR
