"""One run of a scenario: load it, run it (with a progress bar if asked), summarise it."""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from routesim.model import RouteModel
from routesim.network import RouteNetwork
from routesim.outcomes import RunResult
from routesim.scenario import Scenario

try:
    __version__ = version("routesim")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"


def prepare(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    days: int | None = None,
    scale: int | None = None,
    overrides: Sequence[str] = (),
) -> Scenario:
    """The scenario a run will use: loaded if a path, `overrides` (`PATH=VALUE`) applied, and
    `seed`, `days` and `scale` replacing its own where given."""
    if isinstance(scenario, Scenario):
        scenario = scenario.with_overrides(overrides) if overrides else scenario
    else:
        scenario = Scenario.load(scenario, overrides)
    changes = {k: v for k, v in (("seed", seed), ("days", days), ("scale", scale)) if v is not None}
    return scenario.with_updates(**changes) if changes else scenario


class SharedWarmups:
    """Runs that differ only in what happens after the warm-up (treatments, policies from day
    1 on) pass through it once: the first runs it and keeps a copy of its model at day 0, the
    others go on from copies. Every random draw is in the copied model, so each run's outputs
    are those it gives alone; a closure starting on day 1 costs one year, not four."""

    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        """`scenarios`: every run to come (seeds set), so a warm-up is kept while one needs it."""
        self._uses = Counter(_warmup(s) for s in scenarios)
        self._kept: dict[tuple[str, int], bytes] = {}

    def model(self, scenario: Scenario, network: RouteNetwork | None = None) -> RouteModel:
        """A model of `scenario`, at the end of its warm-up if it shares one with a run to come
        or gone before (else fresh: it runs its own)."""
        key = _warmup(scenario)
        self._uses[key] -= 1
        last = self._uses[key] <= 0
        kept = self._kept.pop(key, None) if last else self._kept.get(key)
        if kept is not None:
            model = pickle.loads(kept)
            model.carry_on_as(scenario)
            return model
        model = RouteModel(scenario, network)
        if not last and scenario.warmup_days > 0:
            model.run_model(until=0)
            self._kept[key] = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        return model


def _warmup(scenario: Scenario) -> tuple[str, int]:
    return scenario.warmup_key(), scenario.seed


def run(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    days: int | None = None,
    scale: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = False,
    network: RouteNetwork | None = None,
    warmups: SharedWarmups | None = None,
) -> RunResult:
    """Run one scenario (a `Scenario` or a YAML path) and return its summary, daily and leg tables.

    Arguments as in `prepare`; `progress=True` shows a progress bar on a terminal. `network`, if
    given, must be the scenario's own (`RouteNetwork.load(scenario.network.data_dir)`): runs
    never change it, so a sweep reads it once for many runs. `warmups`, if given, shares this
    run's warm-up with the other runs it was made for.
    """
    scenario = prepare(scenario, seed, days, scale, overrides)
    model = warmups.model(scenario, network) if warmups else RouteModel(scenario, network)
    total = scenario.warmup_days + scenario.days
    with tqdm(
        total=total,
        initial=model.day + scenario.warmup_days,
        unit="day",
        disable=not progress,
        leave=False,
        desc=scenario.name,
        mininterval=0.5,
        delay=2,  # only runs longer than a couple of seconds get a bar
    ) as bar:
        model.run_model(progress=bar.update)
    daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    daily.insert(0, "day", np.arange(len(daily)))
    summary = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "config_hash": scenario.config_hash(model.network.digest),
        "routesim_version": __version__,
        "days": scenario.days,
        "warmup_days": scenario.warmup_days,
        "scale": scenario.scale,
        "policy_days": scenario.policy_days(),
        "metrics": {k: float(v) for k, v in model.metrics().items()},
    }
    out = model.outcomes
    return RunResult(summary, daily, out.legs_table(), out.arrivals_table())
