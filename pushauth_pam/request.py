"""What PAM asks about: the user, the service, where from, and what it says on the device.

pam_pushauth.so passes ``PAM_USER``, ``PAM_SERVICE``, ``PAM_RHOST``, ``PAM_RUSER``, ``PAM_TTY``
and ``PAM_TYPE`` in the environment (nothing else: the invoking user's environment never reaches
the program). With ``pushinfo``, the command comes from the process that asked PAM — for sudo
that is ``sudo``'s own command line — or from ``SSH_ORIGINAL_COMMAND`` / ``SUDO_COMMAND`` when
the program is run by hand.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PamRequest", "challenge_body"]

_CUSTOM_VALUE_MAX = 256
_EXPIRY_MARGIN = 10.0
_ACTIONS = {"sudo": "sudo", "sudo-i": "sudo", "su": "su", "su-l": "su", "sshd": "sshLogin"}


@dataclass(frozen=True, kw_only=True)
class PamRequest:
    user: str
    service: str
    rhost: str
    ruser: str
    tty: str
    pam_type: str
    hostname: str
    command: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PamRequest:
        env = os.environ if environ is None else environ
        command = env.get("SSH_ORIGINAL_COMMAND") or env.get("SUDO_COMMAND") or ""
        return cls(
            user=env.get("PAM_USER", ""),
            service=env.get("PAM_SERVICE", ""),
            rhost=env.get("PAM_RHOST", ""),
            ruser=env.get("PAM_RUSER", ""),
            tty=env.get("PAM_TTY", ""),
            pam_type=env.get("PAM_TYPE", "auth"),
            hostname=socket.gethostname(),
            command=command or _parent_command(),
        )

    @property
    def is_ssh(self) -> bool:
        return self.service == "sshd" or self.service.startswith("sshd-")

    @property
    def action(self) -> str:
        """The challenge's ``action``: ``sudo``, ``su``, ``sshLogin``, or ``pam:<service>``."""
        if self.is_ssh:
            return "sshLogin"
        known = _ACTIONS.get(self.service)
        if known:
            return known
        service = re.sub(r"[^A-Za-z0-9._:-]", "_", self.service)[:58] or "unknown"
        return f"pam:{service}"

    def describe(self) -> str:
        """The note the device shows: what is being approved, on which machine, from where."""
        if self.is_ssh:
            where = f" from {self.rhost}" if self.rhost else ""
            return f"SSH login to {self.hostname} as {self.user}{where}"
        by = f" by {self.ruser}" if self.ruser and self.ruser != self.user else ""
        if self.action == "sudo":
            return f"sudo on {self.hostname}{by}"
        if self.action == "su":
            return f"su to {self.user} on {self.hostname}{by}"
        return f"{self.service or 'login'} as {self.user} on {self.hostname}"


def _parent_command() -> str:
    """The command line of the process that runs PAM (our parent: sudo, su, login...)."""
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
            raw = handle.read(4096)
    except OSError:
        return ""
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def _cut(value: str, limit: int) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def challenge_body(
    request: PamRequest, *, user_id: str, pushinfo: bool, timeout: float
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/challenges`` for this request."""
    custom = {"service": request.service, "host": request.hostname}
    if request.tty:
        custom["tty"] = request.tty
    if request.ruser:
        custom["requested_by"] = request.ruser
    initiator_ip = ""
    if request.rhost:
        try:
            initiator_ip = str(ipaddress.ip_address(request.rhost))
        except ValueError:
            custom["remote_host"] = request.rhost
    if pushinfo and request.command and not request.is_ssh:
        custom["command"] = request.command
    return {
        "user_id": user_id,
        "action": request.action,
        "context": {
            "note": _cut(request.describe(), 500),
            "initiator_host": _cut(request.hostname, 255),
            "initiator_ip": initiator_ip,
            "custom": {key: _cut(value, _CUSTOM_VALUE_MAX) for key, value in custom.items()},
        },
        # Outlives our own deadline, so that the challenge ends as "cancelled" by us (the
        # device is told at once) rather than racing the server's expiry.
        "expires_in_seconds": min(timeout + _EXPIRY_MARGIN, 3600),
    }
