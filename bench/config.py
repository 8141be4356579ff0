"""What one benchmark run does: scales, durations and where results go."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

FULL_DEVICE_LEVELS = (1_000, 5_000, 10_000, 15_000)
FULL_CONCURRENCY = (1, 8, 32, 128)
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """Every knob of a run. :meth:`full` and :meth:`quick` are the two documented presets."""

    database_url: str | None = None  # None: a fresh SQLite file in a temporary directory
    # `pushauth serve --workers N`; None: one process with the memory channels backend. A number
    # (1 too, for a like-for-like comparison) runs with PUSHAUTH_CHANNELS_BACKEND=redis.
    workers: int | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    out_dir: Path = RESULTS_DIR
    # Round trip, one flow at a time.
    round_trip_flows: int = 1_000
    warmup_flows: int = 50
    # Throughput: each level runs for this long (or until flows_cap flows have completed).
    concurrency: tuple[int, ...] = FULL_CONCURRENCY
    throughput_seconds: float = 8.0
    throughput_flows_cap: int = 50_000
    # Idle device streams, and flows measured one at a time while they are connected.
    device_levels: tuple[int, ...] = FULL_DEVICE_LEVELS
    flows_per_device_level: int = 300
    enroll_concurrency: int = 32
    connect_concurrency: int = 64
    idle_cpu_seconds: float = 3.0  # server CPU watched with only the idle streams open
    idle_budget_seconds: float = 390.0  # no new level starts after this; the rest are skipped
    # Baselines.
    health_seconds: float = 4.0
    health_concurrency: int = 32
    health_round_trips: int = 1_000
    polling_pairs: int = 24
    polling_flows_per_pair: int = 3
    rp_poll_seconds: float = 2.0  # the guide's relying party polls the challenge every 2 s
    device_poll_seconds: float = 3.0  # ... and its device polls its pending list every 3 s
    # The device app (skipped, and reported as such, when it is not installed).
    tui_samples: int = 20
    # Output.
    plot: bool = True
    flow_timeout_seconds: float = 30.0
    label: str = "full"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def full(cls, **overrides: object) -> BenchConfig:
        return replace(cls(), **overrides)  # type: ignore[arg-type]

    @classmethod
    def quick(cls, **overrides: object) -> BenchConfig:
        """Every measurement at a scale that finishes in well under a minute."""
        quick = cls(
            label="quick",
            round_trip_flows=100,
            warmup_flows=10,
            concurrency=(1, 8, 32),
            throughput_seconds=1.5,
            device_levels=(100, 250),
            flows_per_device_level=30,
            health_seconds=1.0,
            health_round_trips=200,
            polling_pairs=4,
            polling_flows_per_pair=1,
            tui_samples=5,
            idle_cpu_seconds=1.0,
        )
        return replace(quick, **overrides)  # type: ignore[arg-type]
