"""The ``pushauth-device`` command: the scriptable phone.

With no command it opens the full-screen authenticator; the subcommands do one thing each and
exit 0 on success, non-zero with a clear message otherwise.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from contextlib import aclosing
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pushauth_device import choosing, console, keystore, service
from pushauth_device.accounts import NO_APP, Account, AccountStore, default_home
from pushauth_device.console import err, fail, shown
from pushauth_device.errors import DeviceError, KeyMissing
from pushauth_device.exit_codes import EXIT_HELP, ExitCode, exit_code_for
from pushauth_device.problems import describe
from pushauth_device.visible import visible
from pushauth_server.client import ClientError, PendingChallenge

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
        pin = choosing.read_pin_line()
    elif require_pin:
        if not sys.stdin.isatty():
            fail(
                "--require-pin asks for the PIN on a terminal.",
                "Use --pin-stdin in scripts.",
                ExitCode.USAGE,
            )
        pin = typer.prompt("New PIN (6 or more digits)", hide_input=True, confirmation_prompt=True)
    with console.errors():
        if pin is not None:
            keystore.validate_pin(pin)
    with err.status("Enrolling…"):
        account = console.run(
            service.enroll(
                State.store, server_url=server, token=token, device_name=device_name, pin=pin
            )
        )
    if json_out:
        console.out(console.account_json(account))
        return
    err.print(
        f"[green]Enrolled[/] as [bold]{shown(account.user_id)}[/] on "
        f"{shown(account.server_url)} through {escape(account.enrolled_through)} "
        f"(device {shown(account.device_name)}, credential {shown(account.credential_id)})."
    )


@app.command()
def accounts(json_out: Json = False) -> None:
    """List this device's accounts: user, the server and the application it enrolled through,
    device name, credential id, PIN or not. The application is a dash for accounts enrolled
    before servers named it."""
    with console.errors():
        found = State.store.load()
    if json_out:
        console.out([console.account_json(a) for a in found])
        return
    if not found:
        err.print("No accounts. Enroll one: pushauth-device enroll --server URL --token TOKEN")
        return
    for a in found:
        pin = "pin" if a.require_pin else "no-pin"
        fields = (visible(a.user_id), visible(a.server_url), a.enrolled_through)
        rest = (visible(a.device_name), visible(a.credential_id))
        print("\t".join([*fields, *rest, pin]))


@app.command()
def pending(
    account: AccountOpt = None, pin_stdin: PinStdin = False, json_out: Json = False
) -> None:
    """List the challenges waiting for an answer, with their context (never the code).

    Each line starts with the challenge id, the application asking (as the server names it)
    and the account (credential id) it is pending for; the same challenge shows once per
    account of its user on this device. An account that
    cannot be asked (key missing, server down) is reported on stderr and sets the exit code;
    the others are still listed.
    """
    chosen = choosing.accounts(State.store, account)
    keys = choosing.unlock(chosen, pin_stdin)

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

    found, failures = console.run(collect())
    if json_out:
        console.out([{**c.to_json(), "account": a.credential_id} for a, c in found])
    elif not found and not failures:
        err.print("Nothing pending.")
    else:
        for a, challenge in found:
            print(console.challenge_line(challenge, a))
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
        fail(
            "The number must be digits only, as shown on the sign-in screen.", None, ExitCode.USAGE
        )
    found, challenge, key = choosing.find(State.store, challenge_id, account, pin_stdin)
    if challenge.number_matching and not code:
        if not sys.stdin.isatty():
            fail(
                "This challenge needs the number shown by the relying party.",
                "Pass --code.",
                ExitCode.USAGE,
            )
        code = typer.prompt(f"Number shown on the sign-in screen ({challenge.code_digits} digits)")
    result = console.run(
        service.answer(
            found,
            challenge,
            decision="approve",
            verification_code=(code or "").strip(),
            key=key,
        )
    )
    shown_id = shown(challenge_id)
    if result.status == "approved":
        err.print(f"[green]Approved[/] {shown_id} as {escape(found.label)}, {asked_by(challenge)}.")
        return
    if result.reason == "wrong_code":
        fail(
            f"Wrong number: challenge {visible(challenge_id)} has failed.",
            "Start the sign-in again.",
            ExitCode.REFUSED,
        )
    fail(f"Challenge {visible(challenge_id)} is {visible(result.status)}.", None, ExitCode.REFUSED)


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
    found, challenge, key = choosing.find(State.store, challenge_id, account, pin_stdin)
    result = console.run(
        service.answer(
            found,
            challenge,
            decision="deny",
            reason="not_me" if not_me else "",
            key=key,
        )
    )
    label = "Reported as not you and denied" if not_me else "Denied"
    err.print(
        f"[yellow]{label}[/] {shown(challenge_id)} ({shown(result.status)}), {asked_by(challenge)}."
    )
    if not_me:
        err.print(
            f"{shown(challenge.user_id)} is now locked: no sign-in can be approved until an "
            f"operator runs: pushauth unlock {shown(challenge.user_id)}"
        )


@app.command()
def revoke(
    account: AccountOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    pin_stdin: PinStdin = False,
) -> None:
    """Revoke this device's account on the server (signed by the device) and forget it here."""
    with console.errors():
        chosen = State.store.select(account)  # the only account, or the one named
    question = (
        f"Revoke {chosen.label} ({visible(chosen.device_name)}, {chosen.credential_id})? "
        f"This device will no longer answer for {visible(chosen.user_id)}"
    )
    if not yes and not typer.confirm(question):
        err.print("Not revoked.")
        raise typer.Exit(ExitCode.REFUSED)
    try:
        keys = choosing.unlock([chosen], pin_stdin, raising=True)
        choosing.run_raising(service.revoke(State.store, chosen, keys.get(chosen.credential_id)))
    except KeyMissing as error:
        # No key left to sign the revocation with: forget the account here; an operator revokes
        # the credential on the server.
        with console.errors():
            service.remove(State.store, chosen)
        err.print(f"[yellow]{escape(describe(error).message)}[/]")
        err.print(
            f"Removed {escape(chosen.label)} from this device, but it could not sign its own "
            f"revocation. Ask an operator to run: pushauth revoke {shown(chosen.credential_id)}"
        )
        return
    except (DeviceError, ClientError) as error:
        with console.errors():
            raise error
    err.print(f"[green]Revoked[/] {escape(chosen.label)} and removed it from this device.")


