"""The full-screen authenticator: ``pushauth-device`` with no arguments plays the phone.

The app holds the state (accounts, connection states, the request queue, recent decisions) and
owns three plain components that do the background work and report back with messages:
:class:`~.streams.StreamManager` (one stream per account), :class:`~.answers.AnswerSender`
(signing and sending an answer) and :class:`~.account_tasks.AccountTasks` (unlocking and
revoking accounts). Every error is put into words by :func:`pushauth_device.problems.describe`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import tzinfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.app import App

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import AccountsFileDamaged, ChallengeUnavailable, KeyDisabled, WrongPin
from pushauth_device.problems import describe
from pushauth_device.service import backoff_delay
from pushauth_device.tui.account_tasks import AccountTasks
from pushauth_device.tui.answers import AnswerSender, outcome_of, settled_elsewhere
from pushauth_device.tui.history import HISTORY_FILE, DecisionLog, DecisionRecord, Outcome
from pushauth_device.tui.messages import (
    AccountRemoved,
    AnswerFailed,
    AnswerSent,
    ChallengeArrived,
    ChallengeResolved,
    ConnectionChanged,
    KeyUnlocked,
    RequestAnswered,
    UnlockFailed,
)
from pushauth_device.tui.screens.confirm import ConfirmScreen
from pushauth_device.tui.screens.enroll import EnrollScreen
from pushauth_device.tui.screens.home import HomeScreen
from pushauth_device.tui.screens.pin import PinScreen
from pushauth_device.tui.screens.request import RequestScreen
from pushauth_device.tui.state import ConnectionKind, ConnectionState, QueuedRequest, RequestQueue
from pushauth_device.tui.streams import StreamManager
from pushauth_device.tui.widgets.challenge_details import about, summary
from pushauth_server.clock import now_ms

__all__ = ["AuthenticatorApp", "run_app"]


class AuthenticatorApp(App[None]):
    """``clock`` (ms), ``tz``, ``decisions`` and ``states`` are injectable for fixed snapshots;
    ``connect=False`` opens no stream; ``reconnect_delay(attempt)`` gives the backoff."""

    CSS_PATH = "app.tcss"
    TITLE = "pushauth"
    SUB_TITLE = "authenticator"

    def __init__(
        self,
        store: AccountStore,
        *,
        clock: Callable[[], int] = now_ms,
        tz: tzinfo | None = None,
        decisions: DecisionLog | None = None,
        states: dict[str, ConnectionState] | None = None,
        connect: bool = True,
        reconnect_delay: Callable[[int], float] = backoff_delay,
        device_name: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.tz = tz
        self.decisions = decisions or DecisionLog(store.home / HISTORY_FILE)
        self.states: dict[str, ConnectionState] = dict(states or {})
        self.connect = connect
        self.device_name = device_name or socket.gethostname()
        self.accounts: list[Account] = []
        self.accounts_problem = ""  # why accounts.json could not be read, if it could not
        self.requests = RequestQueue()
        self.keys: dict[str, Ed25519PrivateKey] = {}  # unlocked PIN accounts, this session only
        self.last_notice = ""  # the short message the last closed request left
        self.home = HomeScreen()
        self._accounts_stamp: tuple[int, int] | None = None
        self.streams = StreamManager(
            run_worker=self.run_worker,
            post=self.post_message,
            keys=self.keys,
            clock=clock,
            reconnect_delay=reconnect_delay,
        )
        self.answers = AnswerSender(
            run_worker=self.run_worker, post=self.post_message, keys=self.keys
        )
        self.tasks = AccountTasks(
            store=store, run_worker=self.run_worker, post=self.post_message, keys=self.keys
        )

    def on_mount(self) -> None:
        self.push_screen(self.home)
        self.reload_accounts()
        self.call_after_refresh(self.refresh_home)
        self.set_interval(1.0, self._tick)
        if not self.accounts and not self.accounts_problem:
            self.action_add_account()

    def _tick(self) -> None:
        """Once a second: pick up accounts enrolled or removed by the commands, and refresh the
        "next attempt in N s" countdowns."""
        if self.store.stamp() != self._accounts_stamp:
            self.reload_accounts()
        self.refresh_home()

    def reload_accounts(self) -> None:
        """Read the accounts file again; open streams for new accounts, close removed ones."""
        self._accounts_stamp = self.store.stamp()
        try:
            loaded = self.store.load()
        except AccountsFileDamaged as exc:
            self.accounts_problem = str(describe(exc))
            self.refresh_home()
            return
        self.accounts_problem = ""
        before = {a.credential_id for a in self.accounts}
        now = {a.credential_id for a in loaded}
        self.accounts = loaded
        for cid in before - now:
            self.streams.stop(cid)
            self.states.pop(cid, None)
            self.keys.pop(cid, None)
        for account in loaded:
            if account.credential_id not in before:
                self.start_stream(account)
        self.refresh_home()

    def refresh_home(self) -> None:
        if self.home.is_mounted:
            self.home.show(
                self.accounts,
                self.states,
                self.decisions.records,
                now_ms=self.clock(),
                tz=self.tz,
                problem=self.accounts_problem,
            )

    def account(self, credential_id: str | None) -> Account | None:
        return next((a for a in self.accounts if a.credential_id == credential_id), None)

    def start_stream(self, account: Account) -> None:
        cid = account.credential_id
        # PIN accounts listen only once unlocked: the stream's request proofs are signed too.
        if account.require_pin and cid not in self.keys:
            if self.states.get(cid, ConnectionState(kind="locked")).kind != "disabled":
                self.states[cid] = ConnectionState(kind="locked")
            self.refresh_home()
            return
        if self.connect:
            self.streams.start(account)

    # Accounts -----------------------------------------------------------------------------

    def action_add_account(self) -> None:
        server = self.accounts[-1].server_url if self.accounts else ""
        screen = EnrollScreen(self.store, device_name=self.device_name, server_url=server)
        self.push_screen(screen, self._enrolled)

    def _enrolled(self, account: Account | None) -> None:
        if account is None:
            return
        self.notify(f"Enrolled {account.label}.")
        self.reload_accounts()

    def action_retry_now(self) -> None:
        """Reconnect every waiting stream now, and restart the ones that gave up."""
        for account in self.accounts:
            state = self.states.get(account.credential_id)
            if state is not None and state.kind == "offline":
                self.start_stream(account)
            else:
                self.streams.retry(account.credential_id)

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
                self.tasks.unlock(account, pin)

        self.push_screen(PinScreen(prompt, error=error), unlock)

    def on_key_unlocked(self, message: KeyUnlocked) -> None:
        self.keys[message.account.credential_id] = message.key
        self.start_stream(message.account)

    def on_unlock_failed(self, message: UnlockFailed) -> None:
        error, cid = message.error, message.account.credential_id
        if isinstance(error, WrongPin):
            self.ask_unlock(message.account, error.message)
            return
        detail = str(describe(error))
        kind: ConnectionKind = "disabled" if isinstance(error, KeyDisabled) else "locked"
        self.states[cid] = ConnectionState(kind=kind, detail=detail)
        self.notify(detail, severity="error")
        self.refresh_home()

    def action_remove_account(self) -> None:
        account = self.account(self.home.selected_account)
        if account is None:
            self.notify("No account selected.")
            return
        question = f"Revoke {account.label} and remove it from this device?"
        detail = (
            "The server revokes this device's credential at once (signed by this device), and "
            "its key is deleted from the keyring: this device can no longer answer for "
            f"{account.label}. To use it again, enroll it again."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.streams.stop(account.credential_id)
                self.tasks.remove(account)

        self.push_screen(ConfirmScreen(question, yes="Revoke and remove", detail=detail), confirmed)

    def on_account_removed(self, message: AccountRemoved) -> None:
        account, cid = message.account, message.account.credential_id
        if not message.removed:
            self.notify(str(describe(message.error or Exception())), severity="error")
            self.start_stream(account)
            return
        if message.error is not None:
            self.notify(f"Ask an operator to revoke it: pushauth revoke {cid}", severity="warning")
        self.keys.pop(cid, None)
        self.states.pop(cid, None)
        self.notify(f"Removed {account.label}.")
        self.reload_accounts()

    # Requests -----------------------------------------------------------------------------

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        if self.account(message.credential_id) is None:
            return  # a late message from a stream of a removed account
        self.states[message.credential_id] = message.state
        self.refresh_home()

    def on_challenge_arrived(self, message: ChallengeArrived) -> None:
        if message.challenge.expires_at_ms <= self.clock():
            return  # expired while it travelled: nothing to answer
        if self.requests.add(QueuedRequest(account=message.account, challenge=message.challenge)):
            self.bell()
            self.show_next_request()

    def on_challenge_resolved(self, message: ChallengeResolved) -> None:
        if self.answers.is_sending(message.challenge_id):
            return  # our own answer: the sender reports it
        queued = self.requests.get(message.challenge_id)
        if queued is None:
            return
        outcome, text = settled_elsewhere(
            queued.challenge.user_id, message.status, message.reason, message.replaced_by
        )
        self.record(queued, outcome)
        self.close_request(message.challenge_id, text)

    def on_request_answered(self, message: RequestAnswered) -> None:
        queued = self.requests.get(message.challenge_id)
        if queued is None or self.answers.is_sending(message.challenge_id):
            return  # already being sent: a second key press does not answer twice
        if message.choice == "approve" and queued.account.require_pin:
            self.ask_pin(queued, message)
            return
        self.send(queued, message, pin=None)

    def ask_pin(self, queued: QueuedRequest, message: RequestAnswered, error: str = "") -> None:
        prompt = f"PIN for {queued.account.label}, to approve this request:"

        def typed(pin: str | None) -> None:
            if pin is not None and queued.challenge.challenge_id in self.requests:
                self.send(queued, message, pin=pin)

        challenge = queued.challenge
        screen = PinScreen(prompt, error=error, about=about(challenge))
        self.push_screen(screen, typed)

    def send(self, queued: QueuedRequest, message: RequestAnswered, *, pin: str | None) -> None:
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == message.challenge_id:
            screen.set_busy(True, "Sending…")
        self.answers.send(queued, message, pin=pin)

    def on_answer_sent(self, message: AnswerSent) -> None:
        user_id = message.request.challenge.user_id
        outcome, text, severity = outcome_of(message.result, user_id)
        self.record(message.request, outcome)
        self.close_request(message.request.challenge.challenge_id, text, severity=severity)

    def on_answer_failed(self, message: AnswerFailed) -> None:
        queued, error = message.request, message.error
        challenge_id = queued.challenge.challenge_id
        if isinstance(error, WrongPin):
            self._answer_failed(challenge_id, error.message)
            self.ask_pin(queued, message.answer, error.message)
        elif isinstance(error, KeyDisabled):
            cid = queued.account.credential_id
            self.keys.pop(cid, None)
            self.states[cid] = ConnectionState(kind="disabled", detail=str(describe(error)))
            self.close_request(challenge_id, str(describe(error)), severity="error")
        elif isinstance(error, ChallengeUnavailable):
            status = error.status or "resolved"
            outcome, text = settled_elsewhere(queued.challenge.user_id, status, None, None)
            self.record(queued, outcome)
            self.close_request(challenge_id, f"{text} Nothing was sent.")
        else:  # the request stays open: the person can try again
            self._answer_failed(challenge_id, str(describe(error)))

    def _answer_failed(self, challenge_id: str, status: str) -> None:
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == challenge_id:
            screen.set_busy(False, status)

    def request_screen(self) -> RequestScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, RequestScreen)), None)

    def show_next_request(self) -> None:
        current = self.request_screen()
        if current is not None:
            current.set_waiting(len(self.requests) - 1)
            return
        first = self.requests.first()
        if first is not None:
            waiting = len(self.requests) - 1
            self.push_screen(RequestScreen(first, clock=self.clock, tz=self.tz, waiting=waiting))

    def close_request(self, challenge_id: str, text: str, *, severity: str = "information") -> None:
        self.requests.pop(challenge_id)
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == challenge_id:
            while self.screen_stack[-1] is not screen:  # a PIN prompt above it goes too
                self.pop_screen()
            self.pop_screen()
        self.last_notice = text
        self.notify(text, severity=severity)  # type: ignore[arg-type]
        self.show_next_request()
        self.refresh_home()

    def record(self, queued: QueuedRequest, outcome: Outcome) -> None:
        challenge = queued.challenge
        self.decisions.add(
            DecisionRecord(
                at_ms=self.clock(),
                outcome=outcome,
                user_id=challenge.user_id,
                server_url=queued.account.server_url,
                action=challenge.action,
                context=summary(challenge),
            )
        )


def run_app(store: AccountStore) -> None:
    AuthenticatorApp(store).run()
