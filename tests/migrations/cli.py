"""The real ``pushauth`` command for the migration tests, with nothing from the developer's
environment (and no ./.env: it runs in a directory of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.processes import API_KEY, clean_env


def pushauth(workdir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "pushauth_cli", *args],
        cwd=workdir,
        env=clean_env({"PUSHAUTH_API_KEY": API_KEY}),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def db(workdir: Path, command: str, url: str) -> dict[str, Any]:
    """``pushauth db COMMAND --json`` on ``url``: its JSON (the command must succeed)."""
    result = pushauth(workdir, "db", command, "--database-url", url, "--json")
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found
