"""What the benchmarks measure, in one place: one run of a scenario in a fresh process.

A fresh process per run, so that its peak memory is that run's and nothing is warm from an
earlier one. Migrant-days are agent-days of migrants in the system, counted at the end of every
day, warm-up included: waiting at their origin, travelling, working, detained, held or exploited;
not arrived, dead or gone home. At `scale: 1` an agent is a person. The benchmarks import this
module by name, so run them as scripts (`python tests/benchmarks/bench_run.py`), not with -m.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def _run(path: str, updates: dict[str, Any], values: dict[str, Any]) -> dict[str, float]:
    from routesim import RouteModel, Scenario
    from routesim.agents.migrant import Migrant
    from routesim.outcomes import IN_TRANSIT

    scenario = Scenario.load(path).with_updates(**updates).with_values(values)
    start = time.perf_counter()
    model = RouteModel(scenario)
    in_state = model.outcomes.in_state
    migrant_days = 0.0

    def count_day() -> None:
        nonlocal migrant_days
        migrant_days += sum(in_state[s] for s in IN_TRANSIT) / model.scale  # people -> agents

    model.run_model(progress=count_day)  # as `routesim run` runs it
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "migrants": len(model.agents_by_type[Migrant]),
        "migrant_days": migrant_days,
        "migrant_days_per_s": migrant_days / wall,
        "peak_mb": _peak_mb(),
    }


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def run_fresh(
    path: Path = BASELINE,
    updates: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Run the scenario at `path` (top-level `updates`, dotted-path `values`) in a new process."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_run, str(path), updates or {}, values or {}).result()


def machine() -> str:
    """What the numbers were measured on, printed first by every benchmark. The interpreter's
    build matters as well as its version: on this project's 2-core machine the same run takes
    12 % less time on Debian's CPython 3.11.2 than on pyenv's 3.11.7 (the README says more)."""
    return (
        f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}), "
        f"{os.cpu_count()} cores"
    )


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}
