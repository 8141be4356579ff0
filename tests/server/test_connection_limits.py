"""The arithmetic of the connection guard (connections.py), without sockets."""

from __future__ import annotations

import logging
import resource

import pytest

from pushauth_server.connections import (
    FD_RESERVE,
    ConnectionLimits,
    ConnectionRegistry,
    RateLimitedLog,
)


def test_the_cap_stays_below_the_open_file_limit() -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limits = ConnectionLimits(max_connections=10**9, max_connections_per_client=10**9)
    assert limits.total == soft - FD_RESERVE
    assert limits.per_client == limits.total // 2


def test_one_address_gets_its_share_and_others_still_get_in() -> None:
    registry = ConnectionRegistry(
        ConnectionLimits(max_connections=10, max_connections_per_client=3)
    )
    assert [registry.admit("10.0.0.1") for _ in range(3)] == [None] * 3
    assert registry.admit("10.0.0.1") is not None
    assert registry.admit("10.0.0.2") is None
    registry.release("10.0.0.1")
    assert registry.admit("10.0.0.1") is None


def test_the_total_cap_refuses_everyone() -> None:
    registry = ConnectionRegistry(ConnectionLimits(max_connections=4, max_connections_per_client=4))
    for address in ("a", "b", "c", "d"):
        assert registry.admit(address) is None
    assert registry.admit("e") is not None
    registry.release("a")
    assert registry.admit("e") is None
    assert dict(registry.by_client) == {"b": 1, "c": 1, "d": 1, "e": 1}


def test_a_biting_limit_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    log = RateLimitedLog(interval=3600)
    with caplog.at_level(logging.WARNING, logger="pushauth.connections"):
        for _ in range(500):
            log.note("total", "1000 connections open")
        log.note("read-timeout", "slow")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["connection limit: 1000 connections open", "connection limit: slow"]


def test_the_next_line_counts_what_was_suppressed(caplog: pytest.LogCaptureFixture) -> None:
    log = RateLimitedLog(interval=0)
    log._last["total"] = 0.0  # as if the last line was long ago
    log._suppressed["total"] = 41
    with caplog.at_level(logging.WARNING, logger="pushauth.connections"):
        log.note("total", "full")
    assert [r.getMessage() for r in caplog.records] == [
        "connection limit: full (and 41 more since the last report)"
    ]
