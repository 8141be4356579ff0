"""``pushauth webhooks``: an application's endpoints, their secrets, and the deliveries."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from pushauth_cli.errors import run_call
from pushauth_cli.help import Command
from pushauth_cli.options import DEFAULT_SERVER_URL, ApiKey, Json, ServerUrl
from pushauth_cli.render import err, out, print_json
from pushauth_cli.tables import Column, render
from pushauth_cli.text import local_time, local_zone, visible

EVENTS_HELP = (
    "challenge.approved, challenge.denied, challenge.expired, challenge.cancelled, "
    "device.enrolled, device.revoked, user.locked"
)

app = typer.Typer(
    name="webhooks",
    help="Webhook endpoints of an application: signed (Standard Webhooks), retried for a day, "
    "never lost. See docs/operations.md, Webhooks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

EndpointArg = Annotated[
    str,
    typer.Argument(
        help="The endpoint's id (we_..., from `pushauth webhooks list`).",
        metavar="ENDPOINT_ID",
        show_default=False,
    ),
]


def _secret_notice(secret: str) -> None:
    err.print("Signing secret (shown once; the receiver verifies each delivery with it):")
    print(f"  {visible(secret)}")


@app.command(cls=Command)
def add(
    endpoint_url: Annotated[
        str,
        typer.Argument(
            help="Where to POST events: an http(s) URL without user:password@.",
            metavar="URL",
            show_default=False,
        ),
    ],
    application: Annotated[
        str,
        typer.Option(
            "--app",
            help="The application the endpoint belongs to, by name (the bootstrap key's own "
            "is 'operator').",
            metavar="NAME",
            show_default=False,
        ),
    ],
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--events",
            help=f"Only these events (repeat, or comma-separate); default all: {EVENTS_HELP}.",
            metavar="EVENT",
        ),
    ] = None,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Register an endpoint for an application's events; prints its secret (whsec_...) once.

    Challenge events go to the endpoints of the app that created the challenge; device and user
    events to every app allowed to act for that user. Needs PUSHAUTH_SECRET on the server.
    """
    from pushauth_server.client import calls

    wanted = [e.strip() for item in events or [] for e in item.split(",") if e.strip()] or None
    created = run_call(
        url, api_key, calls.add_webhook(url=endpoint_url, app=application, events=wanted)
    )
    if json:
        print_json(created)
        return
    out.print(
        f"[green]Added[/] {escape(created['endpoint_id'])} for app "
        f"{escape(visible(created['app']))}: {escape(visible(created['url']))}"
    )
    _secret_notice(created["secret"])


