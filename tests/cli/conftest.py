"""CLI tests run `pushauth` in an empty directory: no developer .env, no PUSHAUTH_* variables.

`pushauth` loads ./.env into its process's environment (and `init` sets the new key there):
in-process runs would leave that behind, so the PUSHAUTH_* variables are put back afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    saved = {k: v for k, v in os.environ.items() if k.startswith("PUSHAUTH_")}
    for name in saved:
        del os.environ[name]
    try:
        yield CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})
    finally:
        for name in [k for k in os.environ if k.startswith("PUSHAUTH_")]:
            del os.environ[name]
        os.environ.update(saved)
