"""The ``pushauth-device`` command: the scriptable phone.

With no command it opens the full-screen authenticator; the subcommands do one thing each and
exit 0 on success, non-zero with a clear message otherwise.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Coroutine, Iterator
from contextlib import aclosing, contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.markup import escape

from pushauth_device import keystore, service
from pushauth_device.accounts import Account, AccountStore, default_home
from pushauth_device.errors import AccountAmbiguous, DeviceError, KeyMissing, PinRequired
from pushauth_device.exit_codes import EXIT_HELP, ExitCode, exit_code_for
from pushauth_device.problems import describe
from pushauth_device.visible import visible
from pushauth_server.client import ClientError, PendingChallenge

T = TypeVar("T")
err = Console(stderr=True, highlight=False)

app = typer.Typer(
    name="pushauth-device",
    help="pushauth-device: plays the phone. Holds accounts and their keys (in the OS keyring) "
    "and answers approval requests. Run it with no command to open the full-screen "
    f"authenticator; the commands below are for scripts.\n\n{EXIT_HELP}",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help, as pushauth's: no type tags on every flag
)

Json = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
AccountOpt = Annotated[
    str | None,
    typer.Option("--account", help="Credential id or user id; needed when several accounts exist."),
]
PinStdin = Annotated[
    bool,
    typer.Option(
        "--pin-stdin",
        help="Read the account's PIN from the first line of stdin (for scripts); "
        "otherwise it is asked on a terminal.",
    ),
]


class State:
    store: AccountStore = AccountStore(default_home())


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"pushauth-device {version('pushauth')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="PUSHAUTH_DEVICE_HOME",
            help="Where this device keeps its accounts (several devices can share a machine).",
        ),
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    State.store = AccountStore(home or default_home())
    if ctx.invoked_subcommand is None:
        from pushauth_device.tui.app import run_app

        run_app(State.store)


@contextmanager
def _errors() -> Iterator[None]:
    """Device and client errors become a message, what to do, and their exit code."""
    try:
        yield
    except (DeviceError, ClientError) as error:
        problem = describe(error)
        _fail(problem.message, problem.hint or None, exit_code_for(error))


def _fail(message: str, hint: str | None, code: ExitCode) -> NoReturn:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]{escape(hint)}[/]")
    raise typer.Exit(code)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with _errors():
        return asyncio.run(coroutine)
    raise AssertionError("unreachable")  # pragma: no cover


def _out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()


@app.command()
def enroll(
    server: Annotated[str, typer.Option("--server", help="The pushauth server's URL.")],
    token: Annotated[str, typer.Option("--token", help="The token from `pushauth enroll USER`.")],
    name: Annotated[
        str | None, typer.Option("--name", help="This device's name (default: the host name).")
    ] = None,
    require_pin: Annotated[
        bool,
        typer.Option(
            "--require-pin",
            help="Ask for a PIN (6+ digits) on every approval; the key is kept wrapped under it.",
        ),
    ] = False,
    pin_stdin: PinStdin = False,
    json_out: Json = False,
) -> None:
    """Enroll this device: make a key pair, keep the private key in the OS keyring, register it.

    With --require-pin (or --pin-stdin) the key is wrapped under a PIN that every approval asks
    for; after 10 wrong PINs in a row the key is disabled until the device is enrolled again.
    """
    device_name = name or socket.gethostname()
    pin: str | None = None
    if pin_stdin:
        pin = _read_pin_line()
    elif require_pin:
        if not sys.stdin.isatty():
            _fail(
                "--require-pin asks for the PIN on a terminal.",
                "Use --pin-stdin in scripts.",
                ExitCode.USAGE,
            )
        pin = typer.prompt("New PIN (6 or more digits)", hide_input=True, confirmation_prompt=True)
    with _errors():
        if pin is not None:
            keystore.validate_pin(pin)
    with err.status("Enrolling…"):
        account = _run(
            service.enroll(
                State.store, server_url=server, token=token, device_name=device_name, pin=pin
            )
        )
    if json_out:
        _out(_account_json(account))
        return
    err.print(
        f"[green]Enrolled[/] as [bold]{_shown(account.user_id)}[/] on "
        f"{_shown(account.server_url)} (device {_shown(account.device_name)}, "
        f"credential {_shown(account.credential_id)})."
    )


@app.command()
def accounts(json_out: Json = False) -> None:
    """List this device's accounts: user, server, device name, credential id, PIN or not."""
    with _errors():
        found = State.store.load()
    if json_out:
        _out([_account_json(a) for a in found])
        return
    if not found:
        err.print("No accounts. Enroll one: pushauth-device enroll --server URL --token TOKEN")
        return
    for a in found:
        fields = (a.user_id, a.server_url, a.device_name, a.credential_id)
        pin = "pin" if a.require_pin else "no-pin"
        print("\t".join([*(visible(f) for f in fields), pin]))


