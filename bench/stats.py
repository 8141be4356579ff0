"""Latency summaries: percentiles by linear interpolation, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) of already sorted values, interpolated linearly."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summary(values_ms: Sequence[float]) -> dict[str, float | int]:
    """Count, min, p50, p95, p99, max and mean of ``values_ms``, rounded to microseconds."""
    ordered = sorted(values_ms)
    if not ordered:
        return {"count": 0}
    result: dict[str, float | int] = {"count": len(ordered)}
    for name, value in (
        ("min", ordered[0]),
        ("p50", percentile(ordered, 0.50)),
        ("p95", percentile(ordered, 0.95)),
        ("p99", percentile(ordered, 0.99)),
        ("max", ordered[-1]),
        ("mean", sum(ordered) / len(ordered)),
    ):
        result[name] = round(value, 3)
    return result
