"""Steps the application tests share: make an app with the real CLI, call routes with a key."""

from __future__ import annotations

import json
from typing import Any

import httpx

from pushauth_server.client import enrollment_proof
from pushauth_server.protocol import generate_private_key
from tests.support.processes import API_KEY, Commands


def create_app(commands: Commands, name: str, *scopes: str, users: str | None = None) -> str:
    """``pushauth apps create`` (with the bootstrap key); returns the new key."""
    args = ["apps", "create", name, *(f"--scope={scope}" for scope in scopes), "--json"]
    if users is not None:
        args.append(f"--users={users}")
    created = commands.pushauth(*args)
    assert created.returncode == 0, created.stderr
    key = str(json.loads(created.stdout)["key"])
    assert key.startswith("pak_")
    return key


def as_app(commands: Commands, key: str, *args: str) -> Any:
    """A ``pushauth`` command run with ``--api-key KEY``."""
    return commands.pushauth(*args, "--api-key", key)


def call(
    url: str, key: str | None, method: str, path: str, body: Any = None, **params: str
) -> httpx.Response:
    """One relying-party request; a streaming answer is closed once its head arrived."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    with (
        httpx.Client(base_url=url, timeout=30) as client,
        client.stream(method, path, headers=headers, json=body, params=params) as response,
    ):
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
        return response


def enroll(url: str, user: str) -> str:
    """A device for ``user``, enrolled through the API with the bootstrap key; its credential."""
    health = httpx.get(f"{url}/health").json()
    token = call(url, API_KEY, "POST", "/v1/enrollment-tokens", {"user_id": user})
    assert token.status_code == 201, token.text
    body = enrollment_proof(
        generate_private_key(),
        origin=health["origin"],
        token=token.json()["token"],
        device_name=f"{user}-phone",
    )
    registered = httpx.post(f"{url}/v1/device/register", json=body)
    assert registered.status_code == 201, registered.text
    return str(registered.json()["credential_id"])


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
