"""Calibration: fit free scenario parameters to the reported targets (`routesim calibrate`).

The method is differential evolution (scipy), chosen for a stochastic simulator because it needs
no gradients, searches the whole box between the bounds, and evaluates a whole population of
candidates at once, so one generation is one parallel sweep. Every candidate is run with the same
replicate seeds (common random numbers): the loss is then a deterministic function of the
parameters, differences between candidates are not differences of luck, and DE's greedy selection
is not fooled by a lucky draw. The loss is the sum of squared deviations from the targets' bands
(see `targets`), on the replicate mean.

Responses are fitted like levels: a target naming a treatment (defined under `treatments:`) is
the relative change between each run and its twin under that treatment, run with the same seed
(the sweep's treatments: see `experiment`), so every candidate runs untreated and under every
treatment that a fitted target names.

Each generation is stored as a sweep (`OUT/generations/NNN`); DE's own draws come from the
config's seed, so a run started again replays the same candidates, finds their runs stored, and
carries on where it stopped. At the end the best parameters are run at the scenario's own scale
with fresh seeds (the check), then written as a scenario file, and a report is written
(`calibration_report`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, model_validator

from routesim.experiment import KNOWN_METRICS, Experiment, Treatment
from routesim.network import RouteNetwork
from routesim.outcomes import arrivals_frame, check_output_folder, write_atomically
from routesim.runner import __version__
from routesim.scenario import Scenario, ScenarioError, _Strict, read_yaml, set_value, validate
from routesim.store import ResultStore, load_arrivals, load_legs, load_results
from routesim.sweep import _locked, sweep
from routesim.targets import (
    Run,
    check_metrics,
    check_selections,
    check_treatments,
    deviation,
    inside,
    load_targets,
    loss,
    measure_run,
    treatments,
)


class Method(_Strict):
    """Differential evolution's settings (scipy.optimize.differential_evolution)."""

    generations: Annotated[int, Field(ge=1)] = 15
    population: Annotated[int, Field(ge=2)] = 3  # candidates per free parameter
    mutation: tuple[float, float] = (0.5, 1.0)
    recombination: Annotated[float, Field(ge=0.0, le=1.0)] = 0.7
    # stop early once the population's losses agree this well (relative); 0: run every generation
    tolerance: Annotated[float, Field(ge=0.0)] = 0.0

    @model_validator(mode="after")
    def _mutation(self) -> Method:
        low, high = self.mutation
        if not 0 <= low <= high <= 2:
            raise ValueError("mutation: give [low, high] with 0 <= low <= high <= 2")
        return self


class Calibration(_Strict):
    """A calibration file: which scenario, which free parameters between which bounds, against
    which targets, and where the fitted values are written (paths relative to this file)."""

    name: str
    description: str = ""
    scenario: str
    write: str  # the scenario file the fitted values go to (the scenario should extend it)
    targets: str | None = None  # a targets CSV; the packaged 2021 targets if not given
    set: tuple[str, ...] = ()  # PATH=VALUE for the fitting runs only (e.g. a coarser scale)
    parameters: dict[str, tuple[float, float]]
    replicates: Annotated[int, Field(ge=1)] = 2
    seed: Annotated[int, Field(ge=0)] = 0
    method: Method = Method()
    check_replicates: Annotated[int, Field(ge=1)] = 10  # full-scale runs of the fitted scenario
    # what response targets contrast with the candidate's runs: name -> set and extra policies
    treatments: dict[str, Treatment] = Field(default_factory=dict)
    # why a target is missed (target id: reason), printed in the report beside each miss
    misses: dict[str, str] = Field(default_factory=dict)
    source: str = Field(default="<memory>", exclude=True)

    @model_validator(mode="after")
    def _coherent(self) -> Calibration:
        if not self.parameters:
            raise ValueError("parameters: name at least one free parameter with [low, high]")
        for path, (low, high) in self.parameters.items():
            if not low < high:
                raise ValueError(f"parameters.{path}: bounds must be [low, high] with low < high")
        return self

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        path = Path(path)
        return validate(cls, read_yaml(path), path)

    def path(self, relative: str) -> Path:
        """A path named in the file, resolved against the file's folder."""
        return (Path(self.source).parent / relative).resolve()

    @property
    def results_folder(self) -> Path:
        return Path("runs") / self.name


