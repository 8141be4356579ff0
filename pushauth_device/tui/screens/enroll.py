"""Enrollment: server, token (or the whole ``pushauth-device enroll …`` line), name, PIN.

Same protocol and keyring storage as the scriptable ``enroll``; the work runs in a worker and
the screen dismisses with the new :class:`~pushauth_device.accounts.Account` (``None`` if
cancelled).

A pasted line is read as a whole: at once for a bracketed paste, and otherwise (a terminal that
sends the paste as fast keystrokes) only when the field is left or the form is submitted. The
token field is never rewritten while keys may still be arriving: rewriting it from a ``Changed``
event that lags behind the keystrokes dropped and reordered characters.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Static

from pushauth_device import service
from pushauth_device.accounts import Account, AccountStore
from pushauth_device.errors import PinInvalid
from pushauth_device.keystore import validate_pin
from pushauth_device.problems import Problem, describe
from pushauth_device.tui.widgets.enroll_line_input import EnrollLineInput

__all__ = ["EnrollScreen"]


class EnrollScreen(Screen[Account | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: AccountStore, *, device_name: str, server_url: str = "") -> None:
        super().__init__()
        self.store = store
        self.device_name = device_name
        self.server_url = server_url

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="enroll-form"):
            yield Static("Add an account", classes="title")
            yield Static(
                "On the server, run `pushauth enroll USER`, then paste the line it prints "
                "(or just the token) into Token.",
                classes="hint",
                markup=False,
            )
            with Grid(id="enroll-grid"):
                yield Label("Server URL")
                yield Input(self.server_url, placeholder="http://127.0.0.1:8300", id="server")
                yield Label("Token")
                yield EnrollLineInput(placeholder="pet_…, or paste the whole line", id="token")
                yield Label("Device name")
                yield Input(self.device_name, id="name")
            yield Checkbox("Ask for a PIN on every approval", id="require-pin")
            with Grid(id="pin-fields"):
                yield Label("PIN (6+ digits)")
                yield Input(password=True, restrict=r"[0-9]*", max_length=64, id="new-pin")
                yield Label("PIN again")
                yield Input(password=True, restrict=r"[0-9]*", max_length=64, id="new-pin-again")
        # Outside the scrolling form: the outcome is in view however small the terminal.
        yield Static("", id="enroll-error", classes="error", markup=False)
        with Horizontal(id="enroll-buttons", classes="buttons"):
            yield Button("Cancel", id="cancel")
            yield Button("Enroll", id="enroll", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pin-fields").display = False
        self.query_one("#server" if not self.server_url else "#token", Input).focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        fields = self.query_one("#pin-fields")
        fields.display = event.value
        if event.value:
            self.call_after_refresh(fields.scroll_visible)

    def on_enroll_line_input_line_read(self, event: EnrollLineInput.LineRead) -> None:
        if event.server_url:
            self.query_one("#server", Input).value = event.server_url

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "enroll":
            self._submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _submit(self) -> None:
        pasted = self.query_one("#token", EnrollLineInput).read_line()  # typed, not pasted
        if pasted.server_url:
            self.query_one("#server", Input).value = pasted.server_url
        server, token, name = self._value("#server"), self._value("#token"), self._value("#name")
        pin: str | None = None
        if not (server and token and name):
            self._show(Problem(message="Server URL, token and device name are all needed."))
            return
        if self.query_one("#require-pin", Checkbox).value:
            pin = self._value("#new-pin")
            try:
                validate_pin(pin)
            except PinInvalid as exc:
                self._show(describe(exc))
                return
            if pin != self._value("#new-pin-again"):
                self._show(Problem(message="The two PINs differ.", hint="Type the same twice."))
                return
        self._show(Problem(message="Enrolling…"))
        self.query_one("#enroll", Button).disabled = True
        self._enroll(server, token, name, pin)

    @work(exclusive=True, exit_on_error=False)
    async def _enroll(self, server: str, token: str, name: str, pin: str | None) -> None:
        try:
            account = await service.enroll(
                self.store, server_url=server, token=token, device_name=name, pin=pin
            )
        except Exception as exc:  # every failure becomes words on the form, never a traceback
            self._show(describe(exc))
            self.query_one("#enroll", Button).disabled = False
            return
        self.dismiss(account)

    def _show(self, problem: Problem) -> None:
        self.query_one("#enroll-error", Static).update(str(problem))
