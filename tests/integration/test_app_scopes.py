"""Scoped application keys through real HTTP against a real ``pushauth serve``: every
relying-party route refuses keys without its scope and accepts keys with it; bad keys are 401."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.integration.apps_support import call, create_app, error_code
from tests.support.processes import API_KEY, Commands

# Every relying-party route, the scope it needs, and a request that reaches its handler.
ROUTES: list[tuple[str, str, str, object]] = [
    ("POST", "/v1/challenges", "challenges", {"user_id": "nobody-here"}),
    ("GET", "/v1/challenges/ch_unknown", "challenges", None),
    ("GET", "/v1/challenges/ch_unknown/wait", "challenges", None),
    ("GET", "/v1/challenges/ch_unknown/events", "challenges", None),
    ("POST", "/v1/challenges/ch_unknown/cancel", "challenges", None),
    ("POST", "/v1/enrollment-tokens", "enrollment", {"user_id": "scope-user"}),
    ("GET", "/v1/users", "admin", None),
    ("GET", "/v1/devices", "admin", None),
    ("GET", "/v1/devices/cr_unknown", "admin", None),
    ("GET", "/v1/users/scope-user/devices", "admin", None),
    ("POST", "/v1/devices/cr_unknown/revoke", "admin", None),
    ("GET", "/v1/users/scope-user/state", "admin", None),
    ("POST", "/v1/users/scope-user/unlock", "admin", None),
    ("GET", "/v1/audit", "admin", None),
    ("GET", "/v1/audit/stream", "admin", None),
    ("GET", "/v1/audit/head", "admin", None),
    ("POST", "/v1/audit/verify", "admin", None),
    ("GET", "/v1/apps", "admin", None),
    ("POST", "/v1/apps", "admin", {"name": "made-by-test", "scopes": ["challenges"]}),
    ("GET", "/v1/apps/operator", "admin", None),
    ("PATCH", "/v1/apps/operator", "admin", {"display_name": "Operator"}),
    ("POST", "/v1/apps/no-such-app/rotate", "admin", {"grace_seconds": 0}),
    ("POST", "/v1/apps/no-such-app/revoke", "admin", None),
    ("POST", "/v1/webhooks", "admin", {"url": "https://rp.example/hook", "app": "no-such-app"}),
    ("GET", "/v1/webhooks", "admin", None),
    ("DELETE", "/v1/webhooks/we_unknown", "admin", None),
    ("POST", "/v1/webhooks/we_unknown/test", "admin", None),
    ("POST", "/v1/webhooks/we_unknown/rotate-secret", "admin", None),
    ("GET", "/v1/webhooks/deliveries", "admin", None),
    ("POST", "/v1/webhooks/deliveries/msg_unknown/retry", "admin", None),
]
SCOPES = ("challenges", "enrollment", "admin")


def _template(path: str) -> str:
    for concrete, template in (
        ("ch_unknown", "{challenge_id}"),
        ("cr_unknown", "{credential_id}"),
        ("scope-user", "{user_id}"),
        ("no-such-app", "{name}"),
        ("we_unknown", "{endpoint_id}"),
        ("msg_unknown", "{delivery_id}"),
        ("operator", "{name}"),
    ):
        path = path.replace(concrete, template)
    return path


def test_the_table_covers_every_relying_party_route(commands: Commands) -> None:
    document = httpx.get(f"{commands.server.url}/schema/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and {"ApiKey": []} in operation.get("security", [])
    }
    assert served == {(method, _template(path)) for method, path, _, _ in ROUTES}


def test_each_route_refuses_keys_without_its_scope_and_accepts_keys_with_it(
    commands: Commands,
) -> None:
    url = commands.server.url
    keys = {scope: create_app(commands, f"only-{scope}", scope) for scope in SCOPES}
    for method, path, needed, body in ROUTES:
        for scope, key in keys.items():
            response = call(url, key, method, path, body)
            where = f"{method} {path} with a {scope!r} key"
            if scope == needed:
                # Reached the handler: whatever it answers, it is not an authorization refusal.
                assert response.status_code not in (401, 403, 500), (where, response.text)
            else:
                assert response.status_code == 403, (where, response.text)
                error = response.json()["error"]
                assert error["code"] == "insufficient_scope", where
                assert error["details"]["required_scope"] == needed, where
                assert repr(needed) in error["message"], where  # the message names the scope


def test_a_key_with_several_scopes_reaches_each(commands: Commands) -> None:
    key = create_app(commands, "portal", "enrollment", "challenges")
    url = commands.server.url
    issued = call(url, key, "POST", "/v1/enrollment-tokens", {"user_id": "pat"})
    assert issued.status_code == 201, issued.text
    assert call(url, key, "GET", "/v1/challenges/ch_nothing").status_code == 404
    assert error_code(call(url, key, "GET", "/v1/users")) == "insufficient_scope"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer  x",
        "Basic " + API_KEY,
        "Bearer pak_" + secrets.token_urlsafe(32),  # well formed, unknown
        "Bearer pak_" + "A" * 42,  # one character short
        "Bearer pak_" + "A" * 43 + "!",
        "Bearer " + "pak_" + "B" * 4000,  # long: never looked up
        "Bearer " + API_KEY + "x",
        "Bearer pak_" + "%" * 43,
        "Bearer pak_\u00e9\u00e9",
    ],
)
def test_unknown_or_malformed_keys_are_401_never_500(
    commands: Commands, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode("utf-8")}
    response = httpx.get(f"{commands.server.url}/v1/users", headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401, response.text
    assert error_code(response) == "invalid_api_key"


def test_the_bootstrap_key_keeps_every_scope(commands: Commands) -> None:
    url = commands.server.url
    for method, path, _, body in ROUTES:
        if path == "/v1/apps":
            body = {"name": "boot-made", "scopes": ["admin"]} if method == "POST" else body
        response = call(url, API_KEY, method, path, body)
        assert response.status_code not in (401, 403, 500), (method, path, response.text)
