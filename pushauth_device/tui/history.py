"""Recent decisions shown on the home screen, kept in ``decisions.json`` next to the accounts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DecisionLog", "DecisionRecord", "Outcome"]

HISTORY_FILE = "decisions.json"
KEEP = 50

Outcome = Literal[
    "approved",
    "denied",
    "reported",
    "failed",
    "expired",
    "cancelled",
    "replaced",
    "approved elsewhere",
    "denied elsewhere",
    "failed elsewhere",
    "resolved elsewhere",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionRecord:
    at_ms: int
    outcome: Outcome
    user_id: str
    server_url: str
    action: str
    context: str  # a one-line summary: note, host, IP


class DecisionLog:
    """Newest first. ``path=None`` keeps it in memory only (tests, snapshots)."""

    def __init__(self, path: Path | None, records: list[DecisionRecord] | None = None) -> None:
        self.path = path
        self.records: list[DecisionRecord] = list(records or [])
        if path is not None and records is None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.records = [DecisionRecord(**item) for item in data.get("decisions", [])]
            except (ValueError, TypeError):  # a damaged history is not worth failing over
                self.records = []

    def add(self, record: DecisionRecord) -> None:
        self.records = [record, *self.records][:KEEP]
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = json.dumps({"decisions": [asdict(r) for r in self.records]}, indent=2)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".decisions-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, self.path)
