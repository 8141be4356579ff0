"""Operator commands: ``pushauth unlock``, ``pushauth status`` and ``pushauth audit``."""

from __future__ import annotations

import asyncio
import re
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pushauth_cli.errors import client_errors, run_call
from pushauth_cli.options import DEFAULT_SERVER_URL, ApiKey, Json, ServerUrl
from pushauth_cli.render import err, fail, print_json, print_json_line
from pushauth_server.client import PushAuthClient, calls

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime | None = None) -> int:
    """``--since``: a duration back from now (``30m``, ``2h``, ``7d``) or an ISO 8601 time."""
    now = now or datetime.now(tz=UTC)
    match = _DURATION.match(text.strip())
    if match:
        amount, unit = float(match.group(1)), _UNITS[match.group(2)]
        return int((now - timedelta(**{unit: amount})).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("use a duration like 30m, 2h, 7d, or an ISO 8601 time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def unlock(
    user: Annotated[str, typer.Argument(help="The user whose push sign-in to unlock.")],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Lift a user's lockout (after "not me" or repeated failures). Recorded in the audit trail."""
    state = run_call(url, api_key, calls.unlock_user(user))
    if json:
        print_json(state)
        return
    err.print(f"[green]Unlocked[/] push sign-in for [bold]{escape(user)}[/].")


def status(
    user: Annotated[str, typer.Argument(help="The user to look at.")],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Show a user's push sign-in state: locked or not, until when, failures in a row."""
    state = run_call(url, api_key, calls.user_state(user))
    if json:
        print_json(state)
        return
    if state["locked"]:
        until = state["locked_until"] or "an operator unlocks it (pushauth unlock)"
        err.print(f"[red]Locked[/] ({state['locked_reason']}) until {escape(until)}.")
    else:
        err.print("[green]Not locked.[/]")
    if state["rate_limited_until"]:
        err.print(f"Rate-limited until {state['rate_limited_until']}.")
    err.print(f"Consecutive failures: {state['consecutive_failures']}.")


def _row(event: dict[str, Any]) -> tuple[str, ...]:
    detail = event.get("detail") or {}
    context = event.get("context") or {}
    extra = ", ".join(f"{k}={v}" for k, v in detail.items() if k != "public_key")
    where = context.get("initiator_host") or ""
    return (
        str(event.get("event_id")),
        str(event.get("at")),
        str(event.get("event")),
        str(event.get("user_id") or ""),
        str(event.get("challenge_id") or event.get("credential_id") or ""),
        escape(f"{extra} {where}".strip()),
    )


async def _all_events(
    client: PushAuthClient, user: str | None, since_ms: int | None
) -> dict[str, Any]:
    """Every matching event, oldest first, fetched page by page to the end."""
    events: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = await client.call(
            calls.audit_events(user_id=user, since_ms=since_ms, after_id=after)
        )
        events.extend(page["events"])
        if not page["events"]:
            return {"events": events, "last_event_id": after}
        after = page["last_event_id"]


def _follow(client: PushAuthClient, user: str | None, after_id: int | None, json: bool) -> Any:
    async def run() -> None:
        async with aclosing(client.audit_stream(user_id=user, after_id=after_id)) as stream:
            async for event in stream:
                if not event:
                    err.print("[dim]Following the audit trail live (Ctrl-C to stop)…[/]")
                elif json:
                    print_json_line(event)
                else:
                    print("  ".join(_row(event)), flush=True)

    return run()


def audit(
    user: Annotated[
        str | None,
        typer.Argument(
            help="Only this user's events; or `verify` (check the trail) or `head` (print the "
            "chain head to record elsewhere)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only events since: 30m, 2h, 7d, or an ISO 8601 time.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming new events as they happen.")
    ] = False,
    since_head: Annotated[
        str | None,
        typer.Option(
            "--since-head",
            help="With `verify`: a head recorded earlier by `pushauth audit head` (SEQ:HASH); "
            "proves nothing up to it changed since.",
        ),
    ] = None,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """List security events; `audit verify` checks the trail; `audit head` prints its head.

    `audit verify` checks the hash chain (rewritten, deleted or unchained rows), every signed
    response, and the trail against the challenges and devices; it exits 0 when nothing was
    found and 1 otherwise. `audit head` prints SEQ:HASH of the newest row: record it somewhere
    pushauth cannot write (a ticket, a log shipper, cron mail), and later run
    `pushauth audit verify --since-head SEQ:HASH` to prove nothing up to it changed.

    With --json: one JSON object {"events": [...]}; with --follow --json, one JSON object per
    line.
    """
    if user == "verify":
        _verify(url, api_key, json, since_head)
        return
    if user == "head":
        _head(url, api_key, json)
        return
    since_ms = parse_since(since) if since else None

    async def run() -> dict[str, Any]:
        async with PushAuthClient(url, api_key=api_key) as client:
            page = await _all_events(client, user, since_ms)
            if follow:
                if not json:
                    for event in page["events"]:
                        print("  ".join(_row(event)), flush=True)
                else:
                    for event in page["events"]:
                        print_json_line(event)
                after = page["last_event_id"] or 0
                await _follow(client, user, after, json)
            return page

    try:
        with client_errors():
            page = asyncio.run(run())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    if json:
        print_json({"events": page["events"]})
        return
    table = Table(title="Audit trail" + (f" of {user}" if user else ""))
    for column in ("id", "time", "event", "user", "challenge / device", "detail"):
        table.add_column(column)
    for event in page["events"]:
        table.add_row(*_row(event))
    err.print(table)


def _head(url: str, api_key: str, json: bool) -> None:
    result = run_call(url, api_key, calls.audit_head())
    if json:
        print_json(result)
    elif result["head"] is None:
        err.print("The audit trail has no chained row yet.")
    else:
        print(result["head"])  # stdout alone: `pushauth audit head >> heads.log` records it


def _verify(url: str, api_key: str, json: bool, since_head: str | None) -> None:
    with err.status("Checking the hash chain, every signature and the recorded state…"):
        result = run_call(url, api_key, calls.verify_audit(since_head))
    if json:
        print_json(result)
    elif result["valid"]:
        chain = result.get("chain") or {}
        err.print(
            f"[green]The audit trail verifies: {chain.get('rows', 0)} chained rows"
            + (f" up to {escape(str(chain['head']))}" if chain.get("head") else "")
            + (f", unchanged since {escape(since_head)}" if since_head else "")
            + f"; {result['checked']} checks.[/]"
        )
        if chain.get("before_chain"):
            err.print(
                f"[yellow]{chain['before_chain']} older rows were written before the hash chain "
                "existed: their receipts were checked, their order and completeness cannot be.[/]"
            )
    else:
        fail(f"{len(result['problems'])} problems in the audit trail:")
        for problem in result["problems"]:
            err.print(f"  {escape(problem['where'])}: {escape(problem['problem'])}")
    if not result["valid"]:
        raise typer.Exit(1)
