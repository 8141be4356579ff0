"""The token field: takes a token, or the whole ``pushauth-device enroll --server … --token …``.

The line is read (:meth:`EnrollLineInput.read_line`) when it is pasted in one piece, when the
field loses the focus, and when the form is submitted; never on each keystroke, so characters
that arrive fast (a paste without bracketed paste mode) are never rewritten under the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import Input

from pushauth_device.tui.enroll_line import PastedEnrollment, parse_enrollment

__all__ = ["EnrollLineInput"]


class EnrollLineInput(Input):
    @dataclass
    class LineRead(Message):
        """A whole line was read: the field now holds its token; ``server_url`` if it had one."""

        server_url: str | None

    def read_line(self) -> PastedEnrollment:
        """Keep only the token in the field; returns what the line held."""
        pasted = parse_enrollment(self.value)
        if pasted.token != self.value:
            self.value = pasted.token
            self.cursor_position = len(self.value)
        if pasted.server_url is not None:
            self.post_message(self.LineRead(pasted.server_url))
        return pasted

    # Textual calls the handler of every class in the MRO, this one first.

    def _on_paste(self, event: events.Paste) -> None:
        super()._on_paste(event)  # insert it...
        event.prevent_default()  # ...once: Input's own handler is not called after this one
        self.read_line()

    def _on_blur(self, event: events.Blur) -> None:
        self.read_line()  # then Input's own handler runs
