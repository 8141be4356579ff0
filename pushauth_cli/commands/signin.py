"""``pushauth signin`` and ``pushauth wait``: ask for a push approval and wait for the answer."""

from __future__ import annotations

import inspect
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from pushauth_cli.errors import client_errors, require_api_key, run_call
from pushauth_cli.exit_codes import EXIT_CODES_HELP, ExitCode, for_challenge
from pushauth_cli.options import DEFAULT_SERVER_URL, ApiKey, Json, ServerUrl, Timeout, UserArg
from pushauth_cli.render import err, number_panel, out, print_json
from pushauth_cli.text import visible

if TYPE_CHECKING:
    from pushauth_server.client import ChallengeState, PushAuthClient

_OUTCOME_TEXT = {
    ("denied", "not_me"): "[bold red]Denied:[/] the user reported they did not start this sign-in.",
    ("denied", "wrong_code"): "[bold red]Failed:[/] the number typed on the device was wrong.",
    ("denied", None): "[bold red]Denied[/] on the device.",
    ("expired", None): "[yellow]Expired:[/] nobody answered in time.",
    ("cancelled", None): "[yellow]Cancelled.[/]",
}


def challenge_json(state: ChallengeState, *, timed_out: bool = False) -> dict[str, Any]:
    return {
        "challenge_id": state.challenge_id,
        "status": state.status,
        "reason": state.reason,
        "user_id": state.user_id,
        "action": state.action,
        "verification_code": state.verification_code,
        "credential_id": state.credential_id,
        "device_name": state.device_name,
        "elapsed_ms": state.elapsed_ms,
        "created_at": state.created_at,
        "expires_at": state.expires_at,
        "resolved_at": state.resolved_at,
        "timed_out": timed_out,
    }


async def _wait(
    client: PushAuthClient, challenge_id: str, timeout: float
) -> tuple[ChallengeState, bool]:
    """Follow the challenge's event stream until it resolves; ``(state, timed_out)``.

    A stream that ends early (a proxy's idle cut, say) is opened again until ``timeout``.
    """
    import asyncio
    from contextlib import aclosing

    from pushauth_server.client import calls

    try:
        async with asyncio.timeout(timeout):
            while True:
                async with aclosing(client.watch_challenge(challenge_id)) as states:
                    async for state in states:
                        if state.is_resolved:
                            return state, False
                await asyncio.sleep(0.2)  # ended while pending: reconnect, gently
    except TimeoutError:
        pass
    # Timed out: read the state once more, it may have resolved at the last moment.
    state = await client.call(calls.get_challenge(challenge_id))
    return state, not state.is_resolved


def _report(state: ChallengeState, *, json: bool, timed_out: bool) -> None:
    if json:
        print_json(challenge_json(state, timed_out=timed_out))
    elif state.status == "approved":
        err.print(
            f"[bold green]Approved[/] by {escape(visible(state.user_id))} on "
            f"{escape(visible(state.device_name or 'their device'))} "
            f"in {state.elapsed_ms} ms."
        )
    elif timed_out:
        err.print("[yellow]Timed out[/] waiting for an answer.")
    else:
        key = (state.status, state.reason if state.reason in ("not_me", "wrong_code") else None)
        err.print(_OUTCOME_TEXT.get(key, f"Challenge is {escape(visible(state.status))}."))


def _exit_code(state: ChallengeState, timed_out: bool) -> ExitCode:
    return for_challenge(state.status, timed_out=timed_out)


def parse_fields(values: list[str]) -> dict[str, str]:
    """``--field KEY=VALUE`` (repeatable) as the challenge context's custom fields."""
    fields: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{visible(value)!r} is not KEY=VALUE", param_hint="--field")
        if key.strip() in fields:
            raise typer.BadParameter(f"{visible(key)!r} is given twice", param_hint="--field")
        fields[key.strip()] = text
    return fields


def check_ip(value: str) -> str:
    """``--ip``: an IPv4 or IPv6 address (of whoever is signing in), or empty."""
    if not value:
        return value
    import ipaddress

    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise typer.BadParameter(f"{visible(value)!r} is not an IP address") from None


