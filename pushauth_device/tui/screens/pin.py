"""Asks for an account's PIN. Dismisses with the PIN typed, or ``None`` when cancelled.

Checking it is the app's job (in a worker: scrypt is slow on purpose); a wrong PIN opens this
screen again with the error and the attempts left. When it is for an approval, ``about`` says
which request (the dialog covers part of it).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from pushauth_device.pinwrap import MIN_PIN_DIGITS
from pushauth_device.visible import visible

__all__ = ["PinScreen"]


class PinScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, *, error: str = "", about: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.error = error
        self.about = about

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.prompt, id="pin-prompt", markup=False)
            if self.about:
                yield Static(visible(self.about), id="pin-about", classes="hint", markup=False)
            yield Input(
                placeholder=f"PIN ({MIN_PIN_DIGITS}+ digits)",
                password=True,
                restrict=r"[0-9]*",
                max_length=64,
                id="pin",
            )
            yield Static(self.error, id="pin-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.action_cancel()

    def _submit(self) -> None:
        pin = self.query_one("#pin", Input).value
        if len(pin) < MIN_PIN_DIGITS:
            self.query_one("#pin-error", Static).update(
                f"A PIN has at least {MIN_PIN_DIGITS} digits."
            )
            return
        self.dismiss(pin)

    def action_cancel(self) -> None:
        self.dismiss(None)