@app.command()
def pending(
    account: AccountOpt = None, pin_stdin: PinStdin = False, json_out: Json = False
) -> None:
    """List the challenges waiting for an answer, with their context (never the code).

    Each line starts with the challenge id and the account (credential id) it is pending for;
    the same challenge shows once per account of its user on this device. An account that
    cannot be asked (key missing, server down) is reported on stderr and sets the exit code;
    the others are still listed.
    """
    chosen = _accounts(account)
    keys = _unlock(chosen, pin_stdin)

    async def collect() -> tuple[list[tuple[Account, PendingChallenge]], list[Exception]]:
        found: list[tuple[Account, PendingChallenge]] = []
        failures: list[Exception] = []
        for a in chosen:
            try:
                challenges = await service.pending(a, keys.get(a.credential_id))
            except (DeviceError, ClientError) as error:
                problem = describe(error)
                err.print(f"[bold red]{escape(a.label)}:[/] {escape(str(problem))}")
                failures.append(error)
                continue
            found.extend((a, c) for c in challenges)
        return found, failures

    found, failures = _run(collect())
    if json_out:
        _out([{**c.to_json(), "account": a.credential_id} for a, c in found])
    elif not found and not failures:
        err.print("Nothing pending.")
    else:
        for a, challenge in found:
            print(_challenge_line(challenge, a))
    if failures:
        raise typer.Exit(exit_code_for(failures[0]))


@app.command()
def approve(
    challenge_id: Annotated[str, typer.Argument(help="The challenge to approve.")],
    code: Annotated[
        str | None,
        typer.Option("--code", help="The number shown by the relying party (asked if omitted)."),
    ] = None,
    account: AccountOpt = None,
    pin_stdin: PinStdin = False,
) -> None:
    """Approve a challenge, typing the number the relying party shows (and the PIN, if asked)."""
    if code is not None and not code.strip().isdigit():
        _fail(
            "The number must be digits only, as shown on the sign-in screen.", None, ExitCode.USAGE
        )
    found, challenge, key = _find(challenge_id, account, pin_stdin)
    if challenge.number_matching and not code:
        if not sys.stdin.isatty():
            _fail(
                "This challenge needs the number shown by the relying party.",
                "Pass --code.",
                ExitCode.USAGE,
            )
        code = typer.prompt(f"Number shown on the sign-in screen ({challenge.code_digits} digits)")
    result = _run(
        service.answer(
            found,
            challenge,
            decision="approve",
            verification_code=(code or "").strip(),
            key=key,
        )
    )
    shown = _shown(challenge_id)
    if result.status == "approved":
        err.print(f"[green]Approved[/] {shown} as {escape(found.label)}.")
        return
    if result.reason == "wrong_code":
        _fail(
            f"Wrong number: challenge {visible(challenge_id)} has failed.",
            "Start the sign-in again.",
            ExitCode.REFUSED,
        )
    _fail(f"Challenge {visible(challenge_id)} is {visible(result.status)}.", None, ExitCode.REFUSED)


