"""Reading what a person pastes into the enrollment form: a whole command line, or a token."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["PastedEnrollment", "parse_enrollment"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PastedEnrollment:
    token: str
    server_url: str | None = None


def parse_enrollment(text: str) -> PastedEnrollment:
    """``pushauth-device enroll --server URL --token T`` (as ``pushauth enroll`` prints it), or T.

    Unknown words are ignored; a bare token is returned as it is, stripped.
    """
    text = text.strip()
    if "--token" not in text and "--server" not in text:
        return PastedEnrollment(token=text)
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: keep what was typed, the server will say no
        return PastedEnrollment(token=text)
    values: dict[str, str] = {}
    for index, word in enumerate(words):
        name, equals, inline = word.partition("=")
        if name in ("--token", "--server"):
            if equals:
                values[name] = inline
            elif index + 1 < len(words):
                values[name] = words[index + 1]
    return PastedEnrollment(token=values.get("--token", ""), server_url=values.get("--server"))
