"""Output: tables and JSON on stdout; messages, prompts' context and spinners on stderr.

``pushauth devices | less`` shows the table; ``2>/dev/null`` keeps only the results. Rich turns
colour off by itself when a stream is not a terminal, and honours NO_COLOR.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from pushauth_cli.text import visible

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_DIGITS = {
    "0": ("█▀▀█", "█  █", "█▄▄█"),
    "1": (" ▄█ ", "  █ ", " ▄█▄"),
    "2": ("▀▀▀█", "█▀▀▀", "█▄▄▄"),
    "3": ("▀▀▀█", " ▀▀█", "▄▄▄█"),
    "4": ("█  █", "▀▀▀█", "   █"),
    "5": ("█▀▀▀", "▀▀▀█", "▄▄▄█"),
    "6": ("█▀▀▀", "█▀▀█", "█▄▄█"),
    "7": ("▀▀▀█", "  █ ", " █  "),
    "8": ("█▀▀█", "█▀▀█", "█▄▄█"),
    "9": ("█▀▀█", "▀▀▀█", "▄▄▄█"),
}


def big_number(code: str) -> Text:
    """``code`` in large block digits, with the plain digits underneath for screen readers."""
    rows = ["  ".join(_DIGITS[d][row] for d in code) for row in range(3)]
    return Text("\n".join(rows) + f"\n\n{' '.join(code)}", style="bold", justify="center")


def number_panel(code: str, title: str) -> Panel:
    return Panel(big_number(code), title=title, expand=False, padding=(1, 4))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_json_line(data: Any) -> None:
    """One compact JSON object per line, for streams (``--follow --json``)."""
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()


def fail(message: str, hint: str | None = None) -> None:
    """An error on stderr; ``message`` may quote the server, so it is printed visibly escaped."""
    err.print(f"[bold red]Error:[/] {escape(visible(message))}")
    if hint:
        err.print(f"[dim]{escape(visible(hint))}[/]")
