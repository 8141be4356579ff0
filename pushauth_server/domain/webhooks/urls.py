"""Which URLs an endpoint may have.

Only ``http`` and ``https``, with a host, at most 2048 characters, and without credentials
(``user:password@``): they would be stored and listed in clear, and the signature already tells
the receiver who is calling. No fragment (it is never sent). Loopback and private addresses are
allowed: endpoints are added by operators (admin scope), and receivers often sit next to the
server.

Printable ASCII only (an international host name in its ``xn--`` form, other characters
percent-encoded): the URL stored and listed is then exactly the one requested. A Unicode host
would be converted on the way out (``safe.example\u3002attacker.net`` is requested as
``safe.example.attacker.net``), and invisible or right-to-left characters could make a listed
URL read as another. The URL must also be one the delivering HTTP client can request (a valid
``xn--`` label, ...), else every delivery to it would fail.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from pushauth_server import errors

MAX_URL_LENGTH = 2048


def checked_url(url: str) -> str:
    """``url`` if it may be an endpoint; else ``invalid_webhook_url`` saying why."""

    def refuse(why: str) -> errors.InvalidWebhookUrl:
        return errors.InvalidWebhookUrl(f"The webhook URL {why}.", field="url")

    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in url):
        raise refuse("contains spaces or control characters")
    if not url.isascii():
        raise refuse(
            "must be plain ASCII: write an international host name in its xn-- form and "
            "percent-encode other characters"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refuse("cannot be read") from exc
    if parts.scheme not in ("http", "https"):
        raise refuse("must start with http:// or https://")
    if not parts.hostname:
        raise refuse("has no host")
    if port == 0:
        raise refuse("has port 0")
    if parts.username is not None or parts.password is not None:
        raise refuse("must not carry credentials (user:password@); the signature identifies us")
    if parts.fragment or url.endswith("#"):
        raise refuse("must not have a #fragment")
    try:
        _ = httpx.URL(url).host  # decoded as the worker's request decodes it (for Host:)
    except (httpx.InvalidURL, ValueError) as exc:
        raise refuse("cannot be read") from exc
    return url