@app.command()
def deny(
    challenge_id: Annotated[str, typer.Argument(help="The challenge to deny.")],
    not_me: Annotated[
        bool,
        typer.Option("--not-me", help="Report that you did not start this sign-in (signed)."),
    ] = False,
    account: AccountOpt = None,
    pin_stdin: PinStdin = False,
) -> None:
    """Deny a challenge; with --not-me, report that you did not start it."""
    found, challenge, key = _find(challenge_id, account, pin_stdin)
    result = _run(
        service.answer(
            found,
            challenge,
            decision="deny",
            reason="not_me" if not_me else "",
            key=key,
        )
    )
    label = "Reported as not you and denied" if not_me else "Denied"
    err.print(f"[yellow]{label}[/] {_shown(challenge_id)} ({_shown(result.status)}).")
    if not_me:
        err.print(
            f"{_shown(challenge.user_id)} is now locked: no sign-in can be approved until an "
            f"operator runs: pushauth unlock {_shown(challenge.user_id)}"
        )


@app.command()
def revoke(
    account: AccountOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    pin_stdin: PinStdin = False,
) -> None:
    """Revoke this device's account on the server (signed by the device) and forget it here."""
    with _errors():
        chosen = State.store.select(account)  # the only account, or the one named
    question = (
        f"Revoke {chosen.label} ({visible(chosen.device_name)}, {chosen.credential_id})? "
        f"This device will no longer answer for {visible(chosen.user_id)}"
    )
    if not yes and not typer.confirm(question):
        err.print("Not revoked.")
        raise typer.Exit(ExitCode.REFUSED)
    try:
        keys = _unlock([chosen], pin_stdin, raising=True)
        _run_raising(service.revoke(State.store, chosen, keys.get(chosen.credential_id)))
    except KeyMissing as error:
        # No key left to sign the revocation with: forget the account here; an operator revokes
        # the credential on the server.
        with _errors():
            service.remove(State.store, chosen)
        err.print(f"[yellow]{escape(describe(error).message)}[/]")
        err.print(
            f"Removed {escape(chosen.label)} from this device, but it could not sign its own "
            f"revocation. Ask an operator to run: pushauth revoke {_shown(chosen.credential_id)}"
        )
        return
    except (DeviceError, ClientError) as error:
        with _errors():
            raise error
    err.print(f"[green]Revoked[/] {escape(chosen.label)} and removed it from this device.")


@app.command()
def watch(account: AccountOpt = None, pin_stdin: PinStdin = False, json_out: Json = False) -> None:
    """Print each challenge the moment it arrives over the stream. Answers nothing."""
    chosen = _accounts(account)
    keys = _unlock(chosen, pin_stdin)

    async def follow(a: Account) -> None:
        async with aclosing(service.follow(a, key=keys.get(a.credential_id))) as events:
            async for event in events:
                if isinstance(event, service.Disconnected):
                    err.print(
                        f"[yellow]{escape(a.label)}: connection lost ({_shown(event.reason)}); "
                        f"reconnecting in {event.delay:.1f} s[/]"
                    )
                elif event.kind == "ready":
                    err.print(
                        f"Connected: {escape(a.label)}. Waiting for challenges (Ctrl-C to stop)."
                    )
                elif event.kind == "revoked":
                    _fail(
                        f"{a.label}: this device was revoked by the server.",
                        None,
                        ExitCode.ACCOUNT,
                    )
                elif (challenge := event.challenge) is not None:
                    if json_out:
                        _out(challenge.to_json())
                    else:
                        print(_challenge_line(challenge, a), flush=True)

    async def follow_all() -> None:
        await asyncio.gather(*(follow(a) for a in chosen))

    try:
        _run(follow_all())
    except KeyboardInterrupt:
        raise typer.Exit(ExitCode.OK) from None


def _accounts(selector: str | None) -> list[Account]:
    with _errors():
        if selector:
            return [State.store.select(selector)]
        found = State.store.load()
        if not found:
            State.store.select(None)  # raises the "no accounts" error with its hint
        return found
    raise AssertionError("unreachable")  # pragma: no cover


def _read_pin_line() -> str:
    return sys.stdin.readline().strip()


