"""Where the CLI's settings come from: flags, then the environment, then ``./.env``.

``pushauth init`` writes ``.env``; every other command reads it (without overriding variables
already set in the environment), so the server and the CLI agree on the URL and API key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import dotenv_values, load_dotenv

from pushauth_server.settings import DEFAULT_DATABASE_URL

ENV_FILE = Path(".env")
DEFAULT_URL = "http://127.0.0.1:8300"


def load_env_file(path: Path = ENV_FILE) -> None:
    if path.is_file():
        load_dotenv(path, override=False)


def new_api_key() -> str:
    """A fresh relying-party API key: 256 bits from the OS CSPRNG."""
    return "pak_" + secrets.token_urlsafe(32)


def env_file_has_api_key(path: Path = ENV_FILE) -> bool:
    return path.is_file() and bool(dotenv_values(path).get("PUSHAUTH_API_KEY"))


def write_env_file(
    *, url: str, database_url: str = DEFAULT_DATABASE_URL, path: Path = ENV_FILE
) -> str:
    """Write a fresh ``.env`` (mode 0600) and return the new API key."""
    api_key = new_api_key()
    content = (
        "# Written by `pushauth init`. Keep it secret: it holds the relying party's API key.\n"
        f"PUSHAUTH_API_KEY={api_key}\n"
        f"PUSHAUTH_URL={url}\n"
        f"PUSHAUTH_DATABASE_URL={database_url}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through open(): private before writing
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, 0o600)
    os.environ["PUSHAUTH_API_KEY"] = api_key
    os.environ["PUSHAUTH_URL"] = url
    os.environ.setdefault("PUSHAUTH_DATABASE_URL", database_url)
    return api_key
