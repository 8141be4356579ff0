"""The OpenAPI schema lists every route the app serves, each with its request body schema."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from litestar.routes import HTTPRoute

from tests.server.conftest import Harness


def _served(harness: Harness) -> dict[tuple[str, str], Any]:
    """(path in OpenAPI form, method) -> handler, for every documented HTTP route."""
    served: dict[tuple[str, str], Any] = {}
    for route in harness.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                if method in {"HEAD", "OPTIONS"}:
                    continue
                served[(path, method.lower())] = handler
    return served


@pytest.fixture
async def schema(harness: Harness) -> dict[str, Any]:
    response = await harness.client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


async def test_every_served_route_is_documented_and_nothing_else(
    harness: Harness, schema: dict[str, Any]
) -> None:
    served = set(_served(harness))
    documented = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert served, "no routes found"
    assert documented == served
    for expected in [
        ("/v1/challenges", "post"),
        ("/v1/challenges/{challenge_id}", "get"),
        ("/v1/device/register", "post"),
        ("/v1/device/challenges/{challenge_id}/response", "post"),
        ("/health", "get"),
    ]:
        assert expected in served


async def test_every_body_has_its_schema(harness: Harness, schema: dict[str, Any]) -> None:
    with_body = 0
    for (path, method), handler in _served(harness).items():
        operation = schema["paths"][path][method]
        parameters = handler.parsed_fn_signature.parameters
        if "data" not in parameters:
            assert "requestBody" not in operation, (path, method)
            continue
        with_body += 1
        body = operation.get("requestBody")
        assert body is not None, f"{method.upper()} {path} has no request body schema"
        described = _resolve(schema, body["content"]["application/json"]["schema"])
        struct = parameters["data"].annotation
        fields = msgspec.structs.fields(struct)
        assert set(described["properties"]) == {f.encode_name for f in fields}, (path, method)
        required = {f.encode_name for f in fields if f.required}
        assert set(described.get("required", [])) == required, (path, method)
    assert with_body >= 4  # create challenge, issue token, register, respond


async def test_relying_party_routes_declare_the_api_key(
    harness: Harness, schema: dict[str, Any]
) -> None:
    for (path, method), _ in _served(harness).items():
        operation = schema["paths"][path][method]
        if path.startswith("/v1/device") or path in ("/health", "/ready"):  # unauthenticated
            continue
        assert {"ApiKey": []} in operation.get("security", []), (path, method)
