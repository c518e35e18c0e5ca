"""Benchmark: sweeps. By default 200 runs of the baseline at `scale: 10` on a process pool of 2
workers, timed from the call to `routesim.sweep` to its table (workers' start-up included).

Target (issue 6, 2-core machine): under 3 minutes.
`--executors` instead runs one experiment in this process, on a process pool and on a Dask
LocalCluster with the same number of workers, checks that the three tables are identical, and
prints each one's parallel efficiency (in-process time / (workers x time)), which counts every
cost of going parallel: starting workers, shipping work, idle workers at the end, and cores
shared with the driver. Not part of the test suite. Run:
    python tests/benchmarks/bench_sweep.py [--runs 200] [--workers 2]
    python tests/benchmarks/bench_sweep.py --executors [experiments/legal-pathways.yaml]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from measure import BASELINE, ROOT, machine

import routesim
from routesim import Experiment, Scenario


def replicates(runs: int, workers: int) -> None:
    experiment = Experiment(name="bench-baseline", scenario=str(BASELINE), replicates=runs, seed=1)
    scale = Scenario.load(BASELINE).scale
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        table = routesim.sweep(experiment, Path(tmp) / "runs", workers=workers, progress=False)
        wall = time.perf_counter() - start
    print(
        f"{len(table)} runs of the baseline (scale {scale}) on {workers} workers: {wall:.1f} s "
        f"({wall / 60:.2f} min, {len(table) / wall * 60:.1f} runs/min, "
        f"{wall * workers / len(table):.2f} s per run per worker)"
    )


def executors(path: Path, workers: int) -> None:
    ways = {
        "in-process": {"workers": 1},
        f"process pool ({workers})": {"workers": workers},
        f"Dask LocalCluster ({workers})": {"dask_local": workers},
    }
    tables, seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, where) in enumerate(ways.items()):
            start = time.perf_counter()
            tables[name] = routesim.sweep(path, Path(tmp) / str(i), progress=False, **where)
            seconds[name] = time.perf_counter() - start
    first = next(iter(tables.values()))
    for table in tables.values():
        pd.testing.assert_frame_equal(table, first)
    runs = len(first)
    serial = seconds["in-process"]
    print(f"{path.name}: {runs} runs, identical tables on every executor")
    for name, wall in seconds.items():
        used = 1 if name == "in-process" else workers
        print(
            f"  {name:<24} {wall:7.1f} s  {runs / wall * 60:6.1f} runs/min  "
            f"efficiency {serial / (used * wall):.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--executors",
        nargs="?",
        const=ROOT / "experiments" / "legal-pathways.yaml",
        type=Path,
        metavar="EXPERIMENT",
        help="compare executors on EXPERIMENT (default: experiments/legal-pathways.yaml)",
    )
    args = parser.parse_args()
    print(machine(), flush=True)
    if args.executors is not None:
        executors(args.executors, args.workers)
    else:
        replicates(args.runs, args.workers)


if __name__ == "__main__":
    main()
