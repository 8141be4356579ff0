"""Hostile input stops here, before any handler: wrong media types, bodies that are not JSON,
nesting deep enough to exhaust the decoder, and unsafe characters in paths and query strings.

Runs as the app's ``before_request`` hook, so every route gets it and none can forget it:

- a request body must be ``application/json`` (415 ``unsupported_media_type`` otherwise), so a
  form post or a ``text/plain`` "simple request" from a browser is never parsed as JSON;
- the body must be UTF-8 JSON nested at most :data:`MAX_JSON_DEPTH` deep (400 ``invalid_request``),
  where a decoder would otherwise fail with an error that is not ours (a 500);
- path parameters and query values must be whole, visible text (400 naming the parameter): no
  trailing newline slipping past a ``$`` pattern, no control, bidi or zero-width character.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from pushauth_server import errors
from pushauth_server.protocol.text import text_problem

MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_decoder = msgspec.json.Decoder()


def _is_json(content_type: str) -> bool:
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return False
    return True


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, iteratively (no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def check_json_body(body: bytes) -> None:
    """Raise :class:`~pushauth_server.errors.InvalidRequest` unless ``body`` is sane JSON."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.InvalidRequest(
            f"The request body is not valid UTF-8 (byte {exc.start}).", position=exc.start
        ) from None
    try:
        decoded = _decoder.decode(body)
    except RecursionError:
        raise errors.InvalidRequest(
            f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
            max_depth=MAX_JSON_DEPTH,
        ) from None
    except msgspec.DecodeError as exc:
        raise errors.InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if _depth(decoded) > MAX_JSON_DEPTH:
        raise errors.InvalidRequest(
            f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
            max_depth=MAX_JSON_DEPTH,
        )


def check_parameters(request: Request[Any, Any, Any]) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(name, value)):
            raise errors.InvalidRequest(problem, field=name)
    for name, value in request.query_params.multi_items():
        if problem := text_problem(name, value) or text_problem("query parameter name", name):
            raise errors.InvalidRequest(problem, field=name)


async def guard_input(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook: returns nothing, or raises one of our errors."""
    check_parameters(request)
    if request.method not in _BODY_METHODS:
        return
    body = await request.body()
    if not body:
        return
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        raise errors.UnsupportedMediaType(
            "Send the request body as JSON with 'Content-Type: application/json'.",
            content_type=content_type[:100],
        )
    check_json_body(body)
