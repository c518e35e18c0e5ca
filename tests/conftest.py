"""Shared helpers: small, fast scenarios and replicate runs on a process pool."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import routesim
from routesim.network import RouteNetwork
from routesim.scenario import Scenario, merge
from routesim.targets import measure, select

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
# The shipped scenarios one can run, besides the baseline (calibrated.yaml is its fitted part).
POLICY_SCENARIOS = sorted(
    p.stem for p in SCENARIOS.glob("*.yaml") if p.stem not in ("baseline", "calibrated")
)

# Small enough for a test, big enough that every mechanism happens: 1 agent = 25 people.
SMALL = {"name": "small", "scale": 25, "warmup_days": 150, "days": 120, "seed": 3}
# For comparisons of distributions: busy legs need enough boats for leg-level rates.
MEDIUM = {"name": "medium", "scale": 10, "warmup_days": 200, "days": 300}


def open_finding(reason: str) -> pytest.MarkDecorator:
    """An expected failure the model does not meet yet, with its measured reason: strict, so a
    pass is noticed, and only as a failed assertion, so an error in the test does not pass."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def arrival_share(arrivals: pd.DataFrame, route: str, nationalities: list[str]) -> float:
    """The share of `route`'s arrivals that are of `nationalities` (pooled over the runs
    `arrivals` holds), measured as the calibration's nationality targets measure it."""
    on_route = f"route={route}"
    of = measure(select(arrivals, f"{on_route};nationality={'|'.join(nationalities)}"), "arrived")
    return of / measure(select(arrivals, on_route), "arrived")


def small(size: dict[str, Any] = SMALL, **changes: Any) -> Scenario:
    """The baseline's policies on a small, fast run; `changes` merge in (policies append)."""
    base = Scenario.load(SCENARIOS / "baseline.yaml").model_dump(mode="python")
    return Scenario.from_dict(merge(merge(base, size), changes))


def _run_summary(args: tuple[dict[str, Any], dict[str, Any], int]) -> dict[str, Any]:
    size, changes, seed = args
    result = routesim.run(small(size, **changes), seed=seed)
    legs = result.legs.set_index(["leg_from", "leg_to"])
    return {"metrics": result.metrics, "legs": legs.to_dict("index")}


def replicates(
    changes: dict[str, Any], seeds: range, size: dict[str, Any] = MEDIUM
) -> list[dict[str, Any]]:
    """Run one configuration over several seeds, in parallel (fresh processes, no fork)."""
    workers = min(len(seeds), os.cpu_count() or 1, 4)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_run_summary, [(size, changes, s) for s in seeds]))


def edited_network(tmp_path: Path, file: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    """A copy of the packaged network in `tmp_path/net` with one CSV changed by `edit`."""
    folder = tmp_path / "net"
    shutil.copytree(RouteNetwork.load().folder, folder)
    table = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    edit(table).to_csv(folder / file, index=False)
    return folder


@pytest.fixture(scope="session")
def small_result() -> routesim.RunResult:
    return routesim.run(small())
