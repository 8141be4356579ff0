"""pushauth_pam/request.py and authenticate.spaced: what the device is told, and how the number
is shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pushauth_pam.authenticate import spaced
from pushauth_pam.request import PamRequest, challenge_body

SUDO = PamRequest(
    user="alice",
    service="sudo",
    rhost="",
    ruser="alice",
    tty="/dev/pts/3",
    pam_type="auth",
    hostname="web1",
    command="sudo systemctl restart nginx",
)
SSH = replace(SUDO, service="sshd", rhost="203.0.113.9", ruser="", tty="ssh", command="")


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("sudo", "sudo"),
        ("sudo-i", "sudo"),
        ("su", "su"),
        ("su-l", "su"),
        ("sshd", "sshLogin"),
        ("sshd-test", "sshLogin"),
        ("login", "pam:login"),
        ("odd service!", "pam:odd_service_"),
    ],
)
def test_action_names_the_service(service: str, action: str) -> None:
    assert replace(SUDO, service=service).action == action


def test_sudo_body_says_where_and_with_pushinfo_what() -> None:
    body = challenge_body(SUDO, user_id="alice@example.com", pushinfo=True, timeout=60)
    assert body["user_id"] == "alice@example.com"
    assert body["action"] == "sudo"
    context = body["context"]
    assert context["note"] == "sudo on web1"
    assert context["initiator_host"] == "web1"
    assert context["initiator_ip"] == ""
    assert context["custom"] == {
        "service": "sudo",
        "host": "web1",
        "tty": "/dev/pts/3",
        "requested_by": "alice",
        "command": "sudo systemctl restart nginx",
    }
    assert body["expires_in_seconds"] > 60  # our own deadline cancels it first


def test_command_is_sent_only_with_pushinfo() -> None:
    body = challenge_body(SUDO, user_id="alice", pushinfo=False, timeout=60)
    assert "command" not in body["context"]["custom"]


def test_ssh_body_carries_the_remote_address() -> None:
    body = challenge_body(SSH, user_id="alice", pushinfo=True, timeout=60)
    assert body["action"] == "sshLogin"
    assert body["context"]["initiator_ip"] == "203.0.113.9"
    assert body["context"]["note"] == "SSH login to web1 as alice from 203.0.113.9"


def test_a_remote_host_name_is_kept_as_custom_context() -> None:
    body = challenge_body(replace(SSH, rhost="evil.example"), user_id="a", pushinfo=0, timeout=1)
    assert body["context"]["initiator_ip"] == ""
    assert body["context"]["custom"]["remote_host"] == "evil.example"


def test_su_names_who_asked() -> None:
    su = replace(SUDO, service="su", user="root", ruser="alice")
    assert su.describe() == "su to root on web1 by alice"


def test_values_are_cut_to_the_servers_limits_and_control_characters_removed() -> None:
    long = replace(SUDO, command="x" * 1000 + "\x1b[2J")
    custom = challenge_body(long, user_id="a", pushinfo=True, timeout=1)["context"]["custom"]
    assert len(custom["command"]) == 256
    assert "\x1b" not in custom["command"]


def test_environment_is_read() -> None:
    request = PamRequest.from_environment(
        {"PAM_USER": "bob", "PAM_SERVICE": "sshd", "PAM_RHOST": "::1", "PAM_TTY": "ssh"}
    )
    assert (request.user, request.service, request.rhost, request.tty) == (
        "bob",
        "sshd",
        "::1",
        "ssh",
    )
    assert request.is_ssh


@pytest.mark.parametrize(
    ("code", "shown"), [("482913", "482 913"), ("12345678", "1234 5678"), ("1234", "1234")]
)
def test_number_is_spaced_for_reading(code: str, shown: str) -> None:
    assert spaced(code) == shown
