"""What a person pastes into the enrollment form."""

from __future__ import annotations

from pushauth_device.tui.enroll_line import PastedEnrollment, parse_enrollment


def test_the_line_pushauth_enroll_prints() -> None:
    line = "  pushauth-device enroll --server http://h:8300 --token et_abc  "
    assert parse_enrollment(line) == PastedEnrollment(token="et_abc", server_url="http://h:8300")


def test_equals_form_and_quotes() -> None:
    line = "pushauth-device enroll --server='http://h:1' --token=et_x"
    assert parse_enrollment(line) == PastedEnrollment(token="et_x", server_url="http://h:1")


def test_a_bare_token() -> None:
    assert parse_enrollment(" et_abc\n") == PastedEnrollment(token="et_abc")
