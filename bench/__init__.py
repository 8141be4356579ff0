"""The pushauth benchmark: real server, real devices, real signatures, baselines in the same run.

Run it with ``python -m bench`` (``--help`` for the options); ``docs/performance.md`` explains
every figure. The pieces, one per module:

* :mod:`bench.server` — ``pushauth serve`` as a subprocess, its memory and CPU from ``/proc``;
* :mod:`bench.devices` — simulated devices on the project's client library;
* :mod:`bench.flows` — one complete push flow, one at a time and under concurrency;
* :mod:`bench.idle` — many idle device streams held by a lean asyncio client;
* :mod:`bench.baselines` — the floor (``GET /health``) and the polling design it replaces;
* :mod:`bench.tui` — challenge creation to the device app's request screen;
* :mod:`bench.report` / :mod:`bench.plot` — the Rich table, the JSON file and the PNG.
"""

from bench.config import BenchConfig
from bench.runner import run_benchmark

__all__ = ["BenchConfig", "run_benchmark"]
