"""What a run found: the targets each figure is judged against, the Rich table, the JSON file.

Targets are stated by the benchmark and judged here; tests never assert them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# Issue 8's targets (the lean hot path), with issue 5's that still stand.
RP_P50_MS = 10.0
RP_P99_MS = 25.0
FLOWS_PER_SECOND = 200.0  # at THROUGHPUT_CONCURRENCY concurrent relying parties
THROUGHPUT_CONCURRENCY = 8
FLOW_CPU_OVER_HEALTH = 8.0  # server CPU per flow / server CPU per GET /health, same run
SPEEDUP_OVER_POLLING = 500.0
CONNECTED_DEVICES = 15_000
KIB_PER_CONNECTION = 32.0
SCREEN_MS = 100.0


def _target(
    name: str, target: str, measured: float | None, unit: str, met: bool | None
) -> dict[str, Any]:
    return {
        "name": name,
        "target": target,
        "measured": None if measured is None else round(measured, 3),
        "unit": unit,
        "met": met,
    }


def _at_most(name: str, measured: float | None, limit: float, unit: str) -> dict[str, Any]:
    met = None if measured is None else measured <= limit
    return _target(name, f"<= {limit:,g} {unit}", measured, unit, met)


def _at_least(name: str, measured: float | None, floor: float, unit: str) -> dict[str, Any]:
    met = None if measured is None else measured >= floor
    return _target(name, f">= {floor:,g} {unit}", measured, unit, met)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 5 next to the figure it judges; ``met`` is None if not measured."""
    total = results["round_trip"]["total_ms"]
    polling = results["baselines"]["polling"]["total_ms"]
    speedup = polling["p50"] / total["p50"] if total.get("count") and polling.get("count") else None
    best = max(results["throughput"], key=lambda level: level["flows_per_second"], default=None)
    health = results["baselines"]["health"]
    health_rate = health["requests_per_second"]
    at_8 = next(
        (x for x in results["throughput"] if x["concurrency"] == THROUGHPUT_CONCURRENCY), None
    )
    flow_cpu = at_8["server_cpu_ms_per_flow"] if at_8 else None
    health_cpu = health.get("server_cpu_ms_per_request")
    cpu_ratio = flow_cpu / health_cpu if flow_cpu and health_cpu else None
    flow_cpu_text = (
        f"{flow_cpu:.2f} ms / {health_cpu:.3f} ms" if flow_cpu and health_cpu else "not measured"
    )
    levels = results["connected_devices"]["levels"]
    top = levels[-1] if levels else None
    tui = results["tui"]
    screen = tui["display_ms"].get("p99") if tui.get("status") == "ok" else None
    return [
        _at_most("round trip p50, one at a time", total.get("p50"), RP_P50_MS, "ms"),
        _at_most("round trip p99, one at a time", total.get("p99"), RP_P99_MS, "ms"),
        _at_least("faster than the polling baseline (median)", speedup, SPEEDUP_OVER_POLLING, "x"),
        _at_least(
            f"flows per second at {THROUGHPUT_CONCURRENCY} relying parties ({results['database']})",
            at_8["flows_per_second"] if at_8 else None,
            FLOWS_PER_SECOND,
            "flows/s",
        ),
        _at_most(
            f"server CPU per flow / per GET /health ({flow_cpu_text})",
            cpu_ratio,
            FLOW_CPU_OVER_HEALTH,
            "x",
        ),
        _target(
            "flows per second / GET /health per second",
            "reported",
            best["flows_per_second"] / health_rate if best and health_rate else None,
            "ratio",
            None,
        ),
        _at_least(
            "idle devices connected to one process",
            top["open_streams"] if top else None,
            CONNECTED_DEVICES,
            "devices",
        ),
        _at_most(
            "failed stream opens (all levels)",
            sum(level.get("failed_connects", 0) for level in levels) if levels else None,
            0,
            "opens",
        ),
        _at_most(
            f"server memory per connection at {top['devices'] if top else 0:,} devices",
            top["kib_per_connection"] if top else None,
            KIB_PER_CONNECTION,
            "KiB",
        ),
        _at_most(
            f"round trip p99 with {top['devices'] if top else 0:,} devices connected",
            top["round_trip"]["total_ms"].get("p99") if top else None,
            RP_P99_MS,
            "ms",
        ),
        _at_most("request screen shown after creation (p99)", screen, SCREEN_MS, "ms"),
    ]


