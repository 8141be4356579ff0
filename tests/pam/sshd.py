"""A real OpenSSH server for one test: its own config, host key, pid file and port, started by us
and stopped by us (by its pid, never by name).

It runs as ``/usr/sbin/sshd`` through a symlink named ``sshd-pushauth-test-…``: sshd uses its
program name as the PAM service, so the test gets its own /etc/pam.d file and the system's
``sshd`` service is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port

SSHD = Path(shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin") or "/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # sshd 9.2's privilege-separation chroot (Debian's default)


@dataclass
class Sshd:
    port: int
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)


def _config(directory: Path, port: int, user: str) -> Path:
    key = directory / "ssh_host_ed25519_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    config = directory / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {key}
PidFile {directory / "sshd.pid"}
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthenticationMethods keyboard-interactive
AllowUsers {user}
PermitRootLogin no
MaxAuthTries 1
LoginGraceTime 90
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
"""
    )
    return config


@contextlib.contextmanager
def running_sshd(directory: Path, user: str, service: str) -> Iterator[Sshd]:
    """Start sshd for ``user``, as PAM service ``service`` (its program name)."""
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    program = directory / service
    program.symlink_to(SSHD)
    port = free_port()
    config = _config(directory, port, user)
    process = subprocess.Popen(
        [str(program), "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    sshd = Sshd(port=port, process=process)
    listening = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            sshd.log.append(line)
            if "Server listening on" in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if not listening.wait(30) or process.poll() is not None:
            raise RuntimeError("sshd did not start:\n" + "".join(sshd.log))
        yield sshd
    finally:
        if process.poll() is None:
            process.terminate()  # our own sshd, by its pid
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(15)
        if process.stderr is not None:
            process.stderr.close()


def ssh_command(port: int, user: str, command: str) -> list[str]:
    """An ssh client that uses keyboard-interactive only and gives up after one attempt."""
    return [
        "-F",
        os.devnull,
        "-p",
        str(port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        f"UserKnownHostsFile={os.devnull}",
        "-o",
        "PreferredAuthentications=keyboard-interactive",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "NumberOfPasswordPrompts=1",
        "-o",
        "LogLevel=ERROR",
        f"{user}@127.0.0.1",
        command,
    ]
