"""One benchmark run, start to finish: server up, every measurement, server down, one dict.

Order matters and is fixed: the floor first (a cold server is no excuse later), then push flows
one at a time, throughput, the polling baseline and the device app, and the idle streams last,
because 15,000 of them change the server for everything after.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.baselines import PollingDevice, health_floor, polling_baseline
from bench.config import BenchConfig
from bench.devices import StreamingDevice, enroll_many, relying_party
from bench.flows import flow_summary, one_at_a_time, throughput
from bench.idle import IDLE_PER_ADDRESS, IdleFleet
from bench.machine import load_average, machine_info
from bench.report import targets
from bench.server import ServerProcess, raise_open_file_limit
from bench.tui import measure_tui
from pushauth_server.client import DeviceIdentity, PushAuthClient, calls

CONNECT_TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 1.0  # let the server finish what the last connections started before reading RSS
FD_RESERVE = 1_000  # descriptors kept free for the flow clients, the database and Python

Progress = Callable[[str], None]


def _errors(server: ServerProcess) -> list[str]:
    """The server's last distinct error lines (exception messages), for the report."""
    lines = [line.strip() for line in server.log if "Error" in line and ":" in line]
    return list(dict.fromkeys(lines))[-5:]


def _quiet(_: str) -> None:
    pass


async def run_benchmark(config: BenchConfig, progress: Progress = _quiet) -> dict[str, Any]:
    """Run every measurement of ``config`` against a fresh ``pushauth serve``; the results."""
    open_files = raise_open_file_limit()
    with tempfile.TemporaryDirectory(prefix="pushauth-bench-") as workdir:
        database_url = config.database_url or f"sqlite:///{workdir}/bench.db"
        server = ServerProcess(
            workdir=Path(workdir),
            database_url=database_url,
            env_extra={**connection_limits(open_files), **_workers_env(config)},
            workers=config.workers or 1,
        )
        progress(
            f"starting pushauth serve on {server.url} ({_database_kind(database_url)}, "
            f"{config.workers or 1} worker(s))"
        )
        await asyncio.to_thread(server.start)
        try:
            results = await _measure(config, server, open_files, progress)
        finally:
            await asyncio.to_thread(server.stop)
    results["targets"] = targets(results)
    return results


