"""The gauges of open streams, on a real server: a device's stream and a relying party's wait
are counted while open and no longer once closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import StartServer
from tests.integration.helpers import challenge, enroll_device, start_signin, watching
from tests.support.processes import Commands

TOKEN = "mt_" + "s" * 40


def gauge(url: str, name: str, **labels: str) -> float:
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw: {what}")
        pause.wait(0.05)


def test_open_streams_and_waiters_are_counted(
    start_server: StartServer, keyring_env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server(metrics_token=TOKEN)
    commands = Commands(server=server, env_extra=keyring_env)
    home = tmp_path / "phone"
    enroll_device(commands, home, "gina")
    assert gauge(server.url, "pushauth_device_streams") == 0
    with watching(commands, home):
        assert gauge(server.url, "pushauth_device_streams") == 1
        signin, challenge_id = start_signin(commands, "gina")
        wait_until(
            "the relying party waiting",
            lambda: gauge(server.url, "pushauth_waiters", kind="events") == 1,
        )
        code = str(challenge(commands, challenge_id)["verification_code"])
        assert commands.device(home, "approve", challenge_id, "--code", code).returncode == 0
        signin.communicate(timeout=60)
        wait_until(
            "the wait over", lambda: gauge(server.url, "pushauth_waiters", kind="events") == 0
        )
    wait_until("the stream closed", lambda: gauge(server.url, "pushauth_device_streams") == 0)
