"""The PNG: round-trip distributions, pushauth against the polling baseline (``plot`` extra)."""

from __future__ import annotations

from pathlib import Path


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed: ``pip install 'pushauth[plot]'``."""


def plot_round_trips(series: dict[str, list[float]], path: Path, *, title: str) -> Path:
    """Empirical CDFs of each series (milliseconds, log scale) in one PNG at ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailable("matplotlib is not installed: pip install 'pushauth[plot]'") from exc

    figure, axes = plt.subplots(figsize=(9, 5), dpi=120)
    for label, values in series.items():
        ordered = sorted(values)
        if not ordered:
            continue
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        median = ordered[len(ordered) // 2]
        axes.step(ordered, fractions, where="post", label=f"{label} (median {median:,.1f} ms)")
    axes.set_xscale("log")
    axes.set_xlabel("round trip: create -> relying party has the approval (ms, log scale)")
    axes.set_ylabel("fraction of flows")
    axes.set_ylim(0, 1.01)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
