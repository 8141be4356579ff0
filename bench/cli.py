"""``python -m bench``: run the benchmark, print the table, write the JSON and the PNG."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from bench.config import RESULTS_DIR, BenchConfig
from bench.plot import PlotUnavailable, plot_round_trips
from bench.report import render, write_json
from bench.runner import run_benchmark

T = TypeVar("T")


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas: {text!r}") from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("expected positive numbers")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark a real `pushauth serve`: push round trips, throughput, idle "
        "device streams, the GET /health floor and the polling baseline, in one run.",
    )
    p.add_argument(
        "--quick", action="store_true", help="Every measurement at small scale (<1 min)."
    )
    p.add_argument(
        "--database-url",
        help="Server database (default: a fresh SQLite file). E.g. "
        "postgresql+asyncpg://user@127.0.0.1/pushauth_bench",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="Run `pushauth serve --workers N` with Redis channels (needs --database-url "
        "postgresql+asyncpg://...; 1 gives the like-for-like single process).",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis for --workers.")
    p.add_argument("--devices", type=_ints, help="Idle stream levels, e.g. 1000,5000,10000,15000.")
    p.add_argument("--concurrency", type=_ints, help="Relying-party levels, e.g. 1,8,32,128.")
    p.add_argument("--flows", type=int, help="Round-trip flows measured one at a time.")
    p.add_argument("--seconds", type=float, help="Duration of each throughput level.")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="Results directory.")
    p.add_argument("--no-plot", action="store_true", help="Skip the PNG.")
    return p


def config_from(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    overrides: dict[str, Any] = {"out_dir": args.out, "plot": not args.no_plot}
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.workers:
        overrides["workers"] = args.workers
        overrides["redis_url"] = args.redis_url
    if args.devices:
        overrides["device_levels"] = args.devices
    if args.concurrency:
        overrides["concurrency"] = args.concurrency
    if args.flows:
        overrides["round_trip_flows"] = args.flows
    if args.seconds:
        overrides["throughput_seconds"] = args.seconds
    return replace(config, **overrides)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """On uvloop when installed (as the server runs), else asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def write_outputs(results: dict[str, Any], config: BenchConfig, console: Console) -> list[Path]:
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    workers = f"-{config.workers}w" if config.workers else ""
    stem = f"bench-{config.label}-{results['database']}{workers}-{stamp}"
    written = [write_json(results, config.out_dir / f"{stem}.json")]
    if config.plot:
        try:
            written.append(
                plot_round_trips(
                    {
                        "pushauth (SSE push)": results["samples"]["round_trip_total_ms"],
                        "polling baseline (2 s / 3 s)": results["samples"]["polling_total_ms"],
                    },
                    config.out_dir / f"{stem}.png",
                    title=f"pushauth vs polling, {results['machine']['cpu_count']} CPUs, "
                    f"{results['database']}, {results['date'][:10]}",
                )
            )
        except PlotUnavailable as exc:
            console.print(f"[yellow]No plot:[/] {exc}")
    return written


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = config_from(args)
    console = Console(stderr=True)
    results = _run(run_benchmark(config, progress=lambda message: console.log(message)))
    render(results, Console())
    for path in write_outputs(results, config, console):
        console.print(f"wrote {path}")
    failed = sum(
        section["failed"]
        for section in (
            results["round_trip"],
            results["baselines"]["polling"],
            *results["throughput"],
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
