"""`pushauth audit head` and `audit verify --since-head` against a real `pushauth serve`."""

from __future__ import annotations

import json
import re
import sqlite3

from tests.support.processes import Commands


def test_a_recorded_head_proves_the_trail_and_catches_a_cut(commands: Commands) -> None:
    assert commands.pushauth("enroll", "hal").returncode == 0
    printed = commands.pushauth("audit", "head")
    assert printed.returncode == 0, printed.stderr
    head = printed.stdout.strip()
    assert re.fullmatch(r"[1-9][0-9]*:[0-9a-f]{64}", head), head

    verified = commands.pushauth("audit", "verify", "--since-head", head, "--json")
    assert verified.returncode == 0, verified.stdout
    result = json.loads(verified.stdout)
    assert result["valid"] is True
    assert result["chain"]["since_head"] == head

    # The newest rows are cut away: the chain alone still looks whole, the recorded head does not.
    with sqlite3.connect(commands.server.workdir / "pushauth.db") as connection:
        connection.execute("DROP TRIGGER audit_events_no_delete")
        seq = int(head.split(":")[0])
        connection.execute("DELETE FROM audit_events WHERE seq >= ?", (seq,))
    cut = commands.pushauth("audit", "verify", "--since-head", head, "--json")
    assert cut.returncode == 8  # ExitCode.TAMPERED
    problems = [p["problem"] for p in json.loads(cut.stdout)["problems"]]
    assert any(f"has no row {seq} any more" in p for p in problems), problems


def test_a_malformed_head_is_a_clear_error(commands: Commands) -> None:
    result = commands.pushauth("audit", "verify", "--since-head", "yesterday")
    assert result.returncode != 0
    assert "SEQ:HASH" in result.stderr
    assert "Traceback" not in result.stderr
