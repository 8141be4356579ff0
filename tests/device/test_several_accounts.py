"""Several accounts on one device: the commands find the account that can answer a challenge,
and ``pending`` says which account each line is for."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from pushauth_device.accounts import AccountStore
from pushauth_device.main import app
from tests.device.conftest import RelyingParty, fresh_user


def device(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_approve_without_account_picks_the_challenges_account_and_asks_no_other_pin(
    rp: RelyingParty, tmp_path: Path
) -> None:
    home = tmp_path / "phone"
    store_user, pin_user = fresh_user("plain"), fresh_user("pinned")
    store = AccountStore(home)
    asyncio.run(rp.enroll(store, pin_user, pin="482916"))
    plain = asyncio.run(rp.enroll(store, store_user))

    created = asyncio.run(rp.create(store_user))
    # No --account, no PIN on stdin: the PIN account is never asked, the plain one answers.
    code, _, err = device(
        home, "approve", created.challenge_id, "--code", created.verification_code
    )
    assert code == 0, err
    assert plain.label in err
    assert asyncio.run(rp.get(created.challenge_id)).status == "approved"

    # A challenge for the PIN account's user: that account (and its PIN) is the one asked.
    other = asyncio.run(rp.create(pin_user))
    code, _, err = device(
        home,
        "approve",
        other.challenge_id,
        "--code",
        other.verification_code,
        "--pin-stdin",
        stdin="482916\n",
    )
    assert code == 0, err
    assert asyncio.run(rp.get(other.challenge_id)).status == "approved"


def test_pending_names_the_account_of_each_line(rp: RelyingParty, tmp_path: Path) -> None:
    home = tmp_path / "phone"
    user = fresh_user("twice")
    store = AccountStore(home)
    first = asyncio.run(rp.enroll(store, user))
    second = asyncio.run(rp.enroll(store, user))
    created = asyncio.run(rp.create(user))

    code, out, err = device(home, "pending")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2  # one per account of the user...
    fields = [line.split("  ") for line in lines]
    assert {parts[2] for parts in fields} == {  # ...each saying which
        f"account={first.credential_id}",
        f"account={second.credential_id}",
    }
    # The challenge first, then which application asks, as the server names it.
    assert all(parts[:2] == [created.challenge_id, "application='Operator'"] for parts in fields)

    code, out, _ = device(home, "pending", "--json")
    assert code == 0
    listed = json.loads(out)
    assert {item["account"] for item in listed} == {first.credential_id, second.credential_id}
