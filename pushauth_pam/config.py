"""The configuration file, ``/etc/pushauth/pam.toml`` by default: read, checked, typed.

The file holds the API key and decides who may skip the push, so, like sshd with its own files,
it is refused when anyone but root (or the user running the program) could have written it:
owned by someone else, group- or world-writable, or in a directory that is. A file that holds
the key inline is also refused when it is world-readable. Unknown keys are errors, so a typo
(``failmod = "safe"``) cannot silently leave the default in place.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pushauth_pam.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_PATH", "PamConfig", "load_config", "read_private_file"]

DEFAULT_CONFIG_PATH = Path("/etc/pushauth/pam.toml")

FailMode = Literal["secure", "safe"]
PromptMode = Literal["auto", "always", "never"]


@dataclass(frozen=True, kw_only=True)
class PamConfig:
    server: str
    api_key: str = field(repr=False)
    failmode: FailMode = "secure"
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    user_map: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    https_timeout: float = 10.0
    pushinfo: bool = False
    prompt: PromptMode = "auto"
    log_file: Path | None = None
    ca_file: Path | None = None


_KEYS = {
    "server",
    "api_key",
    "api_key_file",
    "failmode",
    "users",
    "groups",
    "user_map",
    "timeout",
    "https_timeout",
    "pushinfo",
    "prompt",
    "log_file",
    "ca_file",
}


def _check_owner_and_mode(path: Path, info: os.stat_result, what: str) -> None:
    # Stops a user who can write the file (or swap it) from turning the push off or stealing
    # the server's trust (failmode = "safe", users = [], a server of their own).
    if info.st_uid not in (0, os.geteuid()):
        raise ConfigError(f"{what} {path} is owned by uid {info.st_uid}: it must be root's")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"{what} {path} is group- or world-writable: run `chmod go-w {path}` as root"
        )


def read_private_file(path: Path, what: str, *, secret: bool) -> str:
    """Read a file after checking that only root (or the current user) controls it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # the file we read, not whatever the path names later
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{what} {path} is not a regular file")
        _check_owner_and_mode(path, info, what)
        directory = Path(os.path.realpath(path)).parent
        _check_owner_and_mode(directory, os.stat(directory), "the directory")
        if secret and info.st_mode & stat.S_IROTH:
            raise ConfigError(
                f"{what} {path} holds the API key and is world-readable: "
                f"run `chmod o-r {path}` as root"
            )
        data = handle.read(1 << 20)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8") from exc


def _string(raw: dict[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string")
    return value


def _choice(raw: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if value not in choices:
        allowed = " or ".join(f'"{choice}"' for choice in choices)
        raise ConfigError(f"{key} must be {allowed} (not {value!r})")
    return str(value)


def _names(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f'{key} must be a list of names, e.g. {key} = ["alice"]')
    return tuple(value)


def _seconds(raw: dict[str, Any], key: str, default: float, maximum: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= maximum:
        raise ConfigError(f"{key} must be a number of seconds between 0 and {maximum:g}")
    return float(value)


def _path(raw: dict[str, Any], key: str) -> Path | None:
    if key not in raw:
        return None
    path = Path(_string(raw, key))
    if not path.is_absolute():
        raise ConfigError(f"{key} must be an absolute path")
    return path


def _parse(raw: dict[str, Any], path: Path, *, secret_inline: bool) -> PamConfig:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {path}")
    server = _string(raw, "server").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise ConfigError("server must start with https:// (or http:// for a local test server)")
    if ("api_key" in raw) == ("api_key_file" in raw):
        raise ConfigError("set exactly one of api_key and api_key_file")
    if secret_inline:
        api_key = _string(raw, "api_key")
    else:
        key_path = _path(raw, "api_key_file")
        assert key_path is not None
        api_key = read_private_file(key_path, "the API key file", secret=True).strip()
        if not api_key:
            raise ConfigError(f"the API key file {key_path} is empty")
    user_map = raw.get("user_map", {})
    if not isinstance(user_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in user_map.items()
    ):
        raise ConfigError('user_map must be a table of names, e.g. [user_map] root = "alice"')
    pushinfo = raw.get("pushinfo", False)
    if not isinstance(pushinfo, bool):
        raise ConfigError("pushinfo must be true or false")
    failmode: Any = _choice(raw, "failmode", ("secure", "safe"), "secure")
    prompt: Any = _choice(raw, "prompt", ("auto", "always", "never"), "auto")
    return PamConfig(
        server=server,
        api_key=api_key,
        failmode=failmode,
        users=_names(raw, "users"),
        groups=_names(raw, "groups"),
        user_map=dict(user_map),
        timeout=_seconds(raw, "timeout", 60.0, 300.0),
        https_timeout=_seconds(raw, "https_timeout", 10.0, 300.0),
        pushinfo=pushinfo,
        prompt=prompt,
        log_file=_path(raw, "log_file"),
        ca_file=_path(raw, "ca_file"),
    )


def load_config(path: Path) -> PamConfig:
    """Read and check the configuration file; ``ConfigError`` says what is wrong."""
    text = read_private_file(path, "the configuration file", secret=False)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    secret_inline = "api_key" in raw
    if secret_inline and os.stat(path).st_mode & stat.S_IROTH:
        raise ConfigError(
            f"the configuration file {path} holds the API key and is world-readable: "
            f"run `chmod o-r {path}` as root, or move the key to api_key_file"
        )
    return _parse(raw, path, secret_inline=secret_inline)
