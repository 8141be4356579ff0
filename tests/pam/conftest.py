"""Fixtures for the PAM tests. Those marked ``pam`` change the system (PAM service files, Unix
users, an sshd): they need root. Outside CI they are skipped when not root; in CI (``CI`` set)
they must run, and fail if they cannot."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pam.system import UnixUser, build_module, unix_user

REQUIRED_TOOLS = ("gcc", "pamtester", "sshd", "ssh", "ssh-keygen", "useradd")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("pam") is None:
            continue
        if os.geteuid() != 0 and not os.environ.get("CI"):
            item.add_marker(pytest.mark.skip(reason="the PAM tests need root (they run in CI)"))


@pytest.fixture(scope="session")
def system_ready() -> None:
    if os.geteuid() != 0:
        pytest.fail("the PAM tests need root: CI runs them as root")
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool, path=path) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: `bash scripts/test` installs them")


@pytest.fixture(scope="session")
def pam_module(system_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pam_pushauth.so, built once per session by the real install step."""
    directory = tmp_path_factory.mktemp("pam-module")
    os.chmod(directory, 0o755)
    return build_module(directory)


@pytest.fixture(scope="session")
def login_user(system_ready: None) -> Iterator[UnixUser]:
    with unix_user() as user:
        yield user


@pytest.fixture(scope="session")
def other_user(system_ready: None) -> Iterator[UnixUser]:
    with unix_user() as user:
        yield user
