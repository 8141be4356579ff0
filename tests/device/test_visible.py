"""Text from the network is shown, never interpreted: one helper, used by every output."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.console import challenge_line
from pushauth_device.main import app
from pushauth_device.tui.widgets.challenge_details import about, detail_rows, request_title
from pushauth_device.visible import visible
from pushauth_server.client import PendingChallenge

HOSTILE = "ok\nUser: admin\u202egnp.exe\u200b\x1b[2J\\n"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, é and 日本", "plain text, é and 日本"),
        ("two\nlines\r\ttab", "two\\nlines\\r\\ttab"),
        ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("\x1b[31mred\x07", "\\x1b[31mred\\x07"),
        ("\u2028sep", "\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("a real \\n stays readable", "a real \\\\n stays readable"),
    ],
)
def test_visible_escapes_what_would_be_interpreted(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert visible(text).isprintable()


ACCOUNT = Account(
    credential_id="cr_a",
    user_id="alice",
    server_url="http://h",
    origin="http://h",
    device_name="d\u202e",
    created_at_ms=0,
)
CHALLENGE = PendingChallenge(
    challenge_id="ch_a",
    user_id="alice",
    action="signIn",
    shown={
        "application": "Pay\u202eroll\n",
        "note": HOSTILE,
        "initiator_host": "host\u202e.com",
        "initiator_ip": "203.0.113.7",
        "initiator_user_agent": "Agent\r\nX-Injected: 1",
    },
    custom={"field\n": HOSTILE},
    nonce="n",
    number_matching=True,
    code_digits=6,
    created_at_ms=0,
    expires_at_ms=1,
)


def test_request_details_show_every_field_escaped() -> None:
    rows = detail_rows(ACCOUNT, CHALLENGE, None)
    for label, value in rows:
        assert label.isprintable()
        assert value.isprintable()
    shown = dict(rows)
    assert shown["Note"] == visible(HOSTILE)
    assert shown["From host"] == "host\\u202e.com"
    assert shown["Browser"] == "Agent\\r\\nX-Injected: 1"
    assert shown["field\\n (custom)"] == visible(HOSTILE)


def test_pending_lines_show_every_field_escaped() -> None:
    line = challenge_line(CHALLENGE, ACCOUNT)
    assert line.isprintable()
    assert line.split("  ")[1] == "application='Pay\\u202eroll\\n'"  # first, escaped
    assert "\\u202e" in line
    assert "X-Injected" in line
    assert "custom.field\\n=" in line


def test_a_custom_field_cannot_pass_for_a_field_the_server_supplies() -> None:
    """A relying party naming its custom fields "application" or "Server" does not add a second
    asking application or server to what the device shows."""
    spoofing = dataclasses.replace(
        CHALLENGE,
        shown={**CHALLENGE.shown, "application": "Web shop"},
        custom={"application": "Bank", "Server": "https://bank.example", "User": "root"},
    )
    line = challenge_line(spoofing, ACCOUNT)
    fields = line.split("  ")
    assert [f for f in fields if f.startswith("application=")] == ["application='Web shop'"]
    assert "custom.application='Bank'" in fields
    labels = [label for label, _ in detail_rows(ACCOUNT, spoofing, None)]
    assert labels.count("Server") == labels.count("User") == 1
    assert "application" not in labels
    assert {"application (custom)", "Server (custom)", "User (custom)"} <= set(labels)


def test_accounts_output_escapes_the_device_name(tmp_path: Path) -> None:
    home = tmp_path / "phone"
    AccountStore(home).add(ACCOUNT)
    result = CliRunner().invoke(app, ["--home", str(home), "accounts"])
    assert result.exit_code == 0
    assert "d\\u202e" in result.stdout
    assert "\u202e" not in result.stdout


def test_the_asking_application_is_shown_escaped() -> None:
    title = request_title(CHALLENGE).plain
    assert title == "Sign-in request from Pay\\u202eroll\\n"
    assert title.isprintable()
    assert about(CHALLENGE).startswith("Request from Pay\u202eroll\n: signIn")  # visible() later
    unnamed = dataclasses.replace(CHALLENGE, shown={**CHALLENGE.shown, "application": ""})
    assert request_title(unnamed).plain == "Sign-in request (application: —)"
    assert challenge_line(unnamed, ACCOUNT).split("  ")[1] == "application=—"


def test_accounts_show_the_application_escaped_and_a_dash_when_unknown(tmp_path: Path) -> None:
    home = tmp_path / "phone"
    named = dataclasses.replace(
        ACCOUNT, credential_id="cr_b", app_name="pay", app_display_name="Pay\u202eroll"
    )
    AccountStore(home).add(ACCOUNT)  # enrolled before servers named the application
    AccountStore(home).add(named)
    result = CliRunner().invoke(app, ["--home", str(home), "accounts"])
    assert result.exit_code == 0
    old, new = result.stdout.splitlines()
    assert old.split("\t")[2] == "—"
    assert new.split("\t")[2] == "Pay\\u202eroll (pay)"
