"""The number field of a request: digits only, and it leaves letters to the screen's keys.

A plain ``Input`` claims every printable key, which would swallow ``d`` (deny) and ``n`` (this
wasn't me) while the number field has the focus.
"""

from __future__ import annotations

from textual.widgets import Input

__all__ = ["CodeInput"]


class CodeInput(Input):
    def __init__(self, digits: int, *, id: str) -> None:
        # Blanks, one per digit: a placeholder of digits ("000000") looks already filled in.
        super().__init__(placeholder="_" * digits, restrict=r"[0-9]*", max_length=digits, id=id)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character.isdigit()
