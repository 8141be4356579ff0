"""The program's own parts without PAM: the conversation protocol, the decision log, and the
import budget that keeps start-up fast."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushauth_pam.audit import DecisionLog
from pushauth_pam.conversation import Conversation, ConversationClosed
from tests.pam.test_request import SSH


@pytest.fixture
def pair() -> Iterator[tuple[Conversation, socket.socket]]:
    ours, module = socket.socketpair()
    with ours, module:
        yield Conversation(ours.fileno(), ours.fileno()), module


def test_info_and_prompt_lines(pair: tuple[Conversation, socket.socket]) -> None:
    conversation, module = pair
    conversation.info("number 123 456\x1b[2J")
    module.sendall(b"typed\n")
    answer = conversation.prompt("Press Enter: ", deadline=time.monotonic() + 30)
    assert answer == "typed"
    sent = module.recv(4096).decode()
    assert sent == "info number 123 456 [2J\nprompt-echo-on Press Enter: \n"


def test_prompt_without_an_answer_by_the_deadline_is_none(
    pair: tuple[Conversation, socket.socket],
) -> None:
    conversation, _ = pair
    assert conversation.prompt("Press Enter: ", deadline=time.monotonic()) is None


def test_closed_socket_is_the_user_going_away(pair: tuple[Conversation, socket.socket]) -> None:
    conversation, module = pair
    module.shutdown(socket.SHUT_WR)
    with pytest.raises(ConversationClosed):
        conversation.prompt("Press Enter: ", deadline=time.monotonic() + 30)


def test_decision_line_quotes_what_a_remote_user_chose(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.log")
    forged = SSH.__class__(**{**SSH.__dict__, "user": "bob decision=approved\nfake"})
    log.record("denied", forged, challenge_id="ch_1", reason="user_denied")
    [line] = (tmp_path / "decisions.log").read_text().splitlines()
    assert 'user="bob decision=approved\\nfake"' in line
    assert line.count("decision=denied") == 1
    assert "rhost=203.0.113.9" in line
    assert "challenge=ch_1" in line


def test_the_program_imports_only_the_standard_library() -> None:
    """Start-up budget (150 ms to the first network call): no httpx, no pydantic, no server."""
    code = (
        "import sys; import pushauth_pam.main as m; m._auth; "
        "import pushauth_pam.authenticate, pushauth_pam.api, pushauth_pam.config; "
        "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = [
        name
        for name in loaded
        if name.split(".")[0]
        in {"httpx", "pydantic", "litestar", "pushauth_server", "pushauth_cli", "rich", "typer"}
    ]
    assert heavy == []


def test_log_file_is_not_written_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("untouched\n")
    link = tmp_path / "decisions.log"
    link.symlink_to(target)
    DecisionLog(link).record("approved", SSH)
    assert target.read_text() == "untouched\n"
