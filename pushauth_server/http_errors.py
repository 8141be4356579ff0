"""The one place where errors become HTTP responses.

Our own errors carry their status and code. Litestar's own exceptions (validation, unknown route,
wrong method, oversized body) are translated into our tree first, so every error body has the
same shape: ``{"error": {"code": ..., "message": ..., "details": {...}}}``. Anything unexpected
becomes a bare 500 ``internal_error`` with no traceback, and is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    InternalServerException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from pushauth_server import errors
from pushauth_server.observability.request_log import note_error
from pushauth_server.protocol.text import SAFE_TEXT_PATTERN, UNSAFE_TEXT_RULE

logger = logging.getLogger("pushauth.server")


def _body(error: errors.PushAuthError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "details": error.details}}


def error_response(error: errors.PushAuthError) -> Response[dict[str, Any]]:
    headers = {}
    retry_after = error.details.get("retry_after_seconds")
    if isinstance(retry_after, int | float):
        headers["Retry-After"] = str(max(1, round(retry_after)))
    allowed = error.details.get("allowed_methods")
    if isinstance(error, errors.MethodNotAllowed) and isinstance(allowed, list):
        headers["Allow"] = ", ".join(allowed)  # RFC 9110 §15.5.6: a 405 says what is allowed
    return Response(
        content=_body(error),
        status_code=error.status_code,
        media_type=MediaType.JSON,
        headers=headers,
    )


def translate(exc: Exception) -> errors.PushAuthError:
    """Map any exception raised while handling a request into our tree."""
    if isinstance(exc, errors.PushAuthError):
        return exc
    if isinstance(exc, ValidationException):
        problems = _validation_problems(exc)
        return errors.InvalidRequest(
            "The request body or parameters are not valid: " + "; ".join(problems)
            if problems
            else "The request body or parameters are not valid.",
            problems=problems,
        )
    if isinstance(exc, NotFoundException):
        return errors.RouteNotFound("No such endpoint. See /schema for the API.")
    if isinstance(exc, MethodNotAllowedException):
        allow = (exc.headers or {}).get("allow", "")
        methods = sorted({m.strip().upper() for m in allow.split(",") if m.strip()})
        return errors.MethodNotAllowed(
            "This endpoint does not accept that HTTP method"
            + (f"; it accepts {', '.join(methods)}." if methods else "."),
            allowed_methods=methods,
        )
    if isinstance(exc, NotAuthorizedException):
        return errors.Unauthenticated(exc.detail)
    if isinstance(exc, ClientException) and exc.status_code == 413:
        return errors.PayloadTooLarge("The request body is too large.")
    if isinstance(exc, DataError):
        # Input the database cannot store (a NUL byte in PostgreSQL text, say): bad input.
        return errors.InvalidRequest("The request contains characters that cannot be stored.")
    if isinstance(exc, DBAPIError) and _sqlstate(exc) in _RETRYABLE_SQLSTATES:
        # A deadlock or serialisation failure aborted the transaction: nothing changed; retry.
        return errors.ServerBusy(
            "The request collided with another one; nothing changed. Retry it.",
            retry_after_seconds=1,
        )
    if isinstance(exc, SQLAlchemyTimeout):
        # Every database connection stayed busy for the pool timeout: overload, not a bug.
        return errors.ServerBusy(
            "The server is too busy to take this request now; retry in a moment.",
            retry_after_seconds=1,
        )
    if isinstance(exc, InternalServerException) and "disconnected" in (exc.detail or ""):
        # The client hung up mid-body: its problem, worth one line, never a traceback.
        logger.warning("request aborted: the client disconnected before sending the whole body")
        return errors.RequestAborted("The client disconnected before the request body ended.")
    if isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        return errors.InvalidRequest(exc.detail or "Bad request.")
    logger.exception("unexpected error while handling a request", exc_info=exc)
    return errors.InternalError("Internal server error.")


_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def _sqlstate(exc: DBAPIError) -> str | None:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def _validation_problems(exc: ValidationException) -> list[str]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    problems = []
    for item in extra:
        if isinstance(item, dict):
            key = item.get("key")
            message = item.get("message", "invalid")
            # A regex is no message for a person: say the rule the text broke instead.
            message = str(message).replace(
                f"Expected `str` matching regex {SAFE_TEXT_PATTERN!r}",
                f"must be plain text: {UNSAFE_TEXT_RULE}",
            )
            problems.append(f"{key}: {message}" if key else message)
    return problems


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    error = translate(exc)
    note_error(request.scope, error.code)  # for the request's log line and pushauth_refusals
    return error_response(error)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle}
