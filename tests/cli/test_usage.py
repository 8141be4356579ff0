"""Mistakes a user can make are found locally, said plainly, and exit 2 — before any request.

No server runs here: a check that wrongly let a value through would reach the (absent) server
and exit 6 instead, so each assertion on exit 2 is also an assertion that nothing was sent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pushauth_cli.main import app
from pushauth_server.protocol.identifiers import user_id_problem

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens

BAD_USER_IDS = ["alice smith", "émilie", "../admin", "a" * 300, "_alice", "alice\n", ""]


@pytest.mark.parametrize("user", BAD_USER_IDS)
@pytest.mark.parametrize("command", ["signin", "enroll", "devices", "status", "unlock"])
def test_an_invalid_user_id_is_refused_locally(runner: CliRunner, command: str, user: str) -> None:
    result = runner.invoke(app, [command, user, "--url", UNREACHABLE, "--api-key", "k"])
    assert result.exit_code == 2, result.output
    assert (
        "letter or digit first" in result.output
        or "at most 128" in result.output
        or ("cannot be empty" in result.output)
    )
    assert "^[A-Za-z0-9]" not in result.output  # never the raw regex


def test_the_local_rule_is_the_servers_rule(runner: CliRunner) -> None:
    for user in [*BAD_USER_IDS, "alice", "a.b_c@d+e-f", "9"]:
        result = runner.invoke(app, ["status", user, "--url", UNREACHABLE, "--api-key", "k"])
        expected = 2 if user_id_problem(user) else 6  # valid ids reach the (absent) server
        assert result.exit_code == expected, (user, result.output)


def test_audit_checks_its_user_too(runner: CliRunner) -> None:
    result = runner.invoke(app, ["audit", "alice smith", "--url", UNREACHABLE, "--api-key", "k"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["audit", "--user", "../x", "--url", UNREACHABLE, "--api-key", "k"])
    assert result.exit_code == 2


@pytest.mark.parametrize("url", ["localhost:8300", "127.0.0.1:8300", "ftp://host", "http://", "x"])
def test_a_malformed_url_is_called_malformed(runner: CliRunner, url: str) -> None:
    result = runner.invoke(app, ["signin", "alice", "--url", url, "--api-key", "k"])
    assert result.exit_code == 2, result.output
    assert "is not a server URL" in result.output
    assert "http://127.0.0.1:8300" in result.output  # what to write instead
    assert "Is the server running" not in result.output


def test_init_refuses_a_malformed_url(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--url", "localhost:8300"])
    assert result.exit_code == 2
    assert "is not a server URL" in result.output
    assert not (tmp_path / ".env").exists()


def test_a_malformed_url_from_the_environment_is_named(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["status", "alice", "--api-key", "k"], env={"PUSHAUTH_URL": "localhost:8300"}
    )
    assert result.exit_code == 2
    assert "PUSHAUTH_URL" in result.output


def test_no_api_key_says_where_env_is_read_from(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["signin", "alice", "--url", UNREACHABLE])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "No API key" in flat
    assert "current directory" in flat
    assert str(tmp_path) in flat.replace(" ", "") or str(tmp_path) in flat
    (tmp_path / ".env").write_text("PUSHAUTH_URL=http://127.0.0.1:9\n")
    result = runner.invoke(app, ["devices"])
    flat = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "has no PUSHAUTH_API_KEY" in flat


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--field", "novalue"], "is not KEY=VALUE"),
        (["--field", "=v"], "is not KEY=VALUE"),
        (["--field", "a=1", "--field", "a=2"], "given twice"),
        (["--ip", "10.0.0.300"], "is not an IP address"),
    ],
)
def test_signin_context_options_are_checked(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["signin", "alice", "--url", UNREACHABLE, "--api-key", "k", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_help_shows_no_type_tags_or_braces(runner: CliRunner) -> None:
    commands = [[], ["signin"], ["devices"], ["audit"], ["revoke"], ["serve"], ["cancel"]]
    for command in [*commands, ["db"], ["db", "upgrade"], ["db", "current"]]:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert not re.search(r"<(bool|str|int|float)>", result.output), result.output
        usage = result.output.splitlines()[0]
        assert usage.startswith("Usage:")
        assert "{" not in usage, usage
    signin_help = runner.invoke(app, ["signin", "--help"]).output
    assert "Usage: pushauth signin [OPTIONS] USER" in signin_help
    assert "letter or digit first" in " ".join(signin_help.split())  # the user id format


def test_version(runner: CliRunner) -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pushauth {version('pushauth')}\n"


def test_device_version(runner: CliRunner) -> None:
    from importlib.metadata import version

    from pushauth_device.main import app as device_app

    result = runner.invoke(device_app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"pushauth-device {version('pushauth')}\n"


@pytest.mark.parametrize(
    ("grace", "expected"), [("30d", 6), ("2592000", 6), ("31d", 2), ("2592001", 2), ("721h", 2)]
)
def test_rotate_checks_the_grace_against_the_servers_limit(
    runner: CliRunner, grace: str, expected: int
) -> None:
    """A grace past the server's 30 days is said locally with the limit (exit 2); one within it
    reaches the (absent) server (exit 6)."""
    from pushauth_server.domain.apps.service import MAX_GRACE_SECONDS

    assert MAX_GRACE_SECONDS == 30 * 86_400
    args = ["apps", "rotate", "web", "--grace", grace, "--url", UNREACHABLE, "--api-key", "k"]
    result = runner.invoke(app, args)
    assert result.exit_code == expected, result.output
    if expected == 2:
        assert "at most 30d" in result.output
