"""One PAM test's world: a real server, an enrolled device, a config file, a PAM service, and
``pamtester`` driven through a pseudo-terminal (pexpect), as a user at a terminal would see it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pexpect

from tests.integration.helpers import challenge, enroll_device
from tests.pam.system import (
    NUMBER,
    UnixUser,
    decisions,
    pam_service,
    write_config,
)
from tests.support.processes import API_KEY, Commands

PUSHAUTH_USER = "alice"


@dataclass
class PamWorld:
    commands: Commands
    module: Path
    user: UnixUser
    tmp: Path
    device_home: Path

    @property
    def log_file(self) -> Path:
        return self.tmp / "decisions.log"

    @property
    def config_path(self) -> Path:
        return self.tmp / "pam.toml"

    def configure(self, mode: int = 0o600, **settings: object) -> Path:
        values: dict[str, object] = {
            "server": self.commands.server.url,
            "api_key": API_KEY,
            "groups": [self.user.group],
            "user_map": {self.user.name: PUSHAUTH_USER},
            "timeout": 60,
            "https_timeout": 5,
        }
        values.update(settings)
        return write_config(self.config_path, mode=mode, **values)

    @contextlib.contextmanager
    def service(self, program: Path | None = None) -> Iterator[str]:
        args = ("--config", str(self.config_path), "--log-file", str(self.log_file))
        with pam_service(self.module, *args, program=program) as name:
            yield name

    def wait_resolved(self, challenge_id: str) -> dict[str, object]:
        """The relying party's long-poll: returns when the challenge leaves pending."""
        response = httpx.get(
            f"{self.commands.server.url}/v1/challenges/{challenge_id}/wait",
            params={"timeout_seconds": 25},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=40,
        )
        response.raise_for_status()
        data: dict[str, object] = response.json()
        return data

    def pamtester(self, service: str, user: str | None = None) -> pexpect.spawn:
        return pexpect.spawn(
            "pamtester",
            ["-v", service, user or self.user.name, "authenticate"],
            encoding="utf-8",
            timeout=60,
            env=self.commands.env(),
        )

    def read_number(self, child: pexpect.spawn) -> str:
        child.expect(NUMBER)
        return str(child.match.group(1) + child.match.group(2))

    def pending_challenge(self) -> str:
        listed = self.commands.device(self.device_home, "pending", "--json")
        assert listed.returncode == 0, listed.stderr
        [pending] = json.loads(listed.stdout)
        return str(pending["challenge_id"])

    def challenge(self, challenge_id: str) -> dict[str, object]:
        return challenge(self.commands, challenge_id)

    def decisions(self) -> list[str]:
        return decisions(self.log_file)


def finish(child: pexpect.spawn) -> tuple[int, str]:
    """Wait for the end; (exit status, everything it printed)."""
    child.expect(pexpect.EOF)
    output = str(child.before)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1), output


def make_world(commands: Commands, module: Path, user: UnixUser, tmp: Path) -> PamWorld:
    home = tmp / "phone"
    enroll_device(commands, home, PUSHAUTH_USER)
    return PamWorld(commands=commands, module=module, user=user, tmp=tmp, device_home=home)
