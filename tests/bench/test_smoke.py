"""The benchmark at tiny scale: every figure is in the JSON and every flow was a verified approval.

Timings are never asserted here (speed lives in the benchmark's own report); this only proves the
benchmark runs end to end against a real ``pushauth serve`` and measures what it claims to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench import BenchConfig, run_benchmark
from bench.cli import write_outputs
from bench.report import render

pytestmark = [pytest.mark.bench, pytest.mark.timeout(90)]

LATENCY_KEYS = {"count", "min", "p50", "p95", "p99", "max", "mean"}


def tiny(out_dir: Path) -> BenchConfig:
    return BenchConfig.quick(
        out_dir=out_dir,
        label="smoke",
        round_trip_flows=3,
        warmup_flows=1,
        concurrency=(1, 2),
        throughput_seconds=0.2,
        device_levels=(4, 8),
        flows_per_device_level=2,
        health_seconds=0.2,
        health_concurrency=2,
        health_round_trips=5,
        polling_pairs=2,
        polling_flows_per_pair=1,
        rp_poll_seconds=0.05,  # the real baseline polls every 2 s / 3 s; only the shape matters
        device_poll_seconds=0.05,
        tui_samples=1,
        idle_cpu_seconds=0.2,
        plot=False,
    )


def assert_all_approved(section: dict[str, Any]) -> None:
    assert section["flows"] > 0
    assert section["approved"] == section["flows"], section["errors"]
    assert section["failed"] == 0
    for leg in ("notify_ms", "resolve_ms", "total_ms"):
        assert set(section[leg]) == LATENCY_KEYS
        assert section[leg]["count"] == section["approved"]


async def test_tiny_run_reports_every_figure(tmp_path: Path) -> None:
    config = tiny(tmp_path)
    results = await run_benchmark(config)
    [json_path] = write_outputs(results, config, Console(file=None, quiet=True))
    data = json.loads(json_path.read_text())

    assert data["machine"]["cpu_count"] >= 1
    assert data["machine"]["versions"]["litestar"]
    assert (
        data["machine"]["open_file_limit"]["soft"]
        >= data["machine"]["open_file_limit"]["soft_before"]
    )
    assert data["database"] == "sqlite"

    assert_all_approved(data["round_trip"])
    assert data["round_trip"]["flows"] == 3

    assert [level["concurrency"] for level in data["throughput"]] == [1, 2]
    for level in data["throughput"]:
        assert_all_approved(level)
        assert level["flows_per_second"] > 0
        assert level["server_cpu_ms_per_flow"] >= 0

    health = data["baselines"]["health"]
    assert health["requests"] > 0
    assert set(health["round_trip_ms"]) == LATENCY_KEYS
    polling = data["baselines"]["polling"]
    assert_all_approved(polling)
    assert polling["flows"] == 2

    connected = data["connected_devices"]
    assert [level["devices"] for level in connected["levels"]] == [4, 8]
    for level in connected["levels"]:
        assert level["open_streams"] == level["devices"]
        assert level["rss_kib"] > 0
        assert_all_approved(level["round_trip"])
    assert connected["enrollments_per_second"] > 0

    assert data["tui"]["status"] in {"ok", "not available", "error"}
    if data["tui"]["status"] == "ok":
        assert data["tui"]["samples"] == 1

    assert len(data["samples"]["round_trip_total_ms"]) == 3
    assert len(data["samples"]["polling_total_ms"]) == 2
    names = [target["name"] for target in data["targets"]]
    assert len(names) == 11
    # Every target is measured, but those of the 8-relying-party level this tiny run skips.
    unmeasured = [t["name"] for t in data["targets"] if t["measured"] is None]
    assert all("8 relying parties" in name or "/ per GET /health" in name for name in unmeasured)
    assert data["baselines"]["health"]["server_cpu_ms_per_request"] > 0

    render(data, Console(file=None, quiet=True))  # the table renders from the JSON alone