def connection_limits(open_files: dict[str, int]) -> dict[str, str]:
    """The server's connection caps for a benchmark: as many connections as its open files allow,
    and enough for the load generator's own clients on 127.0.0.1 (idle devices come from many
    loopback addresses, IDLE_PER_ADDRESS each, as many devices come from many clients)."""
    total = max(open_files["soft"] - 64, 4 * IDLE_PER_ADDRESS)
    return {
        "PUSHAUTH_MAX_CONNECTIONS": str(total),
        "PUSHAUTH_MAX_CONNECTIONS_PER_CLIENT": str(min(total // 2, 2 * IDLE_PER_ADDRESS)),
    }


def _workers_env(config: BenchConfig) -> dict[str, str]:
    """Redis channels (and nonces) for a run with ``--workers``: what several workers need."""
    if config.workers is None:
        return {}
    return {
        "PUSHAUTH_CHANNELS_BACKEND": "redis",
        "PUSHAUTH_REDIS_URL": config.redis_url,
        "PUSHAUTH_SECRET": "bench-" + secrets.token_urlsafe(24),
    }


def _database_kind(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


async def _measure(
    config: BenchConfig, server: ServerProcess, open_files: dict[str, int], progress: Progress
) -> dict[str, Any]:
    run = secrets.token_hex(3)  # user ids unique per run, so a reused PostgreSQL database works
    started = time.perf_counter()
    results: dict[str, Any] = {
        "schema": 1,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "preset": config.label,
        "database": _database_kind(server.database_url),
        "workers": config.workers or 1,
        "channels_backend": "redis" if config.workers else "memory",
        "machine": machine_info(open_files),
        "config": {
            "round_trip_flows": config.round_trip_flows,
            "concurrency": list(config.concurrency),
            "throughput_seconds": config.throughput_seconds,
            "device_levels": list(config.device_levels),
            "flows_per_device_level": config.flows_per_device_level,
            "polling_pairs": config.polling_pairs,
            "polling_flows_per_pair": config.polling_flows_per_pair,
            "rp_poll_seconds": config.rp_poll_seconds,
            "device_poll_seconds": config.device_poll_seconds,
        },
    }
    async with contextlib.AsyncExitStack() as stack:
        # One relying party (own client, own small pool) per concurrent flow, as in real life.
        rps = [
            await stack.enter_async_context(relying_party(server.url, server.api_key))
            for _ in range(max(*config.concurrency, config.health_concurrency))
        ]
        rp = rps[0]
        origin = (await rp.call(calls.health())).origin

        progress("floor: GET /health")
        health = await health_floor(
            rps[: config.health_concurrency],
            seconds=config.health_seconds,
            round_trips=config.health_round_trips,
            server_cpu=server.cpu_seconds,
        )

        progress(f"enrolling {max(config.concurrency)} streaming devices")
        users = [f"{run}-rp-{i:04d}" for i in range(max(config.concurrency))]
        identities = await enroll_many(
            server.url,
            server.api_key,
            origin=origin,
            user_ids=users,
            concurrency=config.enroll_concurrency,
        )
        devices = [
            StreamingDevice.for_identity(server.url, user, identity)
            for user, identity in zip(users, identities, strict=True)
        ]
        stack.push_async_callback(lambda: asyncio.gather(*(device.aclose() for device in devices)))
        await asyncio.gather(*(d.connect(CONNECT_TIMEOUT_SECONDS) for d in devices))
        pairs = list(zip(rps, devices, strict=False))
        results["round_trip"] = await _round_trip(config, rp, devices[0], progress)
        results["throughput"] = await _throughput(config, pairs, server, progress)
        polling = await _polling(config, rps, server, origin, run, progress)
        results["baselines"] = {"health": health, "polling": polling}
        progress("device app: creation -> request screen")
        results["tui"] = await measure_tui(
            rp, server.url, samples=config.tui_samples, user_id=f"{run}-tui"
        )
        results["connected_devices"] = await _connected(
            config, rp, devices[0], server, origin, run, open_files, progress
        )
        server.check_alive()
    results["samples"] = {
        "round_trip_total_ms": results["round_trip"].pop("_samples"),
        "polling_total_ms": results["baselines"]["polling"].pop("_samples"),
    }
    results["duration_seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_at_end"] = load_average()
    return results


async def _round_trip(
    config: BenchConfig, rp: PushAuthClient, device: StreamingDevice, progress: Progress
) -> dict[str, Any]:
    progress(f"round trip: {config.round_trip_flows} flows, one at a time")
    flows = await one_at_a_time(
        rp,
        device,
        flows=config.round_trip_flows,
        warmup=config.warmup_flows,
        timeout=config.flow_timeout_seconds,
    )
    summary = flow_summary(flows)
    summary["_samples"] = [round(f.total_ms, 3) for f in flows if f.approved]
    return summary


async def _throughput(
    config: BenchConfig,
    pairs: list[tuple[PushAuthClient, StreamingDevice]],
    server: ServerProcess,
    progress: Progress,
) -> list[dict[str, Any]]:
    levels = []
    for concurrency in config.concurrency:
        progress(f"throughput: {concurrency} concurrent relying parties")
        result = await throughput(
            pairs[:concurrency],
            seconds=config.throughput_seconds,
            flows_cap=config.throughput_flows_cap,
            timeout=config.flow_timeout_seconds,
            server_cpu=server.cpu_seconds,
        )
        levels.append(result.to_json())
    return levels


async def _polling(
    config: BenchConfig,
    rps: list[PushAuthClient],
    server: ServerProcess,
    origin: str,
    run: str,
    progress: Progress,
) -> dict[str, Any]:
    progress(
        f"polling baseline: {config.polling_pairs} pairs x {config.polling_flows_per_pair} flows "
        f"(relying party every {config.rp_poll_seconds:g} s, device every "
        f"{config.device_poll_seconds:g} s)"
    )
    users = [f"{run}-poll-{i:04d}" for i in range(config.polling_pairs)]
    identities = await enroll_many(
        server.url,
        server.api_key,
        origin=origin,
        user_ids=users,
        concurrency=config.enroll_concurrency,
    )
    devices = [
        PollingDevice(
            user_id=user,
            identity=identity,
            client=PushAuthClient(server.url, identity=identity),
            period=config.device_poll_seconds,
        )
        for user, identity in zip(users, identities, strict=True)
    ]
    try:
        flows = await polling_baseline(
            [(rps[i % len(rps)], device) for i, device in enumerate(devices)],
            flows_per_device=config.polling_flows_per_pair,
            rp_period=config.rp_poll_seconds,
            timeout=config.flow_timeout_seconds,
        )
    finally:
        await asyncio.gather(*(device.client.aclose() for device in devices))
    summary = flow_summary(flows)
    summary["rp_poll_seconds"] = config.rp_poll_seconds
    summary["device_poll_seconds"] = config.device_poll_seconds
    summary["_samples"] = [round(f.total_ms, 3) for f in flows if f.approved]
    return summary


async def _connected(
    config: BenchConfig,
    rp: PushAuthClient,
    device: StreamingDevice,
    server: ServerProcess,
    origin: str,
    run: str,
    open_files: dict[str, int],
    progress: Progress,
) -> dict[str, Any]:
    capacity = open_files["soft"] - FD_RESERVE - 2 * max(config.concurrency)
    levels = sorted(level for level in config.device_levels if level <= capacity)
    report: dict[str, Any] = {
        "open_file_limit": open_files["soft"],
        "capacity": capacity,
        "skipped_levels": sorted(set(config.device_levels) - set(levels)),
        "levels": [],
    }
    if not levels:
        return report
    budget_ends = time.perf_counter() + config.idle_budget_seconds
    progress(f"connected devices: up to {levels[-1]:,} idle devices, levels {levels}")
    enroll_seconds = 0.0
    identities: list[DeviceIdentity] = []
    fleet = IdleFleet(host="127.0.0.1", port=server.port)
    base = server.rss_kib()
    report["rss_kib_before_streams"] = base
    try:
        for level in levels:
            if time.perf_counter() > budget_ends:
                report["skipped_levels"].append(level)
                report["skipped_reason"] = f"time budget of {config.idle_budget_seconds:g} s"
                continue
            progress(f"connected devices: enrolling and connecting up to {level:,}")
            started = time.perf_counter()
            users = [f"{run}-idle-{i:05d}" for i in range(len(identities), level)]
            identities += await enroll_many(
                server.url,
                server.api_key,
                origin=origin,
                user_ids=users,
                concurrency=config.enroll_concurrency,
            )
            enroll_seconds += time.perf_counter() - started
            seconds, failures = await fleet.connect(
                identities[len(fleet) : level],
                concurrency=config.connect_concurrency,
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
            await asyncio.sleep(SETTLE_SECONDS)
            rss = server.rss_kib()
            cpu = server.cpu_seconds()
            await asyncio.sleep(config.idle_cpu_seconds)  # nothing but keep-alives happens now
            idle_cpu = (server.cpu_seconds() - cpu) / config.idle_cpu_seconds
            flows = await one_at_a_time(
                rp,
                device,
                flows=config.flows_per_device_level,
                warmup=5,
                timeout=config.flow_timeout_seconds,
            )
            open_streams = fleet.open_count()
            report["levels"].append(
                {
                    "devices": level,
                    "open_streams": open_streams,
                    "connects_per_second": round(len(users) / seconds, 1),
                    "failed_connects": len(failures),
                    "idle_server_cpu_utilisation": round(idle_cpu, 3),
                    "rss_kib": rss,
                    "kib_per_connection": round((rss - base) / max(open_streams, 1), 2),
                    "round_trip": flow_summary(flows),
                }
            )
            if failures:  # the server is past what it holds: say why, and go no higher
                report["first_connect_failure"] = repr(failures[0])
                report["server_errors"] = _errors(server)
                report["skipped_levels"] += [later for later in levels if later > level]
                report["skipped_reason"] = f"{len(failures)} stream opens failed at {level:,}"
                break
    finally:
        fleet.close()
    if identities:
        report["enroll_seconds"] = round(enroll_seconds, 2)
        report["enrollments_per_second"] = round(len(identities) / enroll_seconds, 1)
    return report
