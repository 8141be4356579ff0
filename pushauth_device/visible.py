"""Text a server or relying party sent, made safe to show: nothing in it is ever interpreted.

Every screen and every ``pushauth-device`` output passes such text through :func:`visible`, the
one implementation the CLI shares (:mod:`pushauth_server.visible`).
"""

from __future__ import annotations

from pushauth_server.visible import visible

__all__ = ["visible"]