def _unlock(
    chosen: list[Account], pin_stdin: bool, *, raising: bool = False
) -> dict[str, Ed25519PrivateKey]:
    """Unlock the PIN-protected accounts among ``chosen``: one PIN, asked once, one account.

    Errors end the command, unless ``raising``: then they propagate to the caller."""
    try:
        return _unlock_raising(chosen, pin_stdin)
    except (DeviceError, ClientError):
        if raising:
            raise
        with _errors():
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _unlock_raising(chosen: list[Account], pin_stdin: bool) -> dict[str, Ed25519PrivateKey]:
    locked = [a for a in chosen if a.require_pin]
    if not locked:
        return {}
    if len(locked) > 1:
        raise AccountAmbiguous(
            "Several accounts here ask for a PIN.", "Pick one with --account CREDENTIAL_ID."
        )
    [target] = locked
    if pin_stdin:
        pin = _read_pin_line()
    elif sys.stdin.isatty():
        pin = typer.prompt(f"PIN for {target.label}", hide_input=True)
    else:
        raise PinRequired(f"{target.label} asks for its PIN.", "Pass it on stdin with --pin-stdin.")
    return {target.credential_id: keystore.load_key(target.credential_id, pin=pin)}


def _run_raising(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _find(
    challenge_id: str, selector: str | None, pin_stdin: bool
) -> tuple[Account, PendingChallenge, Ed25519PrivateKey | None]:
    """The account that can answer ``challenge_id``: one of the challenge's user that has it
    pending. Accounts without a PIN are asked first, so a PIN is asked for only when the
    challenge is not theirs and one PIN account is left to ask."""
    chosen = _accounts(selector)
    plain = [a for a in chosen if not a.require_pin]
    locked = [a for a in chosen if a.require_pin]
    search = _run(service.find_pending(plain, challenge_id))
    unchecked = list(search.unchecked)
    if search.found is not None:
        return (*search.found, None)
    if locked:
        if len(locked) > 1:
            _fail(
                f"Challenge {visible(challenge_id)} is not pending for the accounts without a "
                "PIN, and several accounts here ask for a PIN.",
                "Pick one with --account CREDENTIAL_ID.",
                ExitCode.ACCOUNT,
            )
        keys = _unlock(locked, pin_stdin)
        search = _run(service.find_pending(locked, challenge_id, keys))
        unchecked.extend(search.unchecked)
        if search.found is not None:
            account, challenge = search.found
            return account, challenge, keys.get(account.credential_id)
    with _errors():
        if unchecked and len(unchecked) == len(chosen):
            raise unchecked[0][1]  # no account could be asked: say why (keyring, server…)
        raise service.not_pending(challenge_id, unchecked)
    raise AssertionError("unreachable")  # pragma: no cover


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "credential_id": account.credential_id,
        "user_id": account.user_id,
        "server_url": account.server_url,
        "origin": account.origin,
        "device_name": account.device_name,
        "created_at_ms": account.created_at_ms,
        "require_pin": account.require_pin,
    }


def _shown(text: str) -> str:
    """Server- or user-provided text for a Rich console: escapes visible, markup inert."""
    return escape(visible(text))


def _challenge_line(challenge: PendingChallenge, account: Account) -> str:
    """One line per challenge and account; every value from the server made visible."""
    parts = [
        visible(challenge.challenge_id),
        f"account={visible(account.credential_id)}",
        f"user={visible(challenge.user_id)}",
        f"action={visible(challenge.action)}",
    ]
    for key in ("note", "initiator_host", "initiator_ip", "initiator_user_agent"):
        value = getattr(challenge, key)
        if value:
            parts.append(f"{key.removeprefix('initiator_')}={_quoted(value)}")
    parts.extend(f"{visible(k)}={_quoted(v)}" for k, v in sorted(challenge.custom.items()))
    return "  ".join(parts)


def _quoted(value: str) -> str:
    return "'" + visible(value).replace("'", "\\'") + "'"


def run() -> None:
    app()
