"""Operator commands: ``pushauth unlock``, ``pushauth status`` and ``pushauth audit``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from pushauth_cli.errors import client_errors, require_api_key, run_call
from pushauth_cli.exit_codes import ExitCode
from pushauth_cli.options import (
    DEFAULT_SERVER_URL,
    USER_ID_HELP,
    ApiKey,
    Json,
    ServerUrl,
    UserArg,
    check_user_id,
)
from pushauth_cli.render import err, fail, out, print_json, print_json_line
from pushauth_cli.tables import Column, render
from pushauth_cli.text import local_time, local_zone, readable, visible

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from pushauth_server.client import PushAuthClient

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
        moment = moment.astimezone()  # a time without a zone is the operator's local time
    return int(moment.timestamp() * 1000)


def unlock(
    user: UserArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Lift a user's lockout (after "not me" or failures). Audited.

    A user the server does not know (no device was ever enrolled) is refused: exit 5.
    """
    from pushauth_server.client import calls

    state = run_call(url, api_key, calls.unlock_user(user))
    if json:
        print_json(state)
        return
    out.print(f"[green]Unlocked[/] push sign-in for [bold]{escape(visible(user))}[/].")


def status(
    user: UserArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Show a user's state: locked or not, until when, failures in a row."""
    from pushauth_server.client import calls

    state = run_call(url, api_key, calls.user_state(user))
    if json:
        print_json(state)
        return
    lines = []
    if state["locked"]:
        until = (
            local_time(state["locked_until"])
            if state["locked_until"]
            else "an operator unlocks it (pushauth unlock)"
        )
        reason = "reported not me" if state["locked_reason"] == "not_me" else "failures"
        lines.append(f"[red]Locked[/] ({reason}) until {escape(until)}.")
    else:
        lines.append("[green]Not locked.[/]")
    if state["rate_limited_until"]:
        lines.append(f"Rate-limited until {local_time(state['rate_limited_until'])}.")
    lines.append(f"Consecutive failures: {state['consecutive_failures']}.")
    for line in lines:
        out.print(line)


# Detail keys whose values are times: shown in local time, to the second.
_TIME_KEY = re.compile(r"(^until$|_at$|_until$|_ms$)")


def _detail(event: dict[str, Any]) -> str:
    detail = event.get("detail") or {}
    context = event.get("context") or {}
    parts = []
    for key, value in detail.items():
        if key == "public_key" or value is None:
            continue
        name = key.removesuffix("_ms")
        if isinstance(value, dict):
            inner = {k.removesuffix("_ms"): _time_or(k, v) for k, v in value.items()}
            parts.append(f"{visible(name)}({readable(inner)})")
        else:
            parts.append(f"{visible(name)}={readable(_time_or(key, value))}")
    where = context.get("initiator_host")
    if where:
        parts.append(f"from {visible(where)}")
    return " ".join(parts)


def _time_or(key: str, value: Any) -> Any:
    if _TIME_KEY.search(key) and isinstance(value, int | float | str) and value:
        return local_time(value)
    return value


def _row(event: dict[str, Any]) -> list[Text]:
    return [
        Text(str(event.get("event_id"))),
        Text(local_time(event.get("at"), zone=False)),
        Text(visible(event.get("event") or "")),
        Text(visible(event.get("user_id") or "")),
        Text(visible(event.get("challenge_id") or event.get("credential_id") or "")),
        Text(_detail(event)),
    ]


def _line(event: dict[str, Any]) -> str:
    """One event on one line, for --follow (a table cannot grow)."""
    return "  ".join(cell.plain for cell in _row(event) if cell.plain)


def _audit_columns() -> tuple[Column, ...]:
    return (
        Column("#", wraps=False),
        Column(f"time ({local_zone()})", min_width=10),  # wraps between the date and the time
        Column("event", wraps=False),
        Column("user", is_id=True, priority=2),
        Column("challenge / device", is_id=True),
        Column("detail", priority=1, min_width=16),
    )


async def _all_events(
    client: PushAuthClient, user: str | None, since_ms: int | None
) -> dict[str, Any]:
    """Every matching event, oldest first, fetched page by page to the end."""
    from pushauth_server.client import calls

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


def _follow(
    client: PushAuthClient, user: str | None, after_id: int | None, json: bool
) -> Coroutine[Any, Any, None]:
    from contextlib import aclosing

    async def run() -> None:
        async with aclosing(client.audit_stream(user_id=user, after_id=after_id)) as stream:
            async for event in stream:
                if not event:
                    err.print("[dim]Following the audit trail live (Ctrl-C to stop)…[/]")
                elif json:
                    print_json_line(event)
                else:
                    print(_line(event), flush=True)

    return run()


def audit(
    user_or_verify: Annotated[
        str | None,
        typer.Argument(
            help="Only this user's events; or the word `verify` to re-check every signed "
            "response. For a user named verify, use --user verify.",
            metavar="[USER|verify]",
            show_default=False,
        ),
    ] = None,
    user_option: Annotated[
        str | None,
        typer.Option(
            "--user",
            help=f"Only this user's events (any user id, including `verify`): {USER_ID_HELP}.",
            callback=check_user_id,
            metavar="USER",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only events since: 30m, 2h, 7d, or an ISO 8601 time (local time if it has "
            "no zone).",
            metavar="WHEN",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming new events as they happen.")
    ] = False,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """List security events, or re-check every signature with `audit verify`.

    Times are local. The table goes to stdout; ids are never shortened. With --json: one JSON object
    {"events": [...]}; with --follow --json, one JSON object per line. `audit verify` exits 0
    when every signed response verifies and 8 when one does not.
    """
    if user_or_verify == "verify" and user_option is None:
        _verify(url, api_key, json)
        return
    if user_or_verify is not None and user_option is not None:
        raise typer.BadParameter("give the user once: as an argument or with --user")
    user = user_option if user_option is not None else check_user_id(user_or_verify)
    since_ms = parse_since(since) if since else None
    require_api_key(api_key)

    async def run() -> dict[str, Any]:
        from pushauth_server.client import PushAuthClient

        async with PushAuthClient(url, api_key=api_key) as client:
            page = await _all_events(client, user, since_ms)
            if follow:
                for event in page["events"]:
                    if json:
                        print_json_line(event)
                    else:
                        print(_line(event), flush=True)
                after = page["last_event_id"] or 0
                await _follow(client, user, after, json)
            return page

    import asyncio

    try:
        with client_errors():
            page = asyncio.run(run())
    except KeyboardInterrupt:
        raise typer.Exit(ExitCode.OK) from None
    if json:
        print_json({"events": page["events"]})
        return
    if not page["events"]:
        err.print("No audit events" + (f" for {escape(visible(user))}." if user else "."))
        return
    title = "Audit trail" + (f" of {visible(user)}" if user else "")
    render(out, _audit_columns(), [_row(e) for e in page["events"]], title=title, notes=err)


def _verify(url: str, api_key: str, json: bool) -> None:
    from pushauth_server.client import calls

    with err.status("Re-checking every stored signature…"):
        result = run_call(url, api_key, calls.verify_audit())
    if json:
        print_json(result)
    elif result["valid"]:
        checked = result["checked"]
        said = (
            f"All {checked} signed responses verify."
            if checked != 1
            else "The 1 signed response verifies."
        )
        out.print(f"[green]{said}[/]")
    else:
        fail(f"{len(result['problems'])} of {result['checked']} signed responses do not verify:")
        for problem in result["problems"]:
            where, what = visible(problem["where"]), visible(problem["problem"])
            out.print(f"  {escape(where)}: {escape(what)}")
    if not result["valid"]:
        raise typer.Exit(ExitCode.TAMPERED)
