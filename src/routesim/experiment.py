"""Experiments: a sweep file's question as a list of runs (design points x replicates, seeded).

A sweep file (YAML, validated like a scenario) names a scenario (or several, to compare them), a
design over dotted parameter paths, replicates, a parent seed and what to keep. `Experiment.plan`
turns it into runs; every run's seed comes from the parent seed through
`numpy.random.SeedSequence`, keyed by its design point and replicate, so no two runs share a seed
(unless `common_seeds` asks for common random numbers) and every run can be redone alone. A
design point is one scenario with one set of values.

`treatments` make contrasts on paired runs: every design point is also run under each treatment
(its values, then the treatment's changes), and each treated run has the seed of its untreated
twin, whatever `common_seeds` says, so that the difference between them is the treatment's and
not the draws'.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from routesim.network import RouteNetwork
from routesim.outcomes import EXTRA_METRICS, METRICS
from routesim.scenario import Policy, Scenario, ScenarioError, _Strict, read_yaml, validate

Value = bool | int | float | str
KNOWN_METRICS = METRICS + EXTRA_METRICS
RESERVED = ("seed", "name", "source")  # set per run or meaningless to vary
COMPARE = "routesim compare"  # where a comparison's errors come from (its paths: the cwd's)


class Design(_Strict):
    """Which parameter values to run: every combination (`grid`), the i-th value of every
    parameter together (`points`: lists of equal length), or `samples` points of a Latin
    hypercube (`lhs`) or of Saltelli's Sobol' scheme (`sobol`) between [low, high]."""

    kind: Literal["grid", "points", "lhs", "sobol"]
    samples: Annotated[int, Field(ge=2)] | None = None
    parameters: dict[str, list[Value]]

    @model_validator(mode="after")
    def _coherent(self) -> Design:
        if not self.parameters:
            raise ValueError("empty design: give at least one parameter under `parameters`")
        if self.kind in ("grid", "points"):
            if self.samples is not None:
                raise ValueError(f"`samples` is for lhs and sobol, not for a {self.kind} design")
            for path, values in self.parameters.items():
                if not values:
                    raise ValueError(f"{path}: give at least one value")
            lengths = {len(v) for v in self.parameters.values()}
            if self.kind == "points" and len(lengths) > 1:
                raise ValueError(
                    "points: every parameter needs one value per point (lists of equal length)"
                )
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


class Treatment(_Strict):
    """What a treated run changes in its untreated twin's scenario, after the design point's
    values: `set` (PATH=VALUE, as --set), then `policies` appended to the timeline (later
    entries win where they overlap)."""

    set: tuple[str, ...] = ()
    policies: tuple[Policy, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> Treatment:
        if not self.set and not self.policies:
            raise ValueError("a treatment changes something: give `set` or `policies`")
        for item in self.set:
            path = item.partition("=")[0].strip()
            if "=" not in item:
                raise ValueError(f"set: expected PATH=VALUE, got {item!r}")
            if path in RESERVED:
                raise ValueError(f"set: {path} cannot be treated (a treated run has its twin's)")
        return self

    def apply(self, scenario: Scenario, name: str, source: str | Path) -> Scenario:
        """`scenario` under this treatment (named `<its name>+<name>`); a problem is one error
        naming `source` and the treatment's key."""
        key = f"treatments.{name}"
        try:
            treated = scenario.with_overrides(self.set)
        except ScenarioError as err:
            raise ScenarioError(source, _joined(f"{key}.set", err.key), err.message) from None
        data = treated.model_dump(mode="python")
        data["policies"] = [*data["policies"], *(p.model_dump() for p in self.policies)]
        data["name"] = f"{scenario.name}+{name}"
        try:
            return Scenario.from_dict(data, source=scenario.source)
        except ScenarioError as err:
            raise ScenarioError(source, _joined(key, err.key), err.message) from None