def signin(
    user: UserArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    action: Annotated[str, typer.Option(help="What is being approved.", metavar="ACTION")] = (
        "signIn"
    ),
    note: Annotated[str, typer.Option(help="A note shown on the device.", metavar="TEXT")] = "",
    ip: Annotated[
        str,
        typer.Option(
            "--ip",
            help="The IP address the sign-in comes from, shown on the device.",
            callback=check_ip,
            metavar="ADDRESS",
        ),
    ] = "",
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="A custom KEY=VALUE shown on the device (repeatable), e.g. --field "
            "repo=infra --field env=prod.",
            metavar="KEY=VALUE",
        ),
    ] = None,
    timeout: Timeout = 120.0,
    expires_in: Annotated[
        float | None,
        typer.Option(help="Challenge lifetime in seconds (server default 120).", metavar="S"),
    ] = None,
    json: Json = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the challenge and exit 0; see `pushauth wait`.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Cancel the user's pending challenge instead of failing (one this key's "
            "application created, or any with an admin key).",
        ),
    ] = False,
) -> None:
    """Push a sign-in request to USER's devices and wait for the answer.

    Shows the number to type on the device, then waits (spinner on stderr).
    """
    import asyncio
    import platform
    import socket

    from pushauth_server.client import PushAuthClient, calls

    custom = parse_fields(field or [])
    require_api_key(api_key)

    async def run() -> tuple[ChallengeState, bool]:
        async with PushAuthClient(url, api_key=api_key) as client:
            created = await client.call(
                calls.create_challenge(
                    user_id=user,
                    action=action,
                    context={
                        "note": note,
                        "initiator_ip": ip,
                        "initiator_host": socket.gethostname(),
                        "initiator_user_agent": f"pushauth-cli ({platform.system()})",
                    },
                    custom=custom,
                    expires_in_seconds=expires_in,
                    replace_pending=replace,
                )
            )
            if no_wait:
                return created, False
            _show_number(created)
            waiting = f"Waiting for {escape(visible(user))} to answer on their device…"
            with err.status(waiting, spinner="dots"):
                try:
                    state, timed_out = await _wait(client, created.challenge_id, timeout)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    # The web app gave up (Ctrl-C): take the request off the device too.
                    await _cancel_quietly(client, created.challenge_id)
                    raise
                if timed_out:
                    # The web app gave up: take the request off the user's device too.
                    state = await _cancel_quietly(client, created.challenge_id) or state
            return state, timed_out

    try:
        with client_errors():
            state, timed_out = asyncio.run(run())
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted:[/] the sign-in request was cancelled.")
        raise typer.Exit(ExitCode.EXPIRED) from None
    if no_wait:
        if json:
            print_json(challenge_json(state))
        else:
            _show_number(state)
            challenge = escape(visible(state.challenge_id))
            err.print(f"Challenge [bold]{challenge}[/]. Wait for it with:")
            print(f"  pushauth wait {visible(state.challenge_id)}")
        return
    _report(state, json=json, timed_out=timed_out)
    raise typer.Exit(_exit_code(state, timed_out))


signin.__doc__ = f"{inspect.cleandoc(signin.__doc__ or '')}\n\n{EXIT_CODES_HELP}"


async def _cancel_quietly(client: PushAuthClient, challenge_id: str) -> ChallengeState | None:
    from pushauth_server.client import ChallengeNotPending, calls

    try:
        return await client.call(calls.cancel_challenge(challenge_id))
    except ChallengeNotPending:
        return await client.call(calls.get_challenge(challenge_id))


def _show_number(state: ChallengeState) -> None:
    devices = (
        f" ({state.devices} device{'s' if state.devices != 1 else ''})" if state.devices else ""
    )
    err.print(f"Approval request sent to [bold]{escape(visible(state.user_id))}[/]{devices}.")
    if state.number_matching:
        err.print(number_panel(state.verification_code, "Type this number on your device"))
    left = _seconds_left(state)
    if left is not None:
        err.print(f"[dim]Challenge {escape(visible(state.challenge_id))} · expires in {left} s[/]")


def _seconds_left(state: ChallengeState) -> int | None:
    from datetime import datetime

    try:
        expires = datetime.fromisoformat(state.expires_at).timestamp()
    except ValueError:
        return None
    return max(0, round(expires - time.time()))


ChallengeArg = Annotated[
    str,
    typer.Argument(help="The challenge id (ch_...) printed by signin.", metavar="CHALLENGE_ID"),
]


def wait(
    challenge_id: ChallengeArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    timeout: Timeout = 120.0,
    json: Json = False,
) -> None:
    """Wait for a challenge made with `signin --no-wait` to be answered."""
    import asyncio

    from pushauth_server.client import PushAuthClient

    require_api_key(api_key)

    async def run() -> tuple[ChallengeState, bool]:
        async with PushAuthClient(url, api_key=api_key) as client:
            with err.status("Waiting for the answer…", spinner="dots"):
                return await _wait(client, challenge_id, timeout)

    try:
        with client_errors():
            state, timed_out = asyncio.run(run())
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/] The challenge is still pending.")
        raise typer.Exit(ExitCode.EXPIRED) from None
    _report(state, json=json, timed_out=timed_out)
    raise typer.Exit(_exit_code(state, timed_out))


wait.__doc__ = f"{inspect.cleandoc(wait.__doc__ or '')}\n\n{EXIT_CODES_HELP}"


def cancel(
    challenge_id: ChallengeArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Cancel a pending challenge: it leaves the user's devices at once.

    Exits 0 when it was cancelled; 5 when it was already answered, expired or cancelled (the
    message says which).
    """
    from pushauth_server.client import calls

    state = run_call(url, api_key, calls.cancel_challenge(challenge_id))
    if json:
        print_json(challenge_json(state))
        return
    out.print(
        f"[yellow]Cancelled[/] challenge {escape(visible(state.challenge_id))} "
        f"for {escape(visible(state.user_id))}."
    )
