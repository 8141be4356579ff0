"""``pushauth apps``: relying-party applications and their scoped API keys (admin scope).

A new key is printed once (``create``, ``rotate``): on stdout, alone on its line, or under
``key`` with ``--json``; the server keeps only its hash.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from pushauth_cli.errors import run_call
from pushauth_cli.help import Command
from pushauth_cli.options import DEFAULT_SERVER_URL, ApiKey, Json, ServerUrl
from pushauth_cli.render import err, out, print_json
from pushauth_cli.tables import Column, render
from pushauth_cli.text import local_time, visible

app = typer.Typer(
    name="apps",
    help="Relying-party applications and their scoped API keys (needs an admin key). Give each "
    "relying party its own key with only the scopes it needs: a web app's sign-in 'challenges', "
    "an enrollment portal 'enrollment', operators 'admin'.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SCOPES = ("challenges", "enrollment", "admin")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# The server's limit (domain/apps/service.py MAX_GRACE_SECONDS; a test keeps them equal), here
# without importing the server: a longer grace is said locally, with the limit.
MAX_GRACE_DAYS = 30


def _check_name(value: str) -> str:
    from pushauth_server.domain.apps.names import app_name_problem

    problem = app_name_problem(value)
    if problem:
        raise typer.BadParameter(visible(problem))
    return value


def _check_scopes(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        if value not in SCOPES:
            raise typer.BadParameter(f"{value!r} is not a scope; use one of {', '.join(SCOPES)}")
    return values


def _check_users(value: str | None) -> str | None:
    if value is None:
        return None
    from pushauth_server.domain.apps.names import user_entry_problem

    for entry in _users(value):
        problem = user_entry_problem(entry)
        if problem:
            raise typer.BadParameter(visible(problem))
    return value


def _users(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()] or [""]


def parse_grace(text: str) -> float:
    """``--grace``: seconds, or a duration like ``30m``, ``24h``, ``7d``; 0: the old key stops
    at once."""
    match = _DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter("use seconds or a duration like 30m, 24h, 7d (0: at once)")
    seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    if seconds > MAX_GRACE_DAYS * 86_400:
        raise typer.BadParameter(f"the grace period is at most {MAX_GRACE_DAYS}d")
    return seconds


NameArg = Annotated[
    str,
    typer.Argument(
        help="The application's name: a lowercase letter, then lowercase letters, digits, _ "
        "and - (at most 40).",
        callback=_check_name,
        metavar="NAME",
        show_default=False,
    ),
]
DisplayName = Annotated[
    str | None,
    typer.Option(
        "--display-name",
        help="The name people see, e.g. on the device (default: NAME). Plain text, at most 64.",
        metavar="TEXT",
    ),
]


def _key_line(data: dict[str, Any]) -> None:
    err.print("The new API key, shown this once (the server keeps only its hash):")
    out.print(data["key"], soft_wrap=True, markup=False, highlight=False)


def _show(data: dict[str, Any]) -> None:
    users = data["users"]
    state = data["state"] + (" (bootstrap key: PUSHAUTH_API_KEY)" if data["bootstrap"] else "")
    lines = [
        ("Name", data["name"]),
        ("Display name", data["display_name"]),
        ("Scopes", ", ".join(data["scopes"])),
        ("Users", ", ".join(users) if users is not None else "every user"),
        ("State", state),
        ("Created", local_time(data["created_at"])),
        ("Last used", local_time(data["last_used_at"]) if data["last_used_at"] else "never"),
    ]
    if data["revoked_at"]:
        lines.append(("Revoked", local_time(data["revoked_at"])))
    for label, value in lines:
        out.print(f"[bold]{label}:[/] {escape(visible(value))}")
    for key in data["keys"]:
        until = f" until {local_time(key['expires_at'])}" if key["expires_at"] else ""
        out.print(f"  key {key['key_id']}: {key['state']}{escape(until)}")


@app.command("create", cls=Command)
def create(
    name: NameArg,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="A scope to grant, repeatable: challenges (create, read, wait on, cancel "
            "challenges), enrollment (issue enrollment tokens), admin (devices, users, unlock, "
            "audit, applications, webhooks). Default: challenges.",
            callback=_check_scopes,
            metavar="SCOPE",
        ),
    ] = None,
    users: Annotated[
        str | None,
        typer.Option(
            "--users",
            help="Restrict the app to these user ids and * patterns, comma-separated "
            "(e.g. alice,deploy-*). Default: every user.",
            callback=_check_users,
            metavar="LIST",
        ),
    ] = None,
    display_name: DisplayName = None,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Create an application and print its API key, once."""
    from pushauth_server.client import calls

    call = calls.create_app(
        name=name,
        scopes=sorted(set(scope or ["challenges"])),
        display_name=display_name,
        users=_users(users) if users is not None else None,
    )
    created = run_call(url, api_key, call)
    if json:
        print_json(created)
        return
    err.print(
        f"[green]Created[/] application [bold]{escape(visible(name))}[/] "
        f"({', '.join(created['scopes'])})."
    )
    _key_line(created)


