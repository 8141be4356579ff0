"""The errors of pushauth-pam.

::

    PamError                  anything this package raises on purpose
    ├── ConfigError           the configuration file is missing, unsafe or invalid: deny
    └── ServerError           the server did not give a usable answer
        ├── ServerUnavailable cannot connect, timed out or 5xx: the failmode decides
        └── ServerRefused     a 4xx answer (bad API key, no enrolled device, rate limit): deny

Errors from ``http.client``, ``ssl`` and ``socket`` are translated into ``ServerUnavailable`` in
one place, ``api.py``.
"""

from __future__ import annotations

__all__ = ["ConfigError", "PamError", "ServerError", "ServerRefused", "ServerUnavailable"]


class PamError(Exception):
    """Base of every error pushauth-pam raises on purpose."""


class ConfigError(PamError):
    """The configuration cannot be used; the message says what to fix."""


class ServerError(PamError):
    """The server did not give a usable answer."""


class ServerUnavailable(ServerError):
    """The server cannot be reached, timed out, or answered 5xx."""


class ServerRefused(ServerError):
    """The server answered 4xx; ``code`` is its machine-readable error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