@dataclass
class Fit:
    """What a calibration produced: every candidate evaluated, the best values, the check."""

    config: Calibration
    targets: pd.DataFrame
    history: pd.DataFrame  # generation, candidate, parameters, loss, then each target's mean
    best: dict[str, float]
    written: Path
    check: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per run, per target
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> list[str]:
        return list(self.config.parameters)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Per target: reported, simulated median and 90 % interval, inside or not."""
        from routesim.calibration_report import fit_table

        return fit_table(self.targets, self.check)

    @cached_property
    def scores(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Every evaluated candidate (rows: generation, candidate) on every fitted target: its
        deviation in sd, and whether it is inside (within `accept`)."""
        t = self.targets[self.targets["fit"]]
        values = self.history.set_index(["generation", "candidate"])[t.index]
        deviations = values.apply(lambda row: deviation(t, row), axis=1)
        return deviations, values.apply(lambda row: inside(t, row), axis=1)


def calibrate(
    config: Calibration | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: bool = True,
) -> Fit:
    """Fit `config`'s free parameters, write them as a scenario file, check the fitted scenario
    and write the report into `out` (default runs/<name>). Executors as in `sweep`. Started
    again on the same folder, it resumes."""
    executors = {
        "workers": workers,
        "scheduler": scheduler,
        "dask_local": dask_local,
        "progress": progress,
    }
    config, targets, folder, scenario = _prepared(config, out)
    with _locked(folder):
        runner = _Generations(config, targets, folder, scenario, executors)
        best = runner.fit()
        check = runner.check(best)
        # written only now, complete: an interrupted fit leaves the scenario as it was
        written = write_scenario(config, scenario, best)
        fit = Fit(config, targets, runner.history, best, written, check)
        fit.notes = _uses_written(config, best)
        from routesim.calibration_report import write_report

        write_report(fit, folder)
    return fit