def _ms(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return "-" if value is None else f"{value:,.2f}"


def render(results: dict[str, Any], console: Console) -> None:
    machine = results["machine"]
    console.print(
        f"[bold]pushauth benchmark[/] ({results['preset']}) {results['date']} on "
        f"{machine['cpu_count']} x {machine['cpu_model']}, Python {machine['python']}, "
        f"{results['database']}, {results.get('workers', 1)} worker(s), "
        f"open files {machine['open_file_limit']['soft']:,}, "
        f"load average {machine['load_average_at_start']} -> {machine['load_average_at_end']}"
    )
    latency = Table(title="Latency (ms)", title_justify="left")
    for column in ("measurement", "flows", "ok", "p50", "p95", "p99", "max"):
        latency.add_column(column, justify="left" if column == "measurement" else "right")

    def row(label: str, summary: dict[str, Any], flows: Any = "", ok: Any = "") -> None:
        latency.add_row(
            label, str(flows), str(ok), *(_ms(summary, k) for k in ("p50", "p95", "p99", "max"))
        )

    rt = results["round_trip"]
    row("push: create -> device notified", rt["notify_ms"], rt["flows"], rt["approved"])
    row("push: response -> relying party notified", rt["resolve_ms"])
    row("push: round trip", rt["total_ms"])
    polling = results["baselines"]["polling"]
    row(
        "polling: create -> device notices",
        polling["notify_ms"],
        polling["flows"],
        polling["approved"],
    )
    row("polling: response -> relying party notices", polling["resolve_ms"])
    row("polling: round trip", polling["total_ms"])
    health = results["baselines"]["health"]
    row("floor: GET /health", health["round_trip_ms"], health["round_trip_ms"]["count"])
    for level in results["connected_devices"]["levels"]:
        row(
            f"push round trip, {level['devices']:,} devices connected",
            level["round_trip"]["total_ms"],
            level["round_trip"]["flows"],
            level["round_trip"]["approved"],
        )
    tui = results["tui"]
    if tui.get("status") == "ok":
        row("device app: create -> request screen", tui["display_ms"], tui["samples"])
    console.print(latency)

    rates = Table(title="Throughput", title_justify="left")
    for column in (
        "relying parties",
        "flows/s",
        "ok",
        "failed",
        "p50 ms",
        "p99 ms",
        "server CPU ms/flow",
        "server CPU use",
    ):
        rates.add_column(column, justify="right")
    for level in results["throughput"]:
        rates.add_row(
            str(level["concurrency"]),
            f"{level['flows_per_second']:,.0f}",
            str(level["approved"]),
            str(level["failed"]),
            _ms(level["total_ms"], "p50"),
            _ms(level["total_ms"], "p99"),
            f"{level['server_cpu_ms_per_flow']:.2f}",
            f"{level['server_cpu_utilisation']:.0%}",
        )
    rates.add_row(
        f"GET /health x{health['concurrency']}",
        f"{health['requests_per_second']:,.0f} req/s",
        *[""] * 6,
    )
    console.print(rates)

    connected = results["connected_devices"]
    memory = Table(title="Connected devices (idle streams)", title_justify="left")
    for column in (
        "devices",
        "open",
        "connects/s",
        "failed",
        "idle CPU",
        "server RSS MiB",
        "KiB/connection",
        "p99 ms",
    ):
        memory.add_column(column, justify="right")
    for level in connected["levels"]:
        memory.add_row(
            f"{level['devices']:,}",
            f"{level['open_streams']:,}",
            f"{level['connects_per_second']:,.0f}",
            str(level["failed_connects"]),
            f"{level['idle_server_cpu_utilisation']:.0%}",
            f"{level['rss_kib'] / 1024:,.1f}",
            f"{level['kib_per_connection']:.1f}",
            _ms(level["round_trip"]["total_ms"], "p99"),
        )
    if connected["skipped_levels"]:
        why = connected.get("skipped_reason") or (
            f"over the open-file capacity ({connected['capacity']:,} of limit "
            f"{connected['open_file_limit']:,})"
        )
        memory.caption = f"skipped {connected['skipped_levels']}: {why}"
    console.print(memory)
    if tui.get("status") != "ok":
        console.print(f"device app: {tui['status']} ({tui.get('reason', '')})")

    judged = Table(title="Targets", title_justify="left")
    for column in ("target", "wanted", "measured", "met"):
        judged.add_column(column, justify="left" if column == "target" else "right")
    for item in results["targets"]:
        measured = "-" if item["measured"] is None else f"{item['measured']:,.3g} {item['unit']}"
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[item["met"]]
        judged.add_row(item["name"], item["target"], measured, met)
    console.print(judged)


def write_json(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path
