"""Ctrl-C on ``pushauth serve`` with devices and relying parties connected: their open event
streams are ended cleanly at once, the process exits, and nothing like a traceback is printed."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import StartServer
from tests.integration.helpers import enroll_device, signin_no_wait, watching
from tests.support.processes import Commands


def test_ctrl_c_with_open_streams_ends_them_cleanly(
    start_server: StartServer, keyring_env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server()
    commands = Commands(server=server, env_extra=keyring_env)
    home = tmp_path / "phone"
    enroll_device(commands, home, "sam")
    with watching(commands, home):  # a device stream is open
        created = signin_no_wait(commands, "sam")
        waiter = commands.pushauth_popen("wait", str(created["challenge_id"]), "--timeout", "60")
        assert server.process is not None
        process = server.process
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) in (0, 130)  # 130: the conventional exit after Ctrl-C
        server.stop()  # collects the rest of its output
        waiter.kill()
        waiter.communicate(timeout=10)
    output = "".join(server.log)
    assert "Traceback" not in output
    assert "CancelledError" not in output
    assert "timeout graceful shutdown exceeded" not in output
