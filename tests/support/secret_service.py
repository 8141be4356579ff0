"""A private D-Bus session with gnome-keyring's Secret Service, for keyring integration tests.

The daemon keeps its keyrings in a temporary XDG_DATA_HOME, unlocked with a throwaway password,
so tests never touch the developer's own keyring. Needs the Debian packages dbus and
gnome-keyring (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class SecretServiceUnavailable(RuntimeError):
    pass


@contextmanager
def secret_service(tmp: Path) -> Iterator[dict[str, str]]:
    """Yield the environment variables that point ``keyring`` at a fresh Secret Service."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            raise SecretServiceUnavailable(
                f"{tool} is not installed: apt-get install dbus gnome-keyring (see .ci/run)"
            )
    data_home = tmp / "xdg-data"
    runtime = tmp / "xdg-runtime"
    for path in (data_home, runtime):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    address, pid = bus.stdout.split()[:2]
    env = {
        "DBUS_SESSION_BUS_ADDRESS": address,
        "XDG_DATA_HOME": str(data_home),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    try:
        daemon_env = {**os.environ, **env}
        started = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="pushauth-test-keyring",
            capture_output=True,
            text=True,
            env=daemon_env,
            timeout=30,
        )
        if started.returncode != 0:
            raise SecretServiceUnavailable(f"gnome-keyring-daemon failed: {started.stderr}")
        for line in started.stdout.splitlines():
            key, _, value = line.partition("=")
            if key and value:
                env[key] = value
        yield env
    finally:
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGTERM)