@app.command()
def watch(account: AccountOpt = None, pin_stdin: PinStdin = False, json_out: Json = False) -> None:
    """Print each challenge the moment it arrives over the stream. Answers nothing."""
    chosen = choosing.accounts(State.store, account)
    keys = choosing.unlock(chosen, pin_stdin)

    async def follow(a: Account) -> None:
        async with aclosing(service.follow(a, key=keys.get(a.credential_id))) as events:
            async for event in events:
                if isinstance(event, service.Disconnected):
                    err.print(
                        f"[yellow]{escape(a.label)}: connection lost ({shown(event.reason)}); "
                        f"reconnecting in {event.delay:.1f} s[/]"
                    )
                elif event.kind == "ready":
                    err.print(
                        f"Connected: {escape(a.label)}. Waiting for challenges (Ctrl-C to stop)."
                    )
                elif event.kind == "revoked":
                    fail(
                        f"{a.label}: this device was revoked by the server.",
                        None,
                        ExitCode.ACCOUNT,
                    )
                elif (challenge := event.challenge) is not None:
                    if json_out:
                        console.out(challenge.to_json())
                    else:
                        print(console.challenge_line(challenge, a), flush=True)

    async def follow_all() -> None:
        await asyncio.gather(*(follow(a) for a in chosen))

    try:
        console.run(follow_all())
    except KeyboardInterrupt:
        raise typer.Exit(ExitCode.OK) from None


def asked_by(challenge: PendingChallenge) -> str:
    """Which application asked, for a confirmation line (markup-safe)."""
    return f"asked by {shown(challenge.shown.get('application', '')) or NO_APP}"


def run() -> None:
    app()
