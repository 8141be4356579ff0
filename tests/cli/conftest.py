"""CLI tests run `pushauth` in an empty directory: no developer .env, no PUSHAUTH_* variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PUSHAUTH_"):
            monkeypatch.delenv(name)
    return CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})
