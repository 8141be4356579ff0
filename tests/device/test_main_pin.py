"""The scriptable commands with PIN accounts: ``--pin-stdin`` on enroll and approve."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from pushauth_device.main import app
from tests.device.conftest import RelyingParty, fresh_user


def device(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_pin_account_enroll_and_approve_from_scripts(rp: RelyingParty, tmp_path: Path) -> None:
    user = fresh_user("cli")
    home = tmp_path / "phone"
    token = asyncio.run(rp.token(user))
    code, out, err = device(
        home,
        "enroll",
        "--server",
        rp.server.url,
        "--token",
        token,
        "--pin-stdin",
        "--json",
        stdin="482916\n",
    )
    assert code == 0, err
    assert json.loads(out)["require_pin"] is True

    created = asyncio.run(rp.create(user))
    code, _, err = device(home, "approve", created.challenge_id, "--code", "000000")
    assert code == 2  # no PIN on a non-terminal: say how to pass it
    assert "--pin-stdin" in err

    code, _, err = device(
        home,
        "approve",
        created.challenge_id,
        "--code",
        created.verification_code,
        "--pin-stdin",
        stdin="111111\n",
    )
    assert code == 1
    assert "Wrong PIN" in err
    assert asyncio.run(rp.get(created.challenge_id)).status == "pending"

    code, _, err = device(
        home,
        "approve",
        created.challenge_id,
        "--code",
        created.verification_code,
        "--pin-stdin",
        stdin="482916\n",
    )
    assert code == 0, err
    assert asyncio.run(rp.get(created.challenge_id)).status == "approved"
