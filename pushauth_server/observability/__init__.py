"""What an operator watches: Prometheus metrics, structured logs, the readiness probe."""

from pushauth_server.observability.metrics import Metrics

__all__ = ["Metrics"]
