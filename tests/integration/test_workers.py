"""``pushauth serve --workers 2`` on PostgreSQL + Redis: one port, two processes, one deployment.

A device's stream is held by one worker while challenges are created (and answered) through
connections the kernel hands to either worker: every challenge reaches the device, both workers
serve requests (their pids are in the request lines), the metrics add up across workers whichever
answers the scrape, and Ctrl-C (SIGINT to the parent) stops every worker gracefully.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.helpers import challenge, enroll_device, signin_no_wait, watching
from tests.integration.test_scale_out import postgres_database  # noqa: F401  (a fixture)
from tests.server.server_log import wait_for_lines
from tests.support.processes import Commands, running_server
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.postgres

METRICS_TOKEN = "mt_" + "w" * 40
MAX_FLOWS = 16  # until both workers have created a challenge (the kernel picks: ~always < 6)


def _requests(log: list[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log if line.startswith("{")]
    return [line for line in lines if line["logger"] == "pushauth.request"]


def _creates(log: list[str]) -> list[dict[str, Any]]:
    return [
        line
        for line in _requests(log)
        if line["route"] == "/v1/challenges" and line["method"] == "POST"
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _approved_count(metrics: str) -> float:
    match = re.search(
        r'^pushauth_challenges_total\{outcome="approved",reason=""\} (\S+)$', metrics, re.MULTILINE
    )
    return float(match.group(1)) if match else 0.0


async def test_two_workers_share_streams_and_stop_together(
    postgres_database: str,
    redis_server: RedisServer,
    keyring_env: dict[str, str],
    tmp_path: Path,
) -> None:
    settings = {
        "PUSHAUTH_CHANNELS_BACKEND": "redis",
        "PUSHAUTH_REDIS_URL": redis_server.url,
        "PUSHAUTH_SECRET": "workers-" + secrets.token_hex(16),
        "PUSHAUTH_METRICS_TOKEN": METRICS_TOKEN,
    }
    args = ["--workers", "2", "--log-level", "info", "--log-format", "json"]
    with running_server(tmp_path, postgres_database, settings, args) as server:
        assert server.process is not None
        [ready] = [line for line in server.log if "pushauth ready on" in line]
        workers = {int(pid) for pid in re.findall(r"\d+", ready.split("pids", 1)[1])}
        assert len(workers) == 2
        commands = Commands(server=server, env_extra=keyring_env)
        home = tmp_path / "phone"
        enroll_device(commands, home, "wanda")
        # A fresh Redis sets its nonce epoch at the first proof it sees and refuses that one
        # proof as stale (pushauth_server/nonces.py); `watch` gives up on it, so spend it here.
        commands.device(home, "pending")

        flows = 0
        with watching(commands, home) as watcher:
            while flows < MAX_FLOWS and len({c["pid"] for c in _creates(server.log)}) < 2:
                created = signin_no_wait(commands, "wanda")
                arrived = await asyncio.to_thread(watcher.next)  # over the one open stream
                assert arrived["challenge_id"] == created["challenge_id"]
                code = str(challenge(commands, arrived["challenge_id"])["verification_code"])
                approved = commands.device(home, "approve", arrived["challenge_id"], "--code", code)
                assert approved.returncode == 0, approved.stderr
                flows += 1
                await asyncio.to_thread(wait_for_lines, server, '"method":"POST"', flows)
            create_pids = {line["pid"] for line in _creates(server.log)}
            assert create_pids == workers, "the kernel never gave the second worker a create"

            # Counted once per flow, whichever worker answers the scrape (fresh connections).
            for _ in range(4):
                async with httpx.AsyncClient(base_url=server.url) as http:
                    scraped = await http.get(
                        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
                    )
                assert scraped.status_code == 200
                assert _approved_count(scraped.text) == flows

            # Ctrl-C: the parent stops every worker; each ends its streams and exits.
            os.kill(server.process.pid, signal.SIGINT)
            assert server.process.wait(30) == 0
        log = list(server.log)

    for pid in workers:
        assert not _alive(pid), f"worker {pid} outlived its parent"
    [stream] = [line for line in _requests(log) if line["route"] == "/v1/device/stream"]
    # The stream's worker got challenges created through the other one.
    assert any(line["pid"] != stream["pid"] for line in _creates(log))
    assert {line["pid"] for line in _requests(log)} == workers
    assert not [line for line in log if "Traceback" in line]


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_all(
    postgres_database: str,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    settings = {
        "PUSHAUTH_CHANNELS_BACKEND": "redis",
        "PUSHAUTH_REDIS_URL": redis_server.url,
        "PUSHAUTH_SECRET": "workers-" + secrets.token_hex(16),
    }
    args = ["--workers", "2", "--log-level", "info", "--log-format", "json"]
    with running_server(tmp_path, postgres_database, settings, args) as server:
        assert server.process is not None
        [ready] = [line for line in server.log if "pushauth ready on" in line]
        workers = {int(pid) for pid in re.findall(r"\d+", ready.split("pids", 1)[1])}
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        [died] = wait_for_lines(server, f"worker {killed} died", 1)
        assert json.loads(died)["logger"] == "pushauth.workers"
        # Its replacement serves: some request is answered by a pid that is neither original.
        served: set[int] = set()
        for _ in range(200):  # bounded: the kernel picks the worker of each new connection
            with httpx.Client(base_url=server.url) as fresh:
                assert fresh.get("/ready").status_code == 200
            served = {line["pid"] for line in _requests(list(server.log))}
            if served - workers:
                break
        assert served - workers, "no request reached the replacement worker"
        server.process.terminate()  # SIGTERM, as systemd stops it
        assert server.process.wait(30) == 0
        everyone = (workers | served) - {killed}
    for pid in everyone:
        assert not _alive(pid), f"worker {pid} outlived its parent"