@app.command("list", cls=Command)
def list_apps(
    url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """List the applications: name, scopes, users, state, last used."""
    from pushauth_server.client import calls

    found = run_call(url, api_key, calls.list_apps())
    if json:
        print_json({"apps": found})
        return
    columns = [
        Column("NAME", is_id=True),
        Column("SCOPES", wraps=False),
        Column("USERS", priority=2),
        Column("STATE", wraps=False),
        Column("KEYS", wraps=False, priority=3),
        Column("LAST USED", wraps=False, priority=1),
        Column("DISPLAY NAME", priority=4),
    ]
    rows = []
    for data in found:
        users = data["users"]
        live = sum(1 for key in data["keys"] if key["state"] in ("active", "grace"))
        rows.append(
            [
                Text(visible(data["name"])),
                Text(",".join(data["scopes"])),
                Text(visible(",".join(users)) if users is not None else "*"),
                Text(data["state"], style="green" if data["state"] == "active" else "red"),
                Text("env" if data["bootstrap"] else str(live)),
                Text(local_time(data["last_used_at"]) if data["last_used_at"] else "never"),
                Text(visible(data["display_name"])),
            ]
        )
    render(out, columns, rows, notes=err)


@app.command("show", cls=Command)
def show(
    name: NameArg, url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """Show one application and the state of each of its keys."""
    from pushauth_server.client import calls

    data = run_call(url, api_key, calls.get_app(name))
    if json:
        print_json(data)
        return
    _show(data)


@app.command("update", cls=Command)
def update(
    name: NameArg,
    display_name: Annotated[
        str,
        typer.Option(
            "--display-name",
            help="The new name people see. Plain text, at most 64.",
            metavar="TEXT",
        ),
    ],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Change an application's display name (its scopes and users are fixed: create another)."""
    from pushauth_server.client import calls

    data = run_call(url, api_key, calls.update_app(name, display_name=display_name))
    if json:
        print_json(data)
        return
    _show(data)


@app.command("rotate", cls=Command)
def rotate(
    name: NameArg,
    grace: Annotated[
        str,
        typer.Option(
            "--grace",
            help="How long the old key keeps working: seconds or 30m, 24h, 7d (at most 30d); "
            "0 stops it now.",
            metavar="DURATION",
        ),
    ] = "24h",
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Give an application a new key; its old key stops when the grace period ends."""
    from pushauth_server.client import calls

    data = run_call(url, api_key, calls.rotate_app(name, grace_seconds=parse_grace(grace)))
    if json:
        print_json(data)
        return
    stops = data.get("old_keys_stop_at")
    err.print(
        f"[green]Rotated[/] {escape(visible(name))}: the old key stops "
        + (f"at {escape(local_time(stops))}." if stops else "now.")
    )
    _key_line(data)


@app.command("revoke", cls=Command)
def revoke(
    name: NameArg, url: ServerUrl = DEFAULT_SERVER_URL, api_key: ApiKey = "", json: Json = False
) -> None:
    """Stop every key of an application now, on every server process. Cannot be undone."""
    from pushauth_server.client import calls

    data = run_call(url, api_key, calls.revoke_app(name))
    if json:
        print_json(data)
        return
    err.print(f"[green]Revoked[/] {escape(visible(name))}: its keys no longer work.")
