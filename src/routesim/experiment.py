"""Experiments: a sweep file's question as a list of runs (design points x replicates, seeded).

A sweep file (YAML, validated like a scenario) names a scenario, a design over dotted parameter
paths, replicates, a parent seed and the metrics to keep. `Experiment.plan` turns it into runs;
every run's seed comes from the parent seed through `numpy.random.SeedSequence`, keyed by its
design point and replicate, so no two runs share a seed and every run can be redone alone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy.stats import qmc

from routesim.network import RouteNetwork
from routesim.outcomes import EXTRA_METRICS, METRICS
from routesim.scenario import Scenario, ScenarioError, _Strict, read_yaml, validate

Value = bool | int | float | str
KNOWN_METRICS = METRICS + EXTRA_METRICS
RESERVED = ("seed", "name", "source")  # set per run or meaningless to vary


class Design(_Strict):
    """Which parameter values to run: every combination (`grid`), or `samples` points of a
    Latin hypercube (`lhs`) or of Saltelli's Sobol' scheme (`sobol`) between [low, high]."""

    kind: Literal["grid", "lhs", "sobol"]
    samples: Annotated[int, Field(ge=2)] | None = None
    parameters: dict[str, list[Value]]

    @model_validator(mode="after")
    def _coherent(self) -> Design:
        if not self.parameters:
            raise ValueError("empty design: give at least one parameter under `parameters`")
        if self.kind == "grid":
            if self.samples is not None:
                raise ValueError("`samples` is for lhs and sobol; a grid runs every combination")
            for path, values in self.parameters.items():
                if not values:
                    raise ValueError(f"{path}: give at least one value")
            return self
        if self.samples is None:
            raise ValueError(f"a {self.kind} design needs `samples` (how many points)")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples must be a power of 2 (e.g. 64), got {self.samples}")
        for path, bounds in self.parameters.items():
            numeric = all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            if len(bounds) != 2 or not numeric:
                raise ValueError(f"{path}: give bounds as [low, high], got {bounds}")
            low, high = float(bounds[0]), float(bounds[1])
            if low >= high:
                raise ValueError(f"{path}: bounds reversed or empty: low {low:g} >= high {high:g}")
        return self


class Experiment(_Strict):
    """A sweep: a scenario, a design over its parameters, replicates and what to keep."""

    name: str
    description: str = ""
    scenario: str  # a scenario file, relative to the sweep file (made in Python: to the cwd)
    design: Design
    replicates: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    metrics: tuple[str, ...] = METRICS
    daily: tuple[str, ...] = ()
    source: str = Field(default="<memory>", exclude=True)

    @model_validator(mode="after")
    def _known(self) -> Experiment:
        for key in ("metrics", "daily"):
            unknown = [m for m in getattr(self, key) if m not in KNOWN_METRICS]
            if unknown:
                raise ValueError(
                    f"{key}: unknown metric {unknown[0]!r} (allowed: {', '.join(KNOWN_METRICS)})"
                )
        if not self.metrics:
            raise ValueError("metrics: keep at least one metric")
        return self

    @classmethod
    def load(cls, path: str | Path) -> Experiment:
        """Read and validate a sweep file."""
        path = Path(path)
        return validate(cls, read_yaml(path), path)

    @property
    def results_folder(self) -> Path:
        """Where `routesim sweep` stores results unless told otherwise: runs/<name>."""
        return Path("runs") / self.name

    @property
    def scenario_path(self) -> Path:
        return Path(self.source).parent / self.scenario

    def plan(self, overrides: tuple[str, ...] = ()) -> Plan:
        """The runs of this experiment on its scenario (with `PATH=VALUE` overrides), every
        design point checked against the scenario before anything runs."""
        scenario = Scenario.load(self.scenario_path, overrides)
        for path in self.design.parameters:
            self._check_path(scenario, path)
        points = [self._checked(scenario, point) for point in self._points(scenario)]
        runs = [
            RunSpec(f"p{p}-r{r}", p, r, _seed(self.seed, p, r))
            for p in range(len(points))
            for r in range(self.replicates)
        ]
        identity = {
            "scenario": scenario.config_hash(RouteNetwork.load(scenario.network.data_dir).digest),
            "set": list(overrides),
            **self.model_dump(
                mode="json", include={"design", "replicates", "seed", "metrics", "daily"}
            ),
        }
        return Plan(self, scenario, points, runs, identity)

    def problem(self) -> dict[str, Any]:
        """The design as SALib's `problem` dictionary."""
        names = list(self.design.parameters)
        bounds = [[float(v) for v in self.design.parameters[n]] for n in names]
        return {"num_vars": len(names), "names": names, "bounds": bounds}

    def _points(self, scenario: Scenario) -> list[dict[str, Value]]:
        names = list(self.design.parameters)
        if self.design.kind == "grid":
            combos = itertools.product(*self.design.parameters.values())
            return [dict(zip(names, combo, strict=True)) for combo in combos]
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        if self.design.kind == "lhs":
            unit = qmc.LatinHypercube(d=len(names), rng=rng).random(self.design.samples)
            low, high = np.array(self.problem()["bounds"]).T
            table = qmc.scale(unit, low, high)
        else:
            from SALib.sample import sobol

            table = sobol.sample(
                self.problem(), self.design.samples, calc_second_order=False, seed=rng
            )
        whole = [isinstance(scenario.value_at(n), int) for n in names]
        return [
            {
                n: round(float(v)) if w else float(v)
                for n, v, w in zip(names, row, whole, strict=True)
            }
            for row in table
        ]

    def _check_path(self, scenario: Scenario, path: str) -> None:
        key = f"design.parameters.{path}"
        if path in RESERVED:
            raise ScenarioError(
                self.source, key, f"{path} cannot be a parameter (seeds come from `seed`)"
            )
        try:
            current = scenario.value_at(path)
        except ScenarioError as err:
            raise ScenarioError(
                self.source, key, f"not a scenario parameter: {err.message}"
            ) from None
        if isinstance(current, dict | list):
            raise ScenarioError(
                self.source, key, "names a section, not a value: add the key inside it"
            )

    def _checked(self, scenario: Scenario, point: dict[str, Value]) -> dict[str, Value]:
        """`point` if the scenario accepts it; else an error naming the parameter at fault."""
        try:
            scenario.with_values(point)
            return point
        except ScenarioError as err:
            problem = err
        for path, value in point.items():
            try:
                scenario.with_values({path: value})
            except ScenarioError as err:
                raise ScenarioError(
                    self.source, f"design.parameters.{path}", f"value {value!r}: {err.message}"
                ) from None
        raise ScenarioError(
            self.source, "design.parameters", f"the point {point} is invalid: {problem}"
        )


@dataclass(frozen=True)
class RunSpec:
    """One run: a design point, a replicate, and the seed they get."""

    run_id: str
    point: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class Plan:
    """What a sweep runs: the scenario, its design points and runs, and an identity that says
    whether two plans would produce the same table (used to refuse mixing sweeps in a folder)."""

    experiment: Experiment
    scenario: Scenario
    points: list[dict[str, Value]]
    runs: list[RunSpec]
    identity: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(self.identity, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _seed(parent: int, point: int, replicate: int) -> int:
    """A run's seed: its own stream of the parent seed, so design points never share seeds."""
    return int(np.random.SeedSequence(parent, spawn_key=(point, replicate)).generate_state(1)[0])
