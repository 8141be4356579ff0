"""The approval request: who and what, a countdown, the number to type, and the three answers.

Keyboard first: digits go to the number field, Enter approves (only once the number is complete),
``d`` denies and ``n`` denies as "this wasn't me" after a second ``n`` (that report locks the user
until an operator unlocks them, so the screen says so and asks first). The screen only reports
the choice
(:class:`~pushauth_device.tui.messages.RequestAnswered`); the app signs and sends it and closes
the screen when the server has answered, or when the request is settled elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from pushauth_device.tui.formatting import countdown
from pushauth_device.tui.messages import ChallengeResolved, RequestAnswered
from pushauth_device.tui.state import QueuedRequest
from pushauth_device.tui.widgets.challenge_details import ChallengeDetails, request_title
from pushauth_device.tui.widgets.code_input import CodeInput
from pushauth_device.visible import visible

__all__ = ["RequestScreen"]


def waiting_text(waiting: int) -> str:
    if waiting <= 0:
        return ""
    return f"+{waiting} more request{'s' if waiting != 1 else ''} waiting"


class RequestScreen(Screen[None]):
    # The number field has the focus from the start (a digit typed at once is not lost), else
    # Approve; never the scrollable details.
    AUTO_FOCUS = "#code, #approve"
    BINDINGS = [
        # Priority, and a number field that claims digits only (CodeInput): these letters work
        # wherever the focus is.
        Binding("d", "answer('deny')", "Deny", priority=True),
        Binding("n", "answer('not_me')", "Deny: this wasn't me", priority=True),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(
        self,
        request: QueuedRequest,
        *,
        clock: Callable[[], int],
        tz: tzinfo | None,
        waiting: int = 0,
    ) -> None:
        super().__init__()
        self.request = request
        self.challenge_id: str = request.challenge.challenge_id
        self.clock = clock
        self.tz = tz
        self.waiting = waiting
        self._expired = False
        self.confirming_not_me = False

    @property
    def digits(self) -> int:
        return self.request.challenge.code_digits

    def compose(self) -> ComposeResult:
        challenge = self.request.challenge
        with Vertical(id="request"):
            with Horizontal(id="request-top"):
                # Which application asks comes first, in the title.
                yield Static(request_title(challenge), id="request-title")
                yield Static(waiting_text(self.waiting), id="waiting", markup=False)
                yield Static(self._countdown_text(), id="countdown")
            with VerticalScroll(id="details-scroll", can_focus=False):
                yield ChallengeDetails(self.request.account, challenge, tz=self.tz, id="details")
            if challenge.number_matching:
                with Horizontal(id="code-row"):
                    yield Label("Number shown on the sign-in screen:", id="code-label")
                    yield CodeInput(self.digits, id="code")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Approve", id="approve", variant="success", disabled=challenge.number_matching
                )
                yield Button("Deny", id="deny", variant="warning")
                yield Button("Deny — this wasn't me", id="not-me", variant="error")
            yield Static("", id="request-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)

    def _remaining_ms(self) -> int:
        return self.request.challenge.expires_at_ms - self.clock()

    def _countdown_text(self) -> str:
        return f"Expires in {countdown(self._remaining_ms())}"

    def _tick(self) -> None:
        self.query_one("#countdown", Static).update(self._countdown_text())
        if self._remaining_ms() <= 0 and not self._expired:
            self._expired = True
            self.app.post_message(ChallengeResolved(self.challenge_id, "expired", None))

    def set_waiting(self, waiting: int) -> None:
        self.waiting = waiting
        self.query_one("#waiting", Static).update(waiting_text(waiting))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#approve", Button).disabled = len(event.value) != self.digits

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer("approve")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = {"approve": "approve", "deny": "deny", "not-me": "not_me"}[event.button.id or ""]
        self.action_answer(choice)

    def action_back(self) -> None:
        """Esc: step back from the "this wasn't me" question."""
        if self.confirming_not_me:
            self.confirming_not_me = False
            self.query_one("#not-me", Button).label = "Deny — this wasn't me"
            self.set_status("")

    def _ask_not_me(self) -> None:
        self.confirming_not_me = True
        user = visible(self.request.challenge.user_id)
        self.query_one("#not-me", Button).label = "Yes, report it (n)"
        self.set_status(
            f"Report that this wasn't you? {user} is then locked until an operator runs "
            f"`pushauth unlock {user}`. Press n again to report, Esc to go back."
        )

    def action_answer(self, choice: str) -> None:
        if choice == "not_me" and not self.confirming_not_me:
            self._ask_not_me()
            return
        code = ""
        if choice == "approve" and self.request.challenge.number_matching:
            code = self.query_one("#code", Input).value
            # Approving needs the whole number typed: an Enter alone never approves.
            if len(code) != self.digits:
                self.set_status(f"Type all {self.digits} digits shown on the sign-in screen.")
                self.app.bell()
                return
        if self.query_one("#approve", Button).disabled and choice == "approve" and not code:
            return
        self.app.post_message(RequestAnswered(self.challenge_id, choice, code))

    def set_busy(self, busy: bool, status: str = "") -> None:
        for button in self.query(Button):
            button.disabled = busy
        if not busy and self.request.challenge.number_matching:
            code = self.query_one("#code", Input)
            self.query_one("#approve", Button).disabled = len(code.value) != self.digits
        self.set_status(status)

    def set_status(self, text: str) -> None:
        self.query_one("#request-status", Static).update(text)
