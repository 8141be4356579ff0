"""One exit-code enum and one mapper: every outcome gets its documented code, and the README's
table and `--help` say the same as the enum."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pushauth_cli.exit_codes import EXIT_CODES_HELP, ExitCode, for_challenge, for_error
from pushauth_server.client import (
    ApiError,
    ChallengeNotPending,
    ClientError,
    NoEnrolledDevice,
    Refused,
    ServerUnreachable,
    Unauthorized,
    UnexpectedResponse,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("status", "timed_out", "code"),
    [
        ("approved", False, ExitCode.OK),
        ("denied", False, ExitCode.DENIED),
        ("expired", False, ExitCode.EXPIRED),
        ("cancelled", False, ExitCode.EXPIRED),
        ("pending", True, ExitCode.EXPIRED),
        ("approved", True, ExitCode.EXPIRED),  # a wait that gave up is a timeout, whatever came
    ],
)
def test_a_challenge_outcome_maps_to_its_code(status: str, timed_out: bool, code: int) -> None:
    assert for_challenge(status, timed_out=timed_out) == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ServerUnreachable("down"), ExitCode.UNREACHABLE),
        (NoEnrolledDevice(status_code=409, code="no_enrolled_device", message="m"), 4),
        (Unauthorized(status_code=401, code="invalid_api_key", message="m"), 5),
        (Refused(status_code=429, code="rate_limited", message="m"), 5),
        (ChallengeNotPending(status_code=409, code="challenge_not_pending", message="m"), 5),
        (ApiError(status_code=404, code="user_not_found", message="m"), 5),
        (UnexpectedResponse("not json"), 5),
    ],
)
def test_client_errors_map_to_documented_exit_codes(error: ClientError, code: int) -> None:
    assert for_error(error) == code


def test_no_command_exits_with_a_bare_number() -> None:
    # `typer.Exit(1)` once meant "answered no" in one place and "denied" in another: every exit
    # names its ExitCode (or asks the mapper), so a code means one thing.
    offenders = []
    for path in (ROOT / "pushauth_cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Exit"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_readme_table_and_the_help_list_every_code() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Exit codes of `pushauth`", 1)[1].split("\n## ", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}
    for code in ExitCode:
        assert re.search(rf"(^|; ){int(code)} ", EXIT_CODES_HELP.removeprefix("Exit codes: "))
