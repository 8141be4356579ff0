"""The server keeps only a hash of the relying party's API key, never the key itself."""

from __future__ import annotations

import gc
import types
from pathlib import Path

from pushauth_server.app import create_app
from pushauth_server.auth import ApiKeyCheck
from pushauth_server.clock import sha256_hex
from pushauth_server.services import Services
from tests.support.settings import TestSettings

KEY = "pak_the-secret-key-" + "x" * 30


def _reachable_strings(root: object) -> set[str]:
    """Every str reachable from ``root`` through object references (what the app holds),
    without wandering into modules (a function's globals are not the function's state)."""
    seen: set[int] = set()
    found: set[str] = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, types.ModuleType | type):
            continue
        elif isinstance(item, types.FunctionType):
            stack.extend(cell.cell_contents for cell in item.__closure__ or ())
            stack.extend(item.__defaults__ or ())
        else:
            stack.extend(gc.get_referents(item))
    return found


def test_the_app_holds_the_hash_not_the_key(tmp_path: Path) -> None:
    settings = TestSettings(api_key=KEY, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    app = create_app(settings)
    services: Services = app.state["services"]
    assert services.settings.api_key is None
    strings = _reachable_strings(app)
    assert KEY not in strings
    assert sha256_hex(KEY) in strings  # the check compares against the hash


def test_api_key_check_stores_only_the_hash() -> None:
    check = ApiKeyCheck(KEY, audit=None, apps=None)  # type: ignore[arg-type]
    assert KEY not in _reachable_strings(check)
