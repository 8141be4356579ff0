"""Where the CLI's settings come from: flags, then the environment, then ``./.env``.

``pushauth init`` writes ``.env``; every other command reads it from the **current directory**
(without overriding variables already set in the environment), so the server and the CLI agree
on the URL and API key when they run in the same directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_FILE = Path(".env")
DEFAULT_URL = "http://127.0.0.1:8300"
# The server's default (pushauth_server.settings.DEFAULT_DATABASE_URL), repeated here so that
# `pushauth --help` need not import the server's settings; a test checks the two agree.
DEFAULT_DATABASE_URL = "sqlite:///./pushauth.db"


def load_env_file(path: Path = ENV_FILE) -> None:
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def new_api_key() -> str:
    """A fresh relying-party API key: 256 bits from the OS CSPRNG."""
    import secrets

    return "pak_" + secrets.token_urlsafe(32)


def env_file_has_api_key(path: Path = ENV_FILE) -> bool:
    if not path.is_file():
        return False
    from dotenv import dotenv_values

    return bool(dotenv_values(path).get("PUSHAUTH_API_KEY"))


def no_api_key_hint(path: Path = ENV_FILE) -> str:
    """Why no API key was found, saying where ``.env`` is looked for."""
    where = path.resolve()
    found = (
        f"{where} has no PUSHAUTH_API_KEY"
        if path.is_file()
        else f"there is no .env in the current directory ({where.parent})"
    )
    return (
        f"pushauth reads .env from the current directory, and {found}. Run it from the directory "
        "where you ran `pushauth serve` (or `pushauth init`), or pass --api-key / set "
        "PUSHAUTH_API_KEY."
    )


def write_env_file(
    *, url: str, database_url: str = DEFAULT_DATABASE_URL, path: Path = ENV_FILE
) -> str:
    """Write a fresh ``.env`` (mode 0600) and return the new API key."""
    api_key = new_api_key()
    import secrets

    # The deployment's secret: webhook endpoint secrets are encrypted under it (and Redis
    # events authenticated with it). Every process of one deployment needs the same one.
    deployment_secret = secrets.token_urlsafe(32)
    content = (
        "# Written by `pushauth init`. Keep it secret: it holds the relying party's API key.\n"
        f"PUSHAUTH_API_KEY={api_key}\n"
        f"PUSHAUTH_SECRET={deployment_secret}\n"
        f"PUSHAUTH_URL={url}\n"
        f"PUSHAUTH_DATABASE_URL={database_url}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through open(): private before writing
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, 0o600)
    os.environ["PUSHAUTH_API_KEY"] = api_key
    os.environ.setdefault("PUSHAUTH_SECRET", deployment_secret)
    os.environ["PUSHAUTH_URL"] = url
    os.environ.setdefault("PUSHAUTH_DATABASE_URL", database_url)
    return api_key