class Experiment(_Strict):
    """A sweep: one or more scenarios, a design over their parameters (none: each scenario as
    it is), replicates and what to keep (metrics, daily series, per-leg tables)."""

    name: str
    description: str = ""
    # scenario files, relative to the sweep file (made in Python: to the cwd)
    scenario: str | tuple[str, ...]
    design: Design | None = None
    replicates: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    metrics: tuple[str, ...] = METRICS
    daily: tuple[str, ...] = ()
    legs: bool = False  # keep each run's per-leg table (for flow maps)
    # common random numbers: replicate r has the same seed at every design point, so that
    # differences between points are not blurred by different draws
    common_seeds: bool = False
    # contrasts: every point also run under each treatment, with its untreated twin's seeds
    treatments: dict[str, Treatment] = Field(default_factory=dict)
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
        if not self.scenario_files:
            raise ValueError("scenario: name at least one scenario file")
        if len(self.scenario_files) > 1 and self.design and self.design.kind == "sobol":
            raise ValueError("a sobol design takes one scenario: its indices are per scenario")
        return self

    @classmethod
    def comparison(
        cls,
        scenarios: Sequence[str | Path],
        replicates: int = 10,
        seed: int = 0,
        metrics: Sequence[str] = METRICS,
        name: str | None = None,
    ) -> Experiment:
        """Scenarios side by side: each run `replicates` times, keeping `metrics`, their daily
        series and per-leg tables."""
        files = [str(s) for s in scenarios]
        if len(files) < 2:
            raise ScenarioError(
                COMPARE, "SCENARIO", "give two scenarios or more: the base, then the others"
            )
        data = {
            "name": name or "-vs-".join(Path(f).stem for f in files),
            "scenario": files,
            "replicates": replicates,
            "seed": seed,
            "metrics": list(metrics),
            "daily": list(metrics),
            "legs": True,
        }
        return validate(cls, data, COMPARE)

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
    def scenario_files(self) -> tuple[str, ...]:
        return (self.scenario,) if isinstance(self.scenario, str) else self.scenario

    @property
    def parameters(self) -> list[str]:
        """The swept parameters' dotted paths (none if there is no design)."""
        return list(self.design.parameters) if self.design else []

    def plan(self, overrides: tuple[str, ...] = ()) -> Plan:
        """The runs of this experiment (with `PATH=VALUE` overrides on every scenario), every
        design point checked against its scenario before anything runs."""
        folder = Path(self.source).parent
        bases = [Scenario.load(folder / f, overrides) for f in self.scenario_files]
        names = [s.name for s in bases]
        if len(set(names)) < len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise ScenarioError(
                self.source, "scenario", f"two scenarios are named {twice!r}: rename one"
            )
        scenarios: list[Scenario] = []
        points: list[dict[str, Value]] = []
        for base in bases:
            for path in self.parameters:
                self._check_path(base, path)
            for point in self._points(base):
                scenarios.append(self._checked(base, point))
                points.append(point)
        # the untreated points first (numbered as without treatments), then each treatment's
        untreated = len(points)
        for name, treatment in self.treatments.items():
            scenarios += [treatment.apply(s, name, self.source) for s in scenarios[:untreated]]
            points += points[:untreated]
        runs = [
            RunSpec(f"p{p}-r{r}", p, r, _seed(self.seed, self.twin(p, untreated), r))
            for p in range(len(points))
            for r in range(self.replicates)
        ]
        hashes = [s.config_hash(RouteNetwork.load(s.network.data_dir).digest) for s in bases]
        kept = {"design", "replicates", "seed", "metrics", "daily"} | (
            {k for k in ("legs", "common_seeds", "treatments") if getattr(self, k)}
        )
        identity = {
            "scenario": hashes[0] if isinstance(self.scenario, str) else hashes,
            "set": list(overrides),
            **self.model_dump(mode="json", include=kept),
        }
        return Plan(self, scenarios, points, runs, identity)

    def twin(self, point: int, untreated: int) -> int:
        """The point whose seeds `point` runs with: 0 for all under common seeds, else its
        untreated twin (itself, if untreated), of the `untreated` points that come first."""
        return 0 if self.common_seeds else point % untreated

    def problem(self) -> dict[str, Any]:
        """The design as SALib's `problem` dictionary."""
        assert self.design is not None
        names = self.parameters
        bounds = [[float(v) for v in self.design.parameters[n]] for n in names]
        return {"num_vars": len(names), "names": names, "bounds": bounds}

    def _points(self, scenario: Scenario) -> list[dict[str, Value]]:
        if self.design is None:
            return [{}]
        names = self.parameters
        if self.design.kind == "grid":
            combos = itertools.product(*self.design.parameters.values())
            return [dict(zip(names, combo, strict=True)) for combo in combos]
        if self.design.kind == "points":
            columns = zip(*self.design.parameters.values(), strict=True)
            return [dict(zip(names, values, strict=True)) for values in columns]
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        if self.design.kind == "lhs":
            from scipy.stats import qmc  # imported when used: scipy.stats takes 0.6 s to load

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

    def _checked(self, scenario: Scenario, point: dict[str, Value]) -> Scenario:
        """The scenario with `point`'s values; else an error naming the parameter at fault."""
        try:
            return scenario.with_values(point)
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
    """What a sweep runs: per design point its scenario (values applied) and values; the runs;
    and an identity that says whether two plans would produce the same table (used to refuse
    mixing sweeps in a folder)."""

    experiment: Experiment
    scenarios: list[Scenario]
    points: list[dict[str, Value]]
    runs: list[RunSpec]
    identity: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        payload = json.dumps(self.identity, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def scenario_names(self) -> list[str]:
        """The scenarios compared, in order (one unless the experiment names several)."""
        return list(dict.fromkeys(s.name for s in self.scenarios))


def _joined(key: str, inner: str) -> str:
    return f"{key}: {inner}" if inner else key


def _seed(parent: int, point: int, replicate: int) -> int:
    """A run's seed: its own stream of the parent seed, so design points never share seeds."""
    return int(np.random.SeedSequence(parent, spawn_key=(point, replicate)).generate_state(1)[0])
