"""Render a results JSON as the Markdown tables in docs/performance.md.

``python -m bench.markdown bench/results/bench-full-sqlite-….json``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _ms(summary: dict[str, Any], key: str) -> str:
    value = summary.get(key)
    return "-" if value is None else f"{value:,.1f}"


def _legs(label: str, summary: dict[str, Any]) -> str:
    return (
        f"| {label} | {summary.get('count', 0)} | "
        + " | ".join(_ms(summary, k) for k in ("p50", "p95", "p99", "max"))
        + " |"
    )


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"Run of {results['date']} ({results['preset']} preset, {results['database']}, "
        f"{results['duration_seconds']:.0f} s): {machine['cpu_count']} x {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB, {machine['platform']}, Python {machine['python']}, "
        f"open files {machine['open_file_limit']['soft']:,} (was "
        f"{machine['open_file_limit']['soft_before']:,}), load average "
        f"{machine.get('load_average_at_start')} at start, "
        f"{machine.get('load_average_at_end')} at end.",
        "",
        "| latency (ms) | samples | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rt, polling = results["round_trip"], results["baselines"]["polling"]
    health, tui = results["baselines"]["health"], results["tui"]
    lines += [
        _legs("push: create → device notified", rt["notify_ms"]),
        _legs("push: answer posted → relying party notified", rt["resolve_ms"]),
        _legs("**push: round trip**", rt["total_ms"]),
        _legs("polling: create → device notices", polling["notify_ms"]),
        _legs("polling: answer posted → relying party notices", polling["resolve_ms"]),
        _legs("**polling: round trip**", polling["total_ms"]),
        _legs("floor: `GET /health`", health["round_trip_ms"]),
    ]
    for level in results["connected_devices"]["levels"]:
        lines.append(
            _legs(
                f"push round trip, {level['devices']:,} devices connected",
                level["round_trip"]["total_ms"],
            )
        )
    if tui.get("status") == "ok":
        lines.append(_legs("device app: create → request screen", tui["display_ms"]))
    lines += [
        "",
        "| relying parties | flows/s | flows ok / failed | p50 ms | p99 ms "
        "| server CPU ms/flow | server CPU use |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in results["throughput"]:
        lines.append(
            f"| {level['concurrency']} | {level['flows_per_second']:,.1f} | "
            f"{level['approved']} / {level['failed']} | {_ms(level['total_ms'], 'p50')} | "
            f"{_ms(level['total_ms'], 'p99')} | {level['server_cpu_ms_per_flow']:.1f} | "
            f"{level['server_cpu_utilisation']:.0%} |"
        )
    lines.append(
        f"| `GET /health` x {health['concurrency']} | {health['requests_per_second']:,.0f} req/s "
        "| | | | | |"
    )
    connected = results["connected_devices"]
    lines += [
        "",
        "| idle devices | open streams | connects/s | failed opens | server CPU, idle "
        "| server RSS MiB | KiB per connection | round trip p50 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in connected["levels"]:
        lines.append(
            f"| {level['devices']:,} | {level['open_streams']:,} | "
            f"{level['connects_per_second']:,.0f} | {level.get('failed_connects', 0)} | "
            f"{level.get('idle_server_cpu_utilisation', 0):.0%} | {level['rss_kib'] / 1024:,.1f} | "
            f"{level['kib_per_connection']:.1f} | {_ms(level['round_trip']['total_ms'], 'p50')} | "
            f"{_ms(level['round_trip']['total_ms'], 'p99')} |"
        )
    if connected["skipped_levels"]:
        why = connected.get("skipped_reason", "over the open-file capacity")
        lines.append(f"\nSkipped levels {connected['skipped_levels']}: {why}.")
    for line in connected.get("server_errors", []):
        lines.append(f"\nServer error: `{line}`")
    if "enrollments_per_second" in connected:
        lines.append(
            f"\nEnrolling the idle devices through the API ran at "
            f"{connected['enrollments_per_second']:,.0f} devices/s."
        )
    if tui.get("status") != "ok":
        lines.append(f"\nDevice app: {tui['status']} ({tui.get('reason', '')}).")
    lines += ["", "| target | wanted | measured | met |", "|---|---:|---:|:---:|"]
    for item in results["targets"]:
        measured = "-" if item["measured"] is None else f"{item['measured']:,.3g} {item['unit']}"
        met = {True: "yes", False: "**no**", None: "-"}[item["met"]]
        lines.append(f"| {item['name']} | {item['target']} | {measured} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.markdown RESULTS.json", file=sys.stderr)
        return 2
    print(render(json.loads(Path(args[0]).read_text(encoding="utf-8"))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
