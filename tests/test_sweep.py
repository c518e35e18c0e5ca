"""Sweeps: designs and seeds, the same table on every executor, and nothing lost when runs fail,
workers die or the whole sweep is killed and started again."""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import routesim
from routesim.cli import main
from routesim.experiment import Experiment
from routesim.model import RouteModel
from routesim.scenario import Scenario, ScenarioError
from routesim.store import FILE, load_results

from .conftest import SCENARIOS

# `routesim.sweep` is the function; the module it comes from:
sweep_module = importlib.import_module("routesim.sweep")

# A run of this scenario takes about 0.2 s: sweeps of a dozen runs test every path in seconds.
TINY = {"name": "tiny", "scale": 100, "warmup_days": 40, "days": 40}
GRID = {
    "name": "tiny-grid",
    "scenario": "tiny.yaml",
    "design": {
        "kind": "grid",
        "parameters": {
            "policies.libya_coast_guard.enforcement": [0.2, 0.8],
            "migrants.risk_aversion": [0.5, 1.5],
        },
    },
    "replicates": 3,
    "seed": 7,
    "metrics": ["arrived_central", "dead", "smuggler_use_share"],
    "daily": ["arrived", "dead"],
}


def write_experiment(folder: Path, changes: dict[str, Any] | None = None, **top: Any) -> Path:
    """The tiny scenario and a sweep file over it in `folder`; returns the sweep file."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = {"extends": str(SCENARIOS / "baseline.yaml"), **TINY}
    (folder / "tiny.yaml").write_text(yaml.safe_dump(scenario))
    spec = {**GRID, **(changes or {}), **top}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def done_runs(folder: Path) -> int:
    if not (folder / FILE).exists():
        return 0
    with sqlite3.connect(folder / FILE, timeout=10) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM status WHERE status='done'").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def when_done(folder: Path, runs: int, action: Any, seen: list[int]) -> threading.Thread:
    """Call `action()` from a thread once `runs` runs are stored in `folder`; append to `seen`
    how many were stored when it acted."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while done_runs(folder) < runs and time.monotonic() < deadline:
            time.sleep(0.02)
        seen.append(done_runs(folder))
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The grid sweep run in this process, uninterrupted: the table every other way must give."""
    folder = tmp_path_factory.mktemp("reference")
    path = write_experiment(folder)
    return path, routesim.sweep(path, folder / "out", workers=1, progress=False)


# --- designs and seeds -------------------------------------------------------------------


def test_grid_runs_every_combination_with_distinct_seeds(reference) -> None:
    path, table = reference
    assert len(table) == 2 * 2 * 3
    params = table[["policies.libya_coast_guard.enforcement", "migrants.risk_aversion"]]
    assert params.drop_duplicates().shape[0] == 4
    assert table.seed.is_unique
    assert list(table.columns[:4]) == ["run_id", "point", "replicate", "seed"]
    assert table.attrs["metrics"] == GRID["metrics"]
    again = Experiment.load(path).plan()
    assert [r.seed for r in again.runs] == table.seed.tolist()
    reseeded = Experiment.load(path).model_copy(update={"seed": 8}).plan()
    assert not set(r.seed for r in reseeded.runs) & set(table.seed)


def test_latin_hypercube_and_sobol_designs(tmp_path: Path) -> None:
    bounds = {"migrants.risk_aversion": [0.5, 2.0], "migrants.info_delay_days": [1, 60]}
    lhs = Experiment.load(
        write_experiment(tmp_path, design={"kind": "lhs", "samples": 10, "parameters": bounds})
    ).plan()
    table = pd.DataFrame(lhs.points)
    assert len(table) == 10 and len(lhs.runs) == 30
    # one point in each tenth of each parameter's range: the Latin hypercube property
    bins = np.floor((table["migrants.risk_aversion"] - 0.5) / 1.5 * 10).astype(int)
    assert sorted(bins) == list(range(10))
    assert all(isinstance(v, int) for v in table["migrants.info_delay_days"])  # an int field
    assert table["migrants.info_delay_days"].between(1, 60).all()

    sobol = Experiment.load(
        write_experiment(tmp_path, design={"kind": "sobol", "samples": 8, "parameters": bounds})
    ).plan()
    assert len(sobol.points) == 8 * (2 + 2)


# --- one table, whatever runs it -------------------------------------------------------------


def test_process_pool_and_dask_give_the_in_process_table(reference, tmp_path: Path) -> None:
    path, expected = reference
    pool = routesim.sweep(path, tmp_path / "pool", workers=2, progress=False)
    dask = routesim.sweep(path, tmp_path / "dask", dask_local=2, progress=False)
    pd.testing.assert_frame_equal(pool, expected)
    pd.testing.assert_frame_equal(dask, expected)
    daily = routesim.load_daily(tmp_path / "dask")
    pd.testing.assert_frame_equal(daily, routesim.load_daily(path.parent / "out"))
    assert len(daily) == len(expected) * TINY["days"]
    workers = load_results(tmp_path / "pool", all_runs=True).worker.nunique()
    assert workers == 2


def test_a_run_that_raises_is_recorded_and_retried_on_resume(
    reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, expected = reference
    bad_seed = int(expected.seed.iloc[5])
    real_run = sweep_module.run

    def flaky(scenario, **how):
        if scenario.seed == bad_seed:
            raise RuntimeError("boat capsized in the code")
        return real_run(scenario, **how)

    monkeypatch.setattr(sweep_module, "run", flaky)
    table = routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    runs = load_results(tmp_path / "out", all_runs=True)
    failed = runs[runs.status == "failed"]
    assert len(table) == len(expected) - 1 and len(failed) == 1
    assert failed.seed.item() == bad_seed
    assert "RuntimeError: boat capsized in the code (at test_sweep.py:" in failed.error.item()

    monkeypatch.setattr(sweep_module, "run", real_run)
    pd.testing.assert_frame_equal(
        routesim.sweep(path, tmp_path / "out", workers=1, progress=False), expected
    )


# --- nothing lost ---------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_sigkill_mid_sweep_then_resume_gives_the_same_table(reference, tmp_path: Path) -> None:
    path, expected = reference
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "routesim.cli", "sweep", str(path), "--out", str(out)]
    sweep = subprocess.Popen(
        [*command, "--workers", "2", "--quiet"], start_new_session=True, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while done_runs(out) < 3 and time.monotonic() < deadline and sweep.poll() is None:
        time.sleep(0.02)
    workers = children(sweep.pid)
    os.kill(sweep.pid, signal.SIGKILL)  # the driver only, no clean-up
    sweep.wait()
    done = done_runs(out)
    assert 3 <= done < len(expected), f"killed too late to test anything ({done} done)"
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(sweep.pid, signal.SIGKILL)
    assert workers and not orphans, "the killed sweep's workers should exit on their own"

    finished = subprocess.run([*command, "--quiet"], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    pd.testing.assert_frame_equal(load_results(out), expected)
    runs = load_results(out, all_runs=True)
    assert (runs.status == "done").all() and runs.run_id.is_unique


def test_a_pool_worker_killed_mid_sweep_does_not_stop_it(reference, tmp_path: Path) -> None:
    path, expected = reference

    def kill_a_worker() -> None:
        os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    seen: list[int] = []
    killer = when_done(tmp_path / "out", 2, kill_a_worker, seen)
    table = routesim.sweep(path, tmp_path / "out", workers=2, progress=False)
    killer.join()
    assert seen[0] < len(expected) - 2  # killed while runs were in flight
    pd.testing.assert_frame_equal(table, expected)
    # the broken pool was replaced: runs finished on more than the first two processes
    assert load_results(tmp_path / "out", all_runs=True).worker.nunique() > 2


def test_a_dask_worker_killed_mid_sweep_does_not_stop_it(reference, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path, expected = reference
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cl,
        distributed.Client(cl) as client,
    ):
        pids = list(client.run(os.getpid).values())
        seen: list[int] = []
        killer = when_done(tmp_path / "out", 2, lambda: os.kill(pids[0], signal.SIGKILL), seen)
        table = routesim.sweep(
            path, tmp_path / "out", scheduler=cl.scheduler_address, progress=False
        )
        killer.join()
    assert seen[0] < len(expected) - 2  # killed while runs were in flight
    pd.testing.assert_frame_equal(table, expected)


def test_the_cli_reports_a_finished_sweep_and_runs_nothing_again(reference, capsys) -> None:
    path, expected = reference
    out = path.parent / "out"
    before = load_results(out, all_runs=True).finished.tolist()
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(expected)} of {len(expected)} runs done, 0 failed" in printed
    assert "mean over replicates" in printed and "routesim.load_results(" in printed
    assert load_results(out, all_runs=True).finished.tolist() == before


def test_a_different_sweep_into_the_same_folder_is_refused(reference, capsys) -> None:
    path, _ = reference
    changed = path.parent / "changed.yaml"
    changed.write_text(path.read_text().replace("replicates: 3", "replicates: 5"))
    assert main(["sweep", str(changed), "--out", str(path.parent / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds a different sweep" in err and "replicates" in err and "\n" not in err


def test_one_sweep_writes_a_folder_at_a_time(tmp_path: Path) -> None:
    with (
        sweep_module._locked(tmp_path),
        pytest.raises(ScenarioError, match="another sweep"),
        sweep_module._locked(tmp_path),
    ):
        pass


# --- bad sweep files -----------------------------------------------------------------------

BAD = {
    "unknown parameter": (
        {"design": {"kind": "grid", "parameters": {"migrants.courage": [1, 2]}}},
        "design.parameters.migrants.courage: not a scenario parameter: no such key",
    ),
    "unknown policy id": (
        {"design": {"kind": "grid", "parameters": {"policies.greek_coast.enforcement": [1]}}},
        "no entry with id 'greek_coast'",
    ),
    "empty design": (
        {"design": {"kind": "grid", "parameters": {}}},
        "empty design",
    ),
    "bounds reversed": (
        {
            "design": {
                "kind": "lhs",
                "samples": 8,
                "parameters": {"migrants.risk_aversion": [2.0, 0.5]},
            }
        },
        "bounds reversed",
    ),
    "value out of range": (
        {"design": {"kind": "grid", "parameters": {"migrants.borrow_propensity": [0.5, 1.5]}}},
        "design.parameters.migrants.borrow_propensity: value 1.5: Input should be less than",
    ),
    "sobol samples": (
        {
            "design": {
                "kind": "sobol",
                "samples": 10,
                "parameters": {"migrants.risk_aversion": [0.5, 2]},
            }
        },
        "power of 2",
    ),
    "unknown metric": ({"metrics": ["happiness"]}, "metrics: unknown metric 'happiness'"),
    "unknown key": ({"replicate": 3}, "replicate: unknown key (allowed: name, description"),
    "no scenario": ({"scenario": "missing.yaml"}, "missing.yaml: file not found"),
    "empty scenario list": ({"scenario": []}, "name at least one scenario file"),
    "sobol over scenarios": (
        {
            "scenario": ["tiny.yaml", "tiny.yaml"],
            "design": {
                "kind": "sobol",
                "samples": 8,
                "parameters": {"migrants.risk_aversion": [0.5, 2]},
            },
        },
        "a sobol design takes one scenario",
    ),
    "same scenario twice": ({"scenario": ["tiny.yaml", "tiny.yaml"]}, "two scenarios are named"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_sweep_files_get_one_line_and_no_output(tmp_path: Path, case: str, capsys) -> None:
    changes, words = BAD[case]
    path = write_experiment(tmp_path, changes)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()


# --- analyses ------------------------------------------------------------------------------


def test_sobol_indices_find_the_parameter_that_matters(tmp_path: Path, capsys) -> None:
    # Flows scale with people_per_year; the legal ticket price does nothing in the baseline,
    # which has no legal pathway.
    design = {
        "kind": "sobol",
        "samples": 8,
        "parameters": {
            "migrants.people_per_year": [0.5, 1.5],
            "migrants.legal_ticket_eur": [100, 900],
        },
    }
    path = write_experiment(tmp_path, design=design, replicates=2, metrics=["departed", "dead"])
    out = tmp_path / "out"
    assert main(["analyze", "sobol", str(out), "--metric", "departed"]) == 2  # nothing run yet
    routesim.sweep(path, out, workers=2, progress=False)
    indices = routesim.sobol_indices(out, "departed")
    assert list(indices.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert indices.loc["migrants.people_per_year", "ST"] > 0.8
    assert indices.loc["migrants.legal_ticket_eur", "ST"] < 0.05
    assert 0 < indices.attrs["noise_share"] < 0.2  # replicates differ far less than points
    assert (
        main(
            ["analyze", "sobol", str(out), "--metric", "departed", "--csv", str(tmp_path / "s.csv")]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Sobol indices of departed" in printed and "migrants.people_per_year" in printed
    assert pd.read_csv(tmp_path / "s.csv").shape[0] == 2


def test_export_to_parquet_keeps_the_table(reference, tmp_path: Path) -> None:
    path, expected = reference
    file = tmp_path / "runs.parquet"
    assert main(["export", str(path.parent / "out"), "--parquet", str(file)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(file), expected, check_dtype=False)


SWEEP_FILES = [  # calibration files (calibrate-*.yaml) are tested in test_calibration.py
    p
    for p in sorted((SCENARIOS.parent / "experiments").glob("*.yaml"))
    if not p.stem.startswith("calibrate")
]


@pytest.mark.parametrize("path", SWEEP_FILES, ids=lambda p: p.stem)
def test_shipped_experiments_are_valid_and_say_what_they_ask(path: Path, capsys) -> None:
    plan = Experiment.load(path).plan()
    assert len(plan.runs) == len(plan.points) * plan.experiment.replicates >= 50
    assert path.read_text().startswith("# Question:")
    assert main(["sweep", str(path), "--dry-run"]) == 0
    assert f"= {len(plan.runs)} runs of" in capsys.readouterr().out
    # a range drawn from (lhs, sobol) spans the scenario's own value: the question is asked
    # around the model users run, not one it was before a refit
    design = plan.experiment.design
    if design is not None and design.kind in ("lhs", "sobol"):
        (file,) = plan.experiment.scenario_files  # a sobol design takes one scenario
        scenario = Scenario.load(path.parent / file)
        for parameter, (low, high) in design.parameters.items():
            assert low <= scenario.value_at(parameter) <= high, parameter


def test_small_runs_are_batched_and_long_ones_are_not() -> None:
    batch = sweep_module._batch_size
    assert batch(1000, capacity=4, seconds_per_run=None) == 1  # nothing measured yet
    assert batch(1000, capacity=4, seconds_per_run=0.05) == 40  # about 2 s of work per task
    assert batch(1000, capacity=4, seconds_per_run=5.0) == 1
    assert batch(20, capacity=4, seconds_per_run=0.01) == 5  # spread the last runs over workers


def test_a_batch_reads_the_network_once_and_gives_what_single_runs_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Experiment.load(write_experiment(tmp_path, replicates=1)).plan()
    tasks = [(spec, plan.scenarios[spec.point]) for spec in plan.runs]
    loads = []
    load = sweep_module.RouteNetwork.load
    monkeypatch.setattr(
        sweep_module.RouteNetwork, "load", lambda where: loads.append(where) or load(where)
    )
    batch = sweep_module.run_batch(tasks, ["arrived", "dead"], ["arrived"], legs=True)
    assert len(loads) == 1 and len(batch) == len(tasks) == 4
    for (spec, scenario), outcome in zip(tasks, batch, strict=True):
        alone = routesim.run(scenario, seed=spec.seed)
        assert outcome.error is None
        assert outcome.metrics == {m: alone.metrics[m] for m in ("arrived", "dead")}
        assert outcome.daily == alone.daily[["day", "arrived"]].to_numpy(float).tolist()
        legs = pd.DataFrame(outcome.legs, columns=alone.legs.columns)
        pd.testing.assert_frame_equal(legs, alone.legs, check_dtype=False)


def test_treated_twins_pass_through_one_warm_up_and_give_what_they_give_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closure = {"where": {"country": "LBY", "mode": "sea"}, "enforcement": 0.9}
    treatments = {
        "from_day_1": {"policies": [{**closure, "id": "closed", "day": 1}]},
        "from_day_20": {"policies": [{**closure, "id": "closed", "day": 20}]},
    }
    path = write_experiment(tmp_path, replicates=2, treatments=treatments, legs=True)
    runner = importlib.import_module("routesim.runner")
    built = []
    monkeypatch.setattr(runner, "RouteModel", lambda *a: built.append(1) or RouteModel(*a))
    table = routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    assert len(table) == 4 * 2 * 3
    assert len(built) == 4 * 2  # one warm-up per untreated run, shared by its two twins
    plan = Experiment.load(path).plan()
    for spec in plan.runs[::5]:  # untreated and treated runs, every point
        alone = routesim.run(plan.scenarios[spec.point], seed=spec.seed)
        stored = table.set_index("run_id").loc[spec.run_id]
        assert all(stored[m] == alone.metrics[m] for m in GRID["metrics"]), spec


def test_dask_missing_is_one_line_before_anything_is_written(
    reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path, _ = reference
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    assert main(["sweep", str(path), "--dask-local", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'routesim[dask]'" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def _die_at_start(parent: int) -> None:
    os._exit(3)


def test_workers_that_keep_dying_stop_the_sweep_in_one_line(
    reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path, expected = reference
    monkeypatch.setattr(sweep_module, "_exit_with_parent", _die_at_start)  # pool initializer
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "the worker processes keep dying" in err and err.count("\n") == 1
    runs = load_results(tmp_path / "o", all_runs=True)
    assert len(runs) == len(expected) and (runs.status == "pending").all()  # all to resume
