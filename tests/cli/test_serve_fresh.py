"""`pushauth serve` on a fresh machine: no configuration at all, and it just works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.processes import READY_LINE, clean_env, free_port


def test_serve_with_nothing_configured_runs_init_first(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pushauth_cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        said = []
        for line in process.stderr:
            said.append(line)
            if READY_LINE in line:
                break
        output = " ".join("".join(said).split())  # long lines wrap at the terminal width
        # Run in the wrong directory, it must say it starts afresh, and where.
        assert f"No .env in {tmp_path}: creating a new one, {tmp_path / '.env'}" in output
        assert f"No database at {tmp_path / 'pushauth.db'}: creating a new, empty one" in output
        env_file = (tmp_path / ".env").read_text()
        assert "PUSHAUTH_API_KEY=" in env_file
        assert (tmp_path / "pushauth.db").exists()
        api_key = env_file.split("PUSHAUTH_API_KEY=")[1].splitlines()[0]
        assert api_key not in output  # the secret is never printed
        health = httpx.get(f"http://127.0.0.1:{port}/health")
        assert health.json()["status"] == "ok"
        listed = httpx.get(
            f"http://127.0.0.1:{port}/v1/users/alice/devices",
            headers={"Authorization": f"Bearer {api_key}"},
        )
        assert listed.status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_serve_never_rewrites_a_configured_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PUSHAUTH_PUBLIC_URL=https://push.example.com\n")
    result = subprocess.run(
        [sys.executable, "-m", "pushauth_cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 7
    assert "sets no PUSHAUTH_API_KEY" in result.stderr
    assert env_file.read_text() == "PUSHAUTH_PUBLIC_URL=https://push.example.com\n"