def check_fit(
    config: Calibration | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The scenario as its fitted file now holds it, checked against every target as a fit's
    check is (`check_replicates` runs with the same fresh seeds, under each treatment), without
    fitting: whether a fit still holds after the model changed. Writes check.md, check.csv and
    check.png into `out` and returns the table (one row per target)."""
    from routesim.calibration_report import fit_table, write_check

    executors = {
        "workers": workers,
        "scheduler": scheduler,
        "dask_local": dask_local,
        "progress": progress,
    }
    config, targets, folder, scenario = _prepared(config, out)
    with _locked(folder):
        runner = _Generations(config, targets, folder, scenario, executors)
        table = fit_table(targets, runner.check({}))
        write_check(config, table, folder)
    return table


def _prepared(
    config: Calibration | str | Path, out: str | Path | None
) -> tuple[Calibration, pd.DataFrame, Path, Scenario]:
    """The calibration, its targets, its results folder and its scenario, every part checked
    before anything runs."""
    if not isinstance(config, Calibration):
        config = Calibration.load(config)
    targets = load_targets(config.path(config.targets) if config.targets else None)
    folder = Path(out) if out is not None else config.results_folder
    check_output_folder(folder)
    scenario = Scenario.load(config.path(config.scenario))
    network = RouteNetwork.load(scenario.network.data_dir)
    _check_parameters(config, scenario, network)
    check_selections(
        targets,
        network.legs.rename(columns={"from": "leg_from", "to": "leg_to"}),
        _possible_arrivals(network),
    )
    check_treatments(targets, config.treatments, config.source)
    check_metrics(targets, KNOWN_METRICS)
    return config, targets, folder, scenario


def _possible_arrivals(network: RouteNetwork) -> pd.DataFrame:
    """Every route and nationality a run on `network` can count, as an arrivals table."""
    country = network.locations.set_index("name")["country"]
    nationalities = country[network.origins["location"]].unique()
    routes = network.legs["route"].unique()
    pairs = pd.MultiIndex.from_product([routes, nationalities], names=["route", "nationality"])
    return pairs.to_frame(index=False).assign(arrived=0.0)


def _check_parameters(config: Calibration, scenario: Scenario, network: RouteNetwork) -> None:
    """Fail before anything is written if `set` or a free parameter does not fit the scenario."""
    try:
        scenario = scenario.with_overrides(config.set)
    except ScenarioError as err:
        raise ScenarioError(config.source, f"set: {err.key}", err.message) from None
    origins = network.origins["location"]
    for path, (low, _) in config.parameters.items():
        key = f"parameters.{path}"
        if isinstance(_current(scenario, path), dict | list):
            raise ScenarioError(config.source, key, "names a section, not a value")
        if path.split(".")[0] in ("seed", "name", "days", "warmup_days", "scale"):
            raise ScenarioError(config.source, key, "a run setting, not a model parameter")
        try:
            scenario.with_overrides([f"{path}={low!r}"])
        except ScenarioError as err:
            raise ScenarioError(config.source, key, err.message) from None
        if path.startswith("migrants.origin_flow.") and path.split(".")[2] not in set(origins):
            raise ScenarioError(
                config.source, key, f"not an origin (origins: {', '.join(origins)})"
            )
    for name, treatment in config.treatments.items():
        treatment.apply(scenario, name, config.source)
    _check_policies_in_written_file(config, scenario)


def _check_policies_in_written_file(config: Calibration, scenario: Scenario) -> None:
    """A fitted policy must live in the file the fit writes (if that file exists): written
    there while also defined elsewhere, it would be defined twice."""
    path = config.path(config.write)
    if not path.is_file():
        return
    there = {p.get("id") for p in read_yaml(path).get("policies") or [] if isinstance(p, dict)}
    for key in config.parameters:
        keys = key.split(".")
        if keys[0] == "policies" and keys[1] not in there:
            raise ScenarioError(
                config.source,
                f"parameters.{key}",
                f"policy {keys[1]!r} is defined outside {config.write}: move it there, so that "
                "the fit writes it in one place",
            )


def _current(scenario: Scenario, path: str) -> Any:
    try:
        return scenario.value_at(path)
    except ScenarioError:
        return None


class _Generations:
    """Differential evolution whose every generation is a sweep of candidates x replicates."""

    def __init__(
        self,
        config: Calibration,
        targets: pd.DataFrame,
        folder: Path,
        scenario: Scenario,
        executors: dict[str, Any],
    ) -> None:
        self.config, self.targets, self.folder = config, targets, folder
        self.executors = executors
        measured = targets[targets["measure"].notna()]
        # the treatments each candidate runs under (fitted responses), and the check's (all)
        self.fitted_arms = treatments(measured[measured["fit"]])
        self.check_arms = treatments(measured)
        metrics = measured.loc[measured["measure"] == "metric", "where"]
        self.metrics = list(dict.fromkeys(["arrived", *metrics]))
        self.generation = 0
        self.rows: list[dict[str, Any]] = []
        current = {p: _current(scenario, p) for p in config.parameters}
        self.whole = {p: type(v) is int for p, v in current.items()}
        self.start = self._start(current)
        # every free parameter exists in each run's scenario, whatever the file holds
        self.base_set = (*config.set, *(f"{p}={v!r}" for p, v in self.start.items()))

    def _start(self, current: dict[str, Any]) -> dict[str, float]:
        """Where the search starts: each parameter's current value (inside its bounds), else
        the middle. Kept in the folder with what shapes the search (bounds, settings, seed,
        method, targets), so that a resumed fit starts where the first one did even after the
        scenario has taken the fitted values, and a different fit is refused up front."""
        c = self.config
        identity = {
            "parameters": {p: list(b) for p, b in c.parameters.items()},
            "set": list(c.set),
            "replicates": c.replicates,
            "seed": c.seed,
            "method": c.method.model_dump(mode="json", exclude={"generations"}),
            "targets": hashlib.sha256(self.targets.to_csv().encode()).hexdigest()[:16],
            "treatments": {
                n: c.treatments[n].model_dump(mode="json", exclude_none=True)
                for n in self.fitted_arms
            },
        }
        kept = self.folder / "calibration.json"
        if kept.is_file():
            stored = json.loads(kept.read_text())
            differ = [k for k in identity if stored["identity"].get(k) != identity[k]]
            if differ:
                raise ScenarioError(
                    self.folder,
                    "",
                    f"holds a calibration with other {', '.join(differ)}: use another --out, "
                    "or delete the folder to start over",
                )
            return stored["start"]
        start = {
            p: float(np.clip(v, low, high)) if type(v) in (int, float) else (low + high) / 2
            for (p, (low, high)), v in zip(c.parameters.items(), current.values(), strict=True)
        }
        text = json.dumps({"identity": identity, "start": start}, indent=2) + "\n"
        write_atomically({kept: lambda tmp: tmp.write_text(text)})
        return start

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def fit(self) -> dict[str, float]:
        from scipy.optimize import differential_evolution

        names = list(self.config.parameters)
        m = self.config.method
        differential_evolution(
            _unused,
            bounds=[self.config.parameters[n] for n in names],
            x0=[self.start[n] for n in names],
            popsize=m.population,
            maxiter=m.generations,
            mutation=m.mutation,
            recombination=m.recombination,
            tol=m.tolerance,
            rng=np.random.default_rng(self.config.seed),
            init="latinhypercube",
            polish=False,  # a gradient step on a simulated loss chases noise
            updating="deferred",
            workers=self.evaluate,
        )
        best = self.history.sort_values(["loss", "generation", "candidate"]).iloc[0]
        return {n: float(best[n]) for n in names}

    def evaluate(self, _: Callable[..., float], candidates: Iterable[np.ndarray]) -> list[float]:
        """One generation: run every candidate `replicates` times (same seeds for all) as one
        sweep, and return each candidate's loss."""
        names = list(self.config.parameters)
        points = [
            {n: round(v) if self.whole[n] else _rounded(v) for n, v in zip(names, x, strict=True)}
            for x in candidates
        ]
        folder = self.folder / "generations" / f"{self.generation:03d}"
        runs = self._sweep(
            folder,
            f"{self.config.name}-g{self.generation:03d}",
            points,
            self.config.replicates,
            self.config.seed,
            self.base_set,
            self.fitted_arms,
        )
        means = runs.drop(columns="replicate").groupby("point").mean()
        losses = []
        for i, point in enumerate(points):
            values = means.loc[i]
            loss_i = loss(self.targets, values)
            losses.append(loss_i)
            self.rows.append(
                {
                    "generation": self.generation,
                    "candidate": i,
                    **point,
                    "loss": loss_i,
                    **values.to_dict(),
                }
            )
        self.generation += 1
        return losses

    def check(self, best: dict[str, float]) -> pd.DataFrame:
        """The fitted scenario as it will be run (no `set`), with seeds the fit never used."""
        values = tuple(f"{p}={v!r}" for p, v in best.items())
        key = hashlib.sha256(json.dumps(values).encode()).hexdigest()[:8]
        measured = self._sweep(
            self.folder / f"check-{key}",  # one folder per fitted set: a longer fit checks anew
            f"{self.config.name}-check",
            [{}],
            self.config.check_replicates,
            self.config.seed + 1,
            values,
            self.check_arms,
        )
        return measured.reset_index(drop=True)

    def _sweep(
        self,
        folder: Path,
        name: str,
        points: list[dict[str, float]],
        replicates: int,
        seed: int,
        overrides: Sequence[str],
        arms: Sequence[str],
    ) -> pd.DataFrame:
        """Run `points` as a sweep in `folder`, untreated and under each treatment of `arms`,
        and measure every untreated run against the targets (responses against its treated
        twins): one row per untreated run (point, replicate), one column per target."""
        design = (
            {"kind": "points", "parameters": {p: [pt[p] for pt in points] for p in points[0]}}
            if points[0]
            else None
        )
        experiment = validate(
            Experiment,
            {
                "name": name,
                "scenario": str(self.config.path(self.config.scenario)),
                "design": design,
                "replicates": replicates,
                "seed": seed,
                "metrics": self.metrics,
                "legs": True,
                "common_seeds": True,
                "treatments": {a: self.config.treatments[a] for a in arms},
            },
            self.config.source,
        )
        sweep(experiment, folder, overrides=overrides, **self.executors)
        with ResultStore.open(folder) as store:
            failed = store.results(all_runs=True).query("status != 'done'")
        if len(failed):
            raise ScenarioError(
                folder,
                "",
                f"{len(failed)} runs failed (first: {failed['error'].iloc[0]}); fix the cause "
                "and run again to resume",
            )
        runs = _runs(folder)
        rows = []
        n = len(points)  # the sweep's points: the untreated, then each arm's in the same order
        for point in range(n):
            for replicate in range(replicates):
                treated = {a: runs[(k + 1) * n + point, replicate] for k, a in enumerate(arms)}
                values = measure_run(runs[point, replicate], self.targets, treated)
                rows.append({"point": point, "replicate": replicate, **values.to_dict()})
        return pd.DataFrame(rows).set_index("point")


def _runs(folder: Path) -> dict[tuple[int, int], Run]:
    """Every run of a stored sweep, by (point, replicate): its leg table, its metrics and who
    arrived where."""
    metrics = load_results(folder).set_index(["point", "replicate"])
    arrivals = dict(tuple(load_arrivals(folder).groupby(["point", "replicate"])))
    return {
        (int(point), int(replicate)): Run(
            legs,
            metrics.loc[(point, replicate)].to_dict(),
            arrivals.get((point, replicate), arrivals_frame()),
        )
        for (point, replicate), legs in load_legs(folder).groupby(["point", "replicate"])
    }


def _unused(x: np.ndarray) -> float:  # DE needs a function; `evaluate` replaces its map
    raise AssertionError("candidates are evaluated a generation at a time, by _Generations")


def _rounded(value: float) -> float:
    """Four significant digits: what the scenario file will hold, so the fit runs it."""
    return float(f"{float(value):.4g}")


def write_scenario(config: Calibration, scenario: Scenario, best: dict[str, float]) -> Path:
    """Write the fitted values as a scenario file that reads on its own: each policy with a
    fitted value whole (with its `where`), and each setting with the key that holds it under
    its section whole (`smugglers.tactics` with every tactic), since a mapping given in a file
    replaces its default rather than merging into it."""
    path = config.path(config.write)
    data: dict[str, Any] = read_yaml(path) if path.is_file() else {}
    data.setdefault("name", f"{config.name}-fitted")  # what else the file holds is kept
    policies: list[dict[str, Any]] = data.setdefault("policies", [])
    dump = scenario.model_dump(mode="json")
    for key, value in best.items():
        keys = key.split(".")
        if keys[0] == "policies":
            entry = next((p for p in policies if p.get("id") == keys[1]), None)
            if entry is None:
                entry = _policy(scenario, keys[1], config.source)
                policies.append(entry)
            entry[keys[2]] = value
            continue
        section = data.setdefault(keys[0], {})
        if len(keys) > 2 and keys[1] not in section:
            section[keys[1]] = dump[keys[0]][keys[1]]
        set_value(section, ".".join(keys[1:]), value, create=True)
    if not policies:
        del data["policies"]
    header = (
        f"# Written by `routesim calibrate {Path(config.source).name}` (routesim {__version__}):\n"
        f"# the values of its free parameters that fit the targets best. Do not edit by hand:\n"
        f"# calibrate again (see the README). The report is in the calibration's output folder.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    write_atomically({path: lambda tmp: tmp.write_text(text)})
    return path


def _policy(scenario: Scenario, policy_id: str, source: str) -> dict[str, Any]:
    for policy in scenario.policies:
        if policy.id == policy_id:
            return policy.model_dump(mode="json", exclude_none=True)
    raise ScenarioError(source, f"parameters.policies.{policy_id}", "no policy with this id")


def _uses_written(config: Calibration, best: dict[str, float]) -> list[str]:
    """Warnings where the scenario file, read again, does not take the values just written
    (it does not extend the written file, or sets the value itself)."""
    scenario = Scenario.load(config.path(config.scenario))
    notes = []
    for path, value in best.items():
        try:
            current = scenario.value_at(path)
        except ScenarioError:
            current = None
        if current is None or not math.isclose(float(current), value, rel_tol=1e-9):
            notes.append(
                f"{config.scenario} does not take {path} from {config.write} "
                f"(it has {current!r}): make it extend {config.write} and not set {path}"
            )
    return notes
