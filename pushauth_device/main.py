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
from typing import Annotated, Any, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.markup import escape

from pushauth_device import keystore, service
from pushauth_device.accounts import Account, AccountStore, default_home
from pushauth_device.errors import AccountAmbiguous, DeviceError, PinRequired
from pushauth_server.client import (
    ApiError,
    ClientError,
    CredentialRevoked,
    PendingChallenge,
    ServerUnreachable,
)

T = TypeVar("T")
err = Console(stderr=True, highlight=False)

EXIT_HELP = (
    "Exit codes: 0 done; 1 refused (already answered, expired, wrong number, server said no); "
    "2 usage error; 4 account or keyring problem (no account, key missing, device revoked); "
    "6 server unreachable."
)

app = typer.Typer(
    name="pushauth-device",
    help="pushauth-device: plays the phone. Holds accounts and their keys (in the OS keyring) "
    "and answers approval requests. Run it with no command to open the full-screen "
    f"authenticator; the commands below are for scripts.\n\n{EXIT_HELP}",
    add_completion=False,
    pretty_exceptions_enable=False,
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
    try:
        yield
    except DeviceError as error:
        _fail(error.message, error.hint, error.exit_code)
    except CredentialRevoked as error:
        _fail(
            f"{error.message} [{error.code}]",
            "Remove the account and enroll again: pushauth enroll USER",
            4,
        )
    except ServerUnreachable as error:
        _fail(str(error), "Check the server URL and that the server is running.", 6)
    except ApiError as error:
        _fail(f"{error.message} [{error.code}]", None, 1)
    except ClientError as error:
        _fail(str(error), None, 1)


def _fail(message: str, hint: str | None, code: int) -> None:
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
            _fail("--require-pin asks for the PIN on a terminal.", "Use --pin-stdin in scripts.", 2)
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
        f"[green]Enrolled[/] as [bold]{escape(account.user_id)}[/] on {escape(account.server_url)} "
        f"(device {escape(account.device_name)}, credential {account.credential_id})."
    )


@app.command()
def accounts(json_out: Json = False) -> None:
    """List this device's accounts."""
    found = State.store.load()
    if json_out:
        _out([_account_json(a) for a in found])
        return
    if not found:
        err.print("No accounts. Enroll one: pushauth-device enroll --server URL --token TOKEN")
        return
    for a in found:
        print(f"{a.user_id}\t{a.server_url}\t{a.device_name}\t{a.credential_id}")


@app.command()
def pending(
    account: AccountOpt = None, pin_stdin: PinStdin = False, json_out: Json = False
) -> None:
    """List the challenges waiting for an answer, with their context (never the code)."""
    chosen = _accounts(account)
    keys = _unlock(chosen, pin_stdin)

    async def collect() -> list[PendingChallenge]:
        found: list[PendingChallenge] = []
        for a in chosen:
            found.extend(await service.pending(a, keys.get(a.credential_id)))
        return found

    found = _run(collect())
    if json_out:
        _out([c.to_json() for c in found])
        return
    if not found:
        err.print("Nothing pending.")
    for challenge in found:
        print(_challenge_line(challenge))


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
        _fail("The number must be digits only, as shown on the sign-in screen.", None, 2)
    chosen = _accounts(account)
    keys = _unlock(chosen, pin_stdin)
    found, challenge = _run(service.find_pending(chosen, challenge_id, keys))
    if challenge.number_matching and not code:
        if not sys.stdin.isatty():
            _fail("This challenge needs the number shown by the relying party.", "Pass --code.", 2)
        code = typer.prompt(f"Number shown on the sign-in screen ({challenge.code_digits} digits)")
    result = _run(
        service.answer(
            found,
            challenge,
            decision="approve",
            verification_code=(code or "").strip(),
            key=keys.get(found.credential_id),
        )
    )
    if result.status == "approved":
        err.print(f"[green]Approved[/] {challenge_id}.")
        return
    if result.reason == "wrong_code":
        _fail(f"Wrong number: challenge {challenge_id} has failed.", "Start the sign-in again.", 1)
    _fail(f"Challenge {challenge_id} is {result.status}.", None, 1)


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
    chosen = _accounts(account)
    keys = _unlock(chosen, pin_stdin)
    found, challenge = _run(service.find_pending(chosen, challenge_id, keys))
    result = _run(
        service.answer(
            found,
            challenge,
            decision="deny",
            reason="not_me" if not_me else "",
            key=keys.get(found.credential_id),
        )
    )
    label = "Reported as not you and denied" if not_me else "Denied"
    err.print(f"[yellow]{label}[/] {challenge_id} ({result.status}).")


@app.command()
def revoke(
    account: AccountOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    pin_stdin: PinStdin = False,
) -> None:
    """Revoke this device's account on the server (signed by the device) and forget it here."""
    with _errors():
        chosen = State.store.select(account)  # the only account, or the one named
    question = f"Revoke {chosen.label}? This device will no longer answer for {chosen.user_id}"
    if not yes and not typer.confirm(question):
        err.print("Not revoked.")
        raise typer.Exit(1)
    keys = _unlock([chosen], pin_stdin)
    _run(service.revoke(State.store, chosen, keys.get(chosen.credential_id)))
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
                        f"[yellow]{escape(a.label)}: connection lost; "
                        f"reconnecting in {event.delay:.1f} s[/]"
                    )
                elif event.kind == "ready":
                    err.print(
                        f"Connected: {escape(a.label)}. Waiting for challenges (Ctrl-C to stop)."
                    )
                elif event.kind == "revoked":
                    _fail(f"{a.label}: this device was revoked by the server.", None, 4)
                elif (challenge := event.challenge) is not None:
                    if json_out:
                        _out(challenge.to_json())
                    else:
                        print(_challenge_line(challenge), flush=True)

    async def follow_all() -> None:
        await asyncio.gather(*(follow(a) for a in chosen))

    try:
        _run(follow_all())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


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


def _unlock(chosen: list[Account], pin_stdin: bool) -> dict[str, Ed25519PrivateKey]:
    """Unlock the PIN-protected accounts among ``chosen``: one PIN, asked once, one account."""
    locked = [a for a in chosen if a.require_pin]
    if not locked:
        return {}
    if len(locked) > 1:
        with _errors():
            raise AccountAmbiguous(
                "Several accounts here ask for a PIN.", "Pick one with --account CREDENTIAL_ID."
            )
    [target] = locked
    if pin_stdin:
        pin = _read_pin_line()
    elif sys.stdin.isatty():
        pin = typer.prompt(f"PIN for {target.label}", hide_input=True)
    else:
        with _errors():
            raise PinRequired(
                f"{target.label} asks for its PIN.", "Pass it on stdin with --pin-stdin."
            )
    with _errors():
        return {target.credential_id: keystore.load_key(target.credential_id, pin=pin)}
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


def _challenge_line(challenge: PendingChallenge) -> str:
    parts = [
        challenge.challenge_id,
        f"user={challenge.user_id}",
        f"action={challenge.action}",
    ]
    for key in ("note", "initiator_host", "initiator_ip", "initiator_user_agent"):
        value = getattr(challenge, key)
        if value:
            parts.append(f"{key.removeprefix('initiator_')}={value!r}")
    parts.extend(f"{k}={v!r}" for k, v in sorted(challenge.custom.items()))
    return "  ".join(parts)


def run() -> None:
    app()
