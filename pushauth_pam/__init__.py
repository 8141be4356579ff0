"""pushauth for Unix logins: ``pushauth-pam`` and the ``pam_pushauth.so`` module that runs it.

sudo, su and sshd ask the PAM ``auth`` stack; ``pam_pushauth.so`` runs ``pushauth-pam auth``,
which creates a challenge on the pushauth server, shows the number through the PAM conversation
(inside a prompt where the service holds info messages back, as sshd does), waits for the answer
and exits 0 only on approval. See docs/pam.md.

This package imports nothing but the standard library, so that it reaches the server within
150 ms of being started: it must not import ``pushauth_cli`` or ``pushauth_server``.
"""

from __future__ import annotations

__all__: list[str] = []
