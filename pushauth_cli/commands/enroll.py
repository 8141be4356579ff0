"""``pushauth enroll`` and the user and device management commands."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from pushauth_cli.errors import run_call
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
from pushauth_cli.render import err, out, print_json
from pushauth_cli.tables import Column, render
from pushauth_cli.text import local_time, local_zone, visible

if TYPE_CHECKING:
    from pushauth_server.client import Device


def enroll(
    user: UserArg, url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """Issue a single-use enrollment token for USER (valid 10 minutes)."""
    from pushauth_server.client import calls

    token = run_call(url, api_key, calls.issue_enrollment_token(user))
    command = (
        f"pushauth-device enroll --server {shlex.quote(token.server_url)} "
        f"--token {shlex.quote(token.token)}"
    )
    result = {
        "token": token.token,
        "user_id": token.user_id,
        "expires_at": token.expires_at,
        "server_url": token.server_url,
        "command": command,
    }
    if json:
        print_json(result)
        return
    err.print(
        f"Enrollment token for [bold]{escape(visible(user))}[/] "
        f"(single use, expires {local_time(token.expires_at)}):"
    )
    err.print(f"\n  {escape(visible(token.token))}\n")
    err.print("On the device, run:")
    print(f"  {visible(command)}")


def _device_columns() -> tuple[Column, ...]:
    zone = local_zone()
    return (
        Column("user", is_id=True, priority=0),
        Column("name", priority=0),
        Column("credential id", is_id=True),
        Column("state", wraps=False),
        Column(f"last used ({zone})", priority=1, min_width=10),
        Column(f"enrolled ({zone})", priority=2, min_width=10),
    )


def devices(
    user: Annotated[
        str | None,
        typer.Argument(
            help=f"Only this user's devices (default: every user's). A user id is {USER_ID_HELP}.",
            callback=check_user_id,
            metavar="[USER]",
            show_default=False,
        ),
    ] = None,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """List every device, or USER's: name, credential id, state, last used.

    The table goes to stdout (`pushauth devices | less`); credential ids are never shortened:
    at a narrow width the least useful columns are left out instead (and that is said).
    """
    from pushauth_server.client import calls

    call = calls.list_devices(user) if user else calls.list_all_devices()
    found = run_call(url, api_key, call)
    if json:
        body = {"devices": [_device_json(d) for d in found]}
        print_json({"user_id": user, **body} if user else body)
        return
    if not found:
        if user:
            err.print(
                f"{escape(visible(user))} has no devices. Enroll one with: "
                f"pushauth enroll {escape(visible(user))}"
            )
        else:
            err.print("No devices yet. Enroll one with: pushauth enroll USER")
        return
    columns = _device_columns()[1:] if user else _device_columns()
    rows = []
    for d in found:
        state = Text(d.state, style="green" if d.state == "active" else "red")
        cells = [
            Text(visible(d.name)),
            Text(visible(d.credential_id)),
            state,
            Text(local_time(d.last_used_at, zone=False) or "never"),
            Text(local_time(d.enrolled_at, zone=False)),
        ]
        rows.append(cells if user else [Text(visible(d.user_id)), *cells])
    title = f"Devices of {visible(user)}" if user else "Devices"
    render(out, columns, rows, title=title, notes=err)


def users(url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False) -> None:
    """List users: everyone who has, or had, an enrolled device."""
    from pushauth_server.client import calls

    found = run_call(url, api_key, calls.list_users())
    if json:
        print_json(
            {
                "users": [
                    {
                        "user_id": u.user_id,
                        "active_devices": u.active_devices,
                        "revoked_devices": u.revoked_devices,
                        "last_used_at": u.last_used_at,
                    }
                    for u in found
                ]
            }
        )
        return
    if not found:
        err.print("No users yet: enroll a device with `pushauth enroll USER`.")
        return
    columns = (
        Column("user", is_id=True),
        Column("active devices", wraps=False),
        Column("revoked", wraps=False, priority=2),
        Column(f"last used ({local_zone()})", priority=1, min_width=10),
    )
    rows = [
        [
            Text(visible(u.user_id)),
            Text(str(u.active_devices)),
            Text(str(u.revoked_devices)),
            Text(local_time(u.last_used_at, zone=False) or "never"),
        ]
        for u in found
    ]
    render(out, columns, rows, title="Users", notes=err)


def revoke(
    credential_id: Annotated[
        str,
        typer.Argument(
            help="The device's credential id (cr_..., from `pushauth devices`).",
            metavar="CREDENTIAL_ID",
            show_default=False,
        ),
    ],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json: Json = False,
) -> None:
    """Revoke a device now: its stream closes and it can no longer answer.

    Asks first, naming the user and the device; answering no exits 7 and changes nothing.
    """
    from pushauth_server.client import calls

    if not yes:
        device = run_call(url, api_key, calls.get_device(credential_id))
        question = (
            f'Revoke {visible(device.user_id)}\'s device "{visible(device.name)}" '
            f"({visible(device.credential_id)})? It stops working at once"
        )
        if not typer.confirm(question, err=True):
            err.print("Not revoked.")
            raise typer.Exit(ExitCode.NOT_DONE)

    device = run_call(url, api_key, calls.revoke_device(credential_id))
    if json:
        print_json(_device_json(device))
        return
    out.print(
        f"[green]Revoked[/] {escape(visible(device.name))} ({escape(device.credential_id)}) "
        f"of {escape(visible(device.user_id))}."
    )


def _device_json(device: Device) -> dict[str, str | None]:
    return {
        "credential_id": device.credential_id,
        "user_id": device.user_id,
        "name": device.name,
        "state": device.state,
        "enrolled_at": device.enrolled_at,
        "last_used_at": device.last_used_at,
        "revoked_at": device.revoked_at,
    }
