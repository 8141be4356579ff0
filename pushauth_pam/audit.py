"""Every decision, logged: to syslog (facility authpriv, so the journal and /var/log/auth.log
have it) and, when the configuration names one, to a log file as well.

One line per decision, ``key=value`` pairs with the user, the service, the remote host and the
challenge id; values a remote user chose (the login name, the host name) are quoted so that they
cannot forge a second entry. A fail-safe allow is logged at warning level, always (pam_duo issue
66 is a fail-open without a log line).
"""

from __future__ import annotations

import json
import os
import re
import syslog
import time
from pathlib import Path

from pushauth_pam.request import PamRequest

__all__ = ["DecisionLog"]

_PLAIN = re.compile(r"[A-Za-z0-9._@:/+,=-]+")

# Decision -> syslog priority.
_LEVELS = {
    "approved": syslog.LOG_INFO,
    "bypassed": syslog.LOG_INFO,
    "denied": syslog.LOG_NOTICE,
    "timed_out": syslog.LOG_NOTICE,
    "cancelled": syslog.LOG_NOTICE,
    "fail_secure_deny": syslog.LOG_ERR,
    "fail_safe_allow": syslog.LOG_WARNING,
    "error": syslog.LOG_ERR,
}


def _value(value: str) -> str:
    if value and _PLAIN.fullmatch(value):
        return value
    return json.dumps(value) if value else "-"


class DecisionLog:
    def __init__(self, log_file: Path | None = None) -> None:
        self.log_file = log_file
        syslog.openlog("pushauth-pam", syslog.LOG_PID, syslog.LOG_AUTHPRIV)

    def record(
        self,
        decision: str,
        request: PamRequest,
        *,
        pushauth_user: str = "",
        challenge_id: str = "",
        reason: str = "",
    ) -> str:
        fields = {
            "decision": decision,
            "user": request.user,
            "pushauth_user": pushauth_user,
            "service": request.service,
            "rhost": request.rhost,
            "ruser": request.ruser,
            "tty": request.tty,
            "challenge": challenge_id,
            "reason": reason,
        }
        line = " ".join(f"{key}={_value(value)}" for key, value in fields.items())
        syslog.syslog(_LEVELS.get(decision, syslog.LOG_NOTICE), line)
        if self.log_file is not None:
            self._append(line)
        return line

    def _append(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        entry = f"{stamp} pushauth-pam[{os.getpid()}]: {line}\n".encode()
        try:
            fd = os.open(
                self.log_file or "",
                # O_NOFOLLOW: root appending through a symlink someone planted would write anywhere
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                0o600,
            )
        except OSError as exc:
            syslog.syslog(syslog.LOG_ERR, f"cannot open log_file {self.log_file}: {exc.strerror}")
            return
        try:
            os.write(fd, entry)
        finally:
            os.close(fd)
