"""``python -m pushauth_pam``: the same as the ``pushauth-pam`` command."""

from __future__ import annotations

from pushauth_pam.main import run

run()
