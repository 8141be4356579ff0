"""``GET /metrics``: off unless ``PUSHAUTH_METRICS_TOKEN`` is set, then behind that bearer token.

Why protected: the counts say who signs in how often, which devices are online and how the
server is refused — worth keeping from the internet the relying-party and device API face. Why
a token rather than a second listener: one port to run, proxy and firewall, and the reverse
proxy can keep ``/metrics`` internal as well (docs/operations.md). Only the token's SHA-256 is
kept, compared in constant time; a wrong or missing token is ``401 invalid_metrics_token`` and a
``security.invalid_metrics_token`` log line (not an audit row: no user or device is involved).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get

from pushauth_server import errors
from pushauth_server.clock import sha256_hex
from pushauth_server.observability.logs import security_event
from pushauth_server.observability.metrics import CONTENT_TYPE, Metrics


def metrics_route(metrics: Metrics, token: str) -> Any:
    expected = sha256_hex(token)

    @get("/metrics", include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        scheme, _sep, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sha256_hex(presented.strip()), expected
        ):
            client = request.client.host if request.client else None
            security_event("security.invalid_metrics_token", client=client)  # a log line only
            raise errors.InvalidMetricsToken(
                "GET /metrics needs 'Authorization: Bearer <PUSHAUTH_METRICS_TOKEN>'."
            )
        return Response(await metrics.render(), media_type=CONTENT_TYPE)

    return scrape
