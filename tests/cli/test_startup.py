"""`pushauth` starts fast: the CLI's modules import none of the heavy server libraries.

Deterministic, not a timing: the figures are in docs/performance.md ("CLI start-up").
"""

from __future__ import annotations

import subprocess
import sys

# (pydantic itself is loaded by Typer 0.29 to build any command: not ours to avoid.)
HEAVY = ("uvicorn", "litestar", "sqlalchemy", "pydantic_settings", "httpx", "alembic")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


def test_importing_the_cli_loads_no_server_library() -> None:
    loaded = _loaded_after("import pushauth_cli.main")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "pushauth_server.client" not in loaded


def test_help_loads_no_server_library() -> None:
    code = (
        "import sys\nfrom pushauth_cli.main import app\n"
        "try:\n    app(['signin', '--help'])\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
