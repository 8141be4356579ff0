"""Settings are read when they are built, never at import (STYLE 4)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from pushauth_server.app import MissingApiKey, create_app
from pushauth_server.settings import Settings
from tests.support.settings import TestSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in list(__import__("os").environ):
        if name.startswith("PUSHAUTH_"):
            monkeypatch.delenv(name)


def test_importing_the_server_reads_no_settings(tmp_path: Path) -> None:
    # If anything read PUSHAUTH_* (or .env) at import, these invalid values would fail the import.
    (tmp_path / ".env").write_text("PUSHAUTH_MAX_REQUEST_BYTES=tiny\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "PUSHAUTH_PORT": "not-a-port",
        "PUSHAUTH_CHALLENGE_TTL_SECONDS": "-1",
        "PUSHAUTH_CHANNELS_BACKEND": "carrier-pigeon",
    }
    code = (
        "import pushauth_server, pushauth_server.app, pushauth_server.settings, "
        "pushauth_server.services, pushauth_server.client; print('imported')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
    # ... and the same environment does fail once settings are built.
    failing = subprocess.run(
        [sys.executable, "-c", "from pushauth_server.settings import Settings; Settings()"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failing.returncode != 0
    assert "ValidationError" in failing.stderr


def test_settings_read_the_environment_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHAUTH_PORT", "9443")
    first = Settings()
    monkeypatch.setenv("PUSHAUTH_PORT", "9444")
    monkeypatch.setenv("PUSHAUTH_ALLOW_PLAIN_APPROVAL", "true")
    second = Settings()
    assert first.port == 9443
    assert first.allow_plain_approval is False
    assert second.port == 9444
    assert second.allow_plain_approval is True


def test_dot_env_is_read_at_construction(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PUSHAUTH_VERIFICATION_CODE_DIGITS=8\n")
    assert Settings().verification_code_digits == 8


def test_invalid_environment_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHAUTH_VERIFICATION_CODE_DIGITS", "9")
    with pytest.raises(ValidationError, match="verification_code_digits"):
        Settings()


def test_explicit_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHAUTH_PORT", "9443")
    assert Settings(port=8000).port == 8000
    assert Settings.load(port=8001, host=None).port == 8001
    assert Settings.load(host=None).host == "127.0.0.1"


def test_create_app_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHAUTH_API_KEY", "pak_from-the-environment")
    with pytest.raises(MissingApiKey):
        create_app(Settings(api_key=None))


def test_origin_defaults_to_host_and_port() -> None:
    assert Settings(host="10.0.0.2", port=8443).origin == "http://10.0.0.2:8443"
    assert Settings(public_url="https://auth.example.com/").origin == "https://auth.example.com"


def test_api_key_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHAUTH_API_KEY", "pak_very-secret")
    settings = Settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "pak_very-secret"
    assert "pak_very-secret" not in repr(settings)


def test_test_settings_read_neither_the_environment_nor_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What every other test builds its settings with: a developer's PUSHAUTH_* variables or a
    # .env in the directory pytest runs from must change nothing.
    monkeypatch.setenv("PUSHAUTH_PORT", "1")
    (tmp_path / ".env").write_text("PUSHAUTH_VERIFICATION_CODE_DIGITS=8\n")
    assert Settings().port == 1  # (the real Settings does read them)
    assert Settings().verification_code_digits == 8
    isolated = TestSettings(api_key="k")
    assert isolated.port == 8300
    assert isolated.verification_code_digits == 6
    assert TestSettings(port=9).port == 9


def test_no_other_test_builds_settings_from_the_environment() -> None:
    tests = Path(__file__).resolve().parents[1]
    allowed = {Path(__file__).resolve(), tests / "support" / "settings.py"}
    offenders = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if path.resolve() not in allowed and re.search(r"(?<![\w.])Settings\(", path.read_text())
    ]
    assert offenders == []
