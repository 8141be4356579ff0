"""``pushauth-pam install``: build pam_pushauth.so from its C source and put it where PAM looks.

Needs gcc and the PAM headers (Debian: ``apt-get install gcc libc6-dev libpam0g-dev``). The path
of the ``pushauth-pam`` program is compiled into the module, so the PAM line needs no
``program=`` argument; the module refuses a program that is not owned by root or that group or
others can write, because it runs it as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["SOURCE", "build_module", "default_module_dir", "default_program"]

SOURCE = Path(__file__).with_name("pam_pushauth.c")
MODULE_NAME = "pam_pushauth.so"


def default_module_dir(cc: str = "gcc") -> Path:
    """The directory that holds pam_unix.so (Debian: /usr/lib/<multiarch>/security)."""
    candidates = []
    try:
        arch = subprocess.run(
            [cc, "-print-multiarch"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        arch = ""
    for root in ("/usr/lib", "/lib"):
        if arch:
            candidates.append(Path(root, arch, "security"))
    candidates += [Path("/usr/lib64/security"), Path("/lib64/security"), Path("/usr/lib/security")]
    for directory in candidates:
        if (directory / "pam_unix.so").exists():
            return directory
    raise SystemExit("cannot find the PAM module directory (no pam_unix.so): pass --module-dir")


def default_program() -> Path:
    """This installation's ``pushauth-pam`` command."""
    beside_python = Path(sys.executable).parent / "pushauth-pam"
    if beside_python.exists():
        return beside_python.absolute()
    found = shutil.which("pushauth-pam")
    if found:
        return Path(found).absolute()
    raise SystemExit("cannot find the pushauth-pam command: pass --program")


def build_module(*, destination: Path, program: Path, cc: str = "gcc") -> Path:
    """Compile pam_pushauth.c into ``destination`` (a directory), atomically; the module path."""
    if '"' in str(program) or "\\" in str(program):
        raise SystemExit(f"unusable program path: {program}")
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / MODULE_NAME
    with tempfile.TemporaryDirectory(dir=destination, prefix=".pam_pushauth-") as work:
        built = Path(work) / MODULE_NAME
        command = [
            cc,
            "-shared",
            "-fPIC",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            f'-DPUSHAUTH_PAM_PROGRAM="{program}"',
            "-o",
            str(built),
            str(SOURCE),
            "-lpam",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            raise SystemExit(
                f"{cc} not found: install it (Debian: apt-get install gcc libc6-dev libpam0g-dev)"
            ) from exc
        if result.returncode != 0:
            raise SystemExit(
                f"building {MODULE_NAME} failed (Debian needs gcc libc6-dev libpam0g-dev):\n"
                + result.stderr
            )
        os.chmod(built, 0o644)
        os.replace(built, target)
    return target


def check_program(program: Path) -> list[str]:
    """Why the module would refuse to run ``program`` (empty when it would run it)."""
    problems = []
    try:
        info = program.stat()
    except OSError as exc:
        return [f"{program}: {exc.strerror}"]
    if info.st_uid != 0:
        problems.append(f"{program} is not owned by root")
    if info.st_mode & 0o022:
        problems.append(f"{program} is group- or world-writable")
    return problems
