"""``pushauth-pam install``: the real build (gcc, libpam0g-dev) and its failures, said plainly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.pam.system import PROGRAM, build_module


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushauth_pam", "install", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.pam
def test_builds_a_pam_module_with_the_program_path_inside(
    system_ready: None, tmp_path: Path
) -> None:
    module = build_module(tmp_path)
    assert module.stat().st_mode & 0o777 == 0o644
    symbols = subprocess.run(["nm", "-D", str(module)], capture_output=True, text=True).stdout
    assert "pam_sm_authenticate" in symbols
    assert "pam_sm_setcred" in symbols
    assert str(PROGRAM).encode() in module.read_bytes()  # no program= argument needed


def test_a_missing_compiler_is_said_plainly(tmp_path: Path) -> None:
    result = install("--module-dir", str(tmp_path), "--cc", str(tmp_path / "no-such-cc"))
    assert result.returncode == 1
    assert "not found" in result.stderr
    assert "libpam0g-dev" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pam_pushauth.so").exists()


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    result = install("--module-dir", str(tmp_path), "--cc", "false")
    assert result.returncode == 1
    assert "building pam_pushauth.so failed" in result.stderr
    assert list(tmp_path.iterdir()) == []
