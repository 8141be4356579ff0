"""The error tree (STYLE 3): every error has its own code and a 4xx status, is drawn in the
docstring, and is mapped to HTTP in exactly one place; anything unexpected is a bare 500."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.testing import TestClient
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from pushauth_server import errors
from pushauth_server.http_errors import EXCEPTION_HANDLERS, error_response, translate
from tests.server.conftest import Harness, assert_error


def all_errors() -> list[type[errors.PushAuthError]]:
    found: list[type[errors.PushAuthError]] = []
    stack = [errors.PushAuthError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    # Only the tree of errors.py: other modules' subclasses (e.g. test doubles) do not count.
    return sorted((c for c in found if c.__module__ == errors.__name__), key=lambda c: c.__name__)


ERRORS = all_errors()
SUBCLASSES = [c for c in ERRORS if c is not errors.PushAuthError]
# RouteNotFound repeats its parent's code: see test_route_not_found_has_its_own_code.
KNOWN_DUPLICATES: set[type[errors.PushAuthError]] = set()


def test_the_tree_is_not_empty() -> None:
    assert len(SUBCLASSES) >= 20


def test_every_error_has_a_unique_code() -> None:
    codes: dict[str, str] = {}
    for cls in SUBCLASSES:
        if cls in KNOWN_DUPLICATES:
            continue
        assert re.fullmatch(r"[a-z][a-z_]*", cls.code), cls
        assert cls.code not in codes, f"{cls.__name__} reuses {codes.get(cls.code)}'s code"
        codes[cls.code] = cls.__name__


def test_route_not_found_has_its_own_code() -> None:
    assert errors.RouteNotFound.code != errors.NotFound.code


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_4xx_except_internal_error(cls: type[errors.PushAuthError]) -> None:
    if cls is errors.InternalError:
        assert cls.status_code == 500
    elif cls in (errors.ServerBusy, errors.NotReady):  # overload; a dependency away (/ready)
        assert cls.status_code == 503
    else:
        assert 400 <= cls.status_code < 500


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_error_is_drawn_in_the_docstring(cls: type[errors.PushAuthError]) -> None:
    doc = errors.__doc__ or ""
    line = next((ln for ln in doc.splitlines() if re.search(rf"\b{cls.__name__}\b", ln)), None)
    assert line is not None, f"{cls.__name__} is missing from the tree in errors.py"
    assert cls.code in line or f"({cls.status_code})" in line, line
    assert cls.__name__ in errors.__all__


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_error_maps_to_its_status_and_code(cls: type[errors.PushAuthError]) -> None:
    error = cls("Something precise went wrong.", challenge_id="ch_1")
    assert translate(error) is error
    response = error_response(error)
    assert response.status_code == cls.status_code
    assert response.content == {
        "error": {
            "code": cls.code,
            "message": "Something precise went wrong.",
            "details": {"challenge_id": "ch_1"},
        }
    }


def test_retry_after_header_comes_from_details() -> None:
    response = error_response(errors.RateLimited("Slow down.", retry_after_seconds=89.6))
    assert response.headers["Retry-After"] == "90"
    assert "Retry-After" not in error_response(errors.InvalidRequest("Bad.")).headers


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (
            ValidationException("bad", extra=[{"key": "user_id", "message": "too long"}]),
            400,
            "invalid_request",
        ),
        (NotFoundException(), 404, "route_not_found"),
        (MethodNotAllowedException(), 405, "method_not_allowed"),
        (NotAuthorizedException("no"), 401, "unauthenticated"),
        (ClientException(status_code=413), 413, "payload_too_large"),
        (HTTPException(status_code=415, detail="Unsupported media type"), 400, "invalid_request"),
        (RuntimeError("database password is hunter2"), 500, "internal_error"),
        (KeyError("secret"), 500, "internal_error"),
        (HTTPException(status_code=503), 500, "internal_error"),
        (SQLAlchemyTimeout("QueuePool limit reached"), 503, "server_busy"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_translate_foreign_exceptions(exc: Exception, status: int, code: str) -> None:
    translated = translate(exc)
    assert isinstance(translated, errors.PushAuthError)
    assert (translated.status_code, translated.code) == (status, code)
    assert "hunter2" not in translated.message
    assert "secret" not in translated.message


def test_validation_problems_are_listed() -> None:
    exc = ValidationException("bad", extra=[{"key": "user_id", "message": "too long"}])
    translated = translate(exc)
    assert translated.details == {"problems": ["user_id: too long"]}
    assert "user_id: too long" in translated.message


def test_unexpected_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="pushauth.server"):
        translate(RuntimeError("boom"))
    assert any(record.exc_info for record in caplog.records)


@get("/raise/{name:str}", sync_to_thread=False)
def raiser(request: Request[Any, Any, Any]) -> None:
    name = request.path_params["name"]
    if name == "RuntimeError":
        raise RuntimeError("internal detail: /var/lib/pushauth/secret")
    raise getattr(errors, name)("A clear message for the caller.", field="x")


@pytest.fixture(scope="module")
def tiny() -> Iterator[TestClient[Litestar]]:
    """A bare app with only our exception handlers, whose one route raises what it is told."""
    app = Litestar(route_handlers=[raiser], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app=app) as client:
        yield client


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_error_over_http(tiny: TestClient[Litestar], cls: type[errors.PushAuthError]) -> None:
    response = tiny.get(f"/raise/{cls.__name__}")
    assert response.status_code == cls.status_code
    assert response.json() == {
        "error": {
            "code": cls.code,
            "message": "A clear message for the caller.",
            "details": {"field": "x"},
        }
    }


def test_an_unexpected_exception_is_a_bare_500_over_http(tiny: TestClient[Litestar]) -> None:
    response = tiny.get("/raise/RuntimeError")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal server error.", "details": {}}
    }
    assert "Traceback" not in response.text
    assert "secret" not in response.text


async def test_an_unexpected_exception_in_the_app_is_a_500(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(harness.services.challenges, "view", boom)
    response = await harness.rp("GET", "/v1/challenges/ch_anything")
    error = assert_error(response, 500, "internal_error")
    assert error["details"] == {}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
