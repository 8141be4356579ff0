"""The served OpenAPI document is the API (issue 9): Schemathesis against a real server.

Schemathesis reads ``/schema/openapi.json`` from a running ``pushauth serve`` and sends what the
document allows and what it forbids, for a bounded time. The run fails on any 5xx, any status,
content type, header or body the document does not describe, and any schema-invalid request that
is accepted. The seed is fixed, so CI is reproducible; ``PUSHAUTH_FUZZ_SEED`` and
``PUSHAUTH_FUZZ_SECONDS`` change it and the time budget for a longer hunt.

Left out, on purpose: ``positive_data_acceptance`` (a schema-valid request may still be refused
for a reason no schema can hold: an unknown token, a user without a device, a rate limit).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import StartServer
from tests.support.processes import API_KEY

SEED = os.environ.get("PUSHAUTH_FUZZ_SEED", "20261124")
SECONDS = os.environ.get("PUSHAUTH_FUZZ_SECONDS", "45")


@pytest.mark.fuzz
@pytest.mark.timeout(240)
def test_the_api_matches_its_openapi_document(start_server: StartServer) -> None:
    # Schemathesis sends every operation a request with a wrong key; past the per-address
    # failure limit (30 a minute; tests/server/test_bounded_noise.py) every route would answer
    # 429, and the run would check nothing behind it. One address here: lift the limit.
    server = start_server(failed_requests_per_minute="100000")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/schema/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        SECONDS,
        "--max-examples",
        "25",
        "--workers",
        "1",
        "--seed",
        SEED,
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {API_KEY}",
        "--no-color",
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=200,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=server.workdir,  # its report directory lands there, not in the repository
    )
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    assert "Test cases:" in result.stdout, report  # it really ran
    log = "".join(server.log)
    assert "Traceback" not in log, log[-10_000:]