@app.command(name="list", cls=Command)
def list_endpoints(
    application: Annotated[
        str | None, typer.Option("--app", help="Only this application's.", metavar="NAME")
    ] = None,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """List webhook endpoints: id, application, URL, events."""
    from pushauth_server.client import calls

    found = run_call(url, api_key, calls.list_webhooks(application))
    if json:
        print_json({"endpoints": found})
        return
    if not found:
        err.print("No webhook endpoints. Add one with: pushauth webhooks add URL --app NAME")
        return
    columns = (
        Column("endpoint id", is_id=True),
        Column("app", is_id=True),
        Column("url"),
        Column("events", priority=1),
        Column(f"old secret until ({local_zone()})", priority=2, min_width=10),
    )
    rows = [
        [
            Text(visible(e["endpoint_id"])),
            Text(visible(e["app"])),
            Text(visible(e["url"])),
            Text(" ".join(e["events"]) if e["events"] else "all"),
            Text(local_time(e["previous_secret_until"], zone=False) or "-"),
        ]
        for e in found
    ]
    render(out, columns, rows, title="Webhook endpoints", notes=err)


@app.command(cls=Command)
def remove(
    endpoint_id: EndpointArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Remove an endpoint; its deliveries still pending are cancelled, not sent."""
    from pushauth_server.client import calls

    removed = run_call(url, api_key, calls.remove_webhook(endpoint_id))
    if json:
        print_json(removed)
        return
    out.print(
        f"[green]Removed[/] {escape(removed['endpoint_id'])} ({escape(visible(removed['url']))})."
    )


@app.command(name="test", cls=Command)
def send_test(
    endpoint_id: EndpointArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Send a webhook.test event to one endpoint, through the same outbox as real events."""
    from pushauth_server.client import calls

    queued = run_call(url, api_key, calls.send_test_webhook(endpoint_id))
    if json:
        print_json(queued)
        return
    out.print(f"Queued {escape(queued['delivery_id'])}; see it with: pushauth webhooks deliveries")


@app.command(name="rotate-secret", cls=Command)
def rotate_secret(
    endpoint_id: EndpointArg,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Give an endpoint a new secret; the old one keeps signing too for an overlap period.

    During the overlap each delivery carries two signatures (v1,... v1,...), so the receiver can
    switch to the new secret without missing one (PUSHAUTH_WEBHOOK_SECRET_OVERLAP_SECONDS).
    """
    from pushauth_server.client import calls

    rotated = run_call(url, api_key, calls.rotate_webhook_secret(endpoint_id))
    if json:
        print_json(rotated)
        return
    until = rotated.get("previous_secret_until")
    out.print(
        f"[green]New secret[/] for {escape(rotated['endpoint_id'])}"
        + (f"; the old one also signs until {local_time(until)}." if until else ".")
    )
    _secret_notice(rotated["secret"])


@app.command(cls=Command)
def deliveries(
    failed: Annotated[bool, typer.Option("--failed", help="Only failed deliveries.")] = False,
    endpoint_id: Annotated[
        str | None, typer.Option("--endpoint", help="Only this endpoint's.", metavar="ID")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Recent deliveries, newest first: event, status, attempts, last error."""
    from pushauth_server.client import calls

    call = calls.webhook_deliveries(
        status="failed" if failed else None, endpoint_id=endpoint_id, limit=limit
    )
    found = run_call(url, api_key, call)
    if json:
        print_json({"deliveries": found})
        return
    if not found:
        err.print("No failed deliveries." if failed else "No deliveries yet.")
        return
    columns = (
        Column("delivery id", is_id=True),
        Column("event", wraps=False),
        Column("status", wraps=False),
        Column("attempts", wraps=False, priority=1),
        Column("last error", priority=2),
        Column(f"created ({local_zone()})", priority=3, min_width=10),
    )
    colours = {"delivered": "green", "failed": "red", "pending": "yellow"}
    rows = [
        [
            Text(visible(d["delivery_id"])),
            Text(visible(d["event"])),
            Text(d["status"], style=colours.get(d["status"], "")),
            Text(str(d["attempts"])),
            Text(visible(d["last_error"] or "")),
            Text(local_time(d["created_at"], zone=False)),
        ]
        for d in found
    ]
    render(out, columns, rows, title="Webhook deliveries", notes=err)
    if failed:
        err.print("Send one again with: pushauth webhooks retry DELIVERY_ID")


@app.command(cls=Command)
def retry(
    delivery_id: Annotated[
        str,
        typer.Argument(
            help="A failed delivery's id (msg_..., from `pushauth webhooks deliveries --failed`).",
            metavar="DELIVERY_ID",
            show_default=False,
        ),
    ],
    url: ServerUrl = DEFAULT_SERVER_URL,
    api_key: ApiKey = "",
    json: Json = False,
) -> None:
    """Send a failed delivery again (same webhook-id), with a new retry period."""
    from pushauth_server.client import calls

    row: dict[str, Any] = run_call(url, api_key, calls.retry_webhook_delivery(delivery_id))
    if json:
        print_json(row)
        return
    out.print(f"Queued {escape(row['delivery_id'])} again.")


__all__ = ["app"]
