"""``pushauth enroll`` and the device management commands."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pushauth_cli.errors import run_call
from pushauth_cli.options import DEFAULT_SERVER_URL, ApiKey, Json, ServerUrl
from pushauth_cli.render import err, print_json
from pushauth_server.client import Device, calls

UserArg = Annotated[str, typer.Argument(help="The user's id at the relying party, e.g. alice.")]


def enroll(
    user: UserArg, url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """Issue a single-use enrollment token for USER (valid 10 minutes)."""

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
        f"Enrollment token for [bold]{escape(user)}[/] "
        f"(single use, expires {result['expires_at']}):"
    )
    err.print(f"\n  {result['token']}\n")
    err.print("On the device, run:")
    print(f"  {result['command']}")


def devices(
    user: UserArg, url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """List USER's devices: name, credential id, enrolled, last used, state."""

    found = run_call(url, api_key, calls.list_devices(user))
    if json:
        print_json({"user_id": user, "devices": [_device_json(d) for d in found]})
        return
    if not found:
        err.print(f"{escape(user)} has no devices. Enroll one with: pushauth enroll {escape(user)}")
        return
    table = Table(title=f"Devices of {user}")
    for column in ("name", "credential id", "enrolled at", "last used", "state"):
        table.add_column(column)
    for d in found:
        state = "[green]active[/]" if d.state == "active" else f"[red]{d.state}[/]"
        # Names come from whoever enrolled the device: shown as text, never read as markup.
        cells = (d.name, d.credential_id, d.enrolled_at, d.last_used_at or "never")
        table.add_row(*(Text(cell) for cell in cells), state)
    err.print(table)


def revoke(
    credential_id: Annotated[str, typer.Argument(help="The device's credential id (cr_...).")],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json: Json = False,
) -> None:
    """Revoke a device at once: its stream closes and it can no longer answer."""
    if not yes and not typer.confirm(f"Revoke device {credential_id}? It stops working at once"):
        err.print("Not revoked.")
        raise typer.Exit(1)

    device = run_call(url, api_key, calls.revoke_device(credential_id))
    if json:
        print_json(_device_json(device))
        return
    err.print(
        f"[green]Revoked[/] {escape(device.name)} ({device.credential_id}) "
        f"of {escape(device.user_id)}."
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
