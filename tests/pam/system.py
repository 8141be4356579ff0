"""Real system parts for the PAM tests: pam_pushauth.so built by ``pushauth-pam install``, PAM
service files under /etc/pam.d, Unix users and groups, and configuration files.

Everything made here has a unique name and is removed afterwards; nothing existing is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROGRAM = Path(sys.executable).parent / "pushauth-pam"
NUMBER = re.compile(r"number (\d{3}) (\d{3})")


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def build_module(directory: Path) -> Path:
    """``pushauth-pam install`` into ``directory``: the real install step, real gcc."""
    result = subprocess.run(
        [str(PROGRAM), "install", "--module-dir", str(directory), "--program", str(PROGRAM)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return directory / "pam_pushauth.so"


@contextlib.contextmanager
def pam_service(
    module: Path, *args: str, name: str | None = None, program: Path | None = None
) -> Iterator[str]:
    """An /etc/pam.d service whose auth stack is pam_pushauth.so with ``args``; its name.

    Without ``program``, the module runs the program path built into it by the install step."""
    name = name or unique("pushauth-test-")
    path = Path("/etc/pam.d") / name
    assert not path.exists(), path  # never overwrite a real service
    path.write_text(
        f"auth required {module} {f'program={program} ' if program else ''}{' '.join(args)}\n"
        "account required pam_permit.so\n"
        "session required pam_permit.so\n"
        "password required pam_deny.so\n"
    )
    try:
        yield name
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class UnixUser:
    name: str
    group: str  # a group the user belongs to (besides its own)


@contextlib.contextmanager
def unix_user() -> Iterator[UnixUser]:
    """A new Unix user (with a home and /bin/sh) in a new group; both removed afterwards."""
    group = unique("pagrp")
    name = unique("pausr")
    subprocess.run(["groupadd", group], check=True)
    try:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/sh", "--groups", group, name],
            check=True,
        )
        try:
            yield UnixUser(name=name, group=group)
        finally:
            subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    finally:
        subprocess.run(["groupdel", group], check=False, capture_output=True)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, *, mode: int = 0o600, **settings: object) -> Path:
    """A pam.toml; ``user_map`` as a dict becomes a table."""
    user_map = settings.pop("user_map", None)
    lines = [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    if isinstance(user_map, dict):
        lines.append("[user_map]")
        lines += [f"{toml_value(k)} = {toml_value(v)}" for k, v in user_map.items()]
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, mode)
    return path


def decisions(log_file: Path) -> list[str]:
    return log_file.read_text().splitlines() if log_file.exists() else []
