"""Benchmark: one shipped experiment run in this process, on a process pool and on a Dask
LocalCluster, with the same number of workers; the tables must be identical.

Not part of the test suite. Run (takes about 2 x the in-process time):
    python tests/benchmarks/bench_sweep.py [experiments/legal-pathways.yaml] [--workers 2]
Prints wall time, runs per minute and parallel efficiency (in-process time / (workers x time)),
which counts every cost of going parallel: starting workers, shipping work, idle workers at the
end, and cores shared with the driver.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import routesim

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", default=ROOT / "experiments/legal-pathways.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    ways = {
        "in-process": {"workers": 1},
        f"process pool ({args.workers})": {"workers": args.workers},
        f"Dask LocalCluster ({args.workers})": {"dask_local": args.workers},
    }
    tables, seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, where) in enumerate(ways.items()):
            start = time.perf_counter()
            tables[name] = routesim.sweep(
                args.experiment, Path(tmp) / str(i), overrides=args.overrides, **where
            )
            seconds[name] = time.perf_counter() - start
    first = next(iter(tables.values()))
    for table in tables.values():
        pd.testing.assert_frame_equal(table, first)
    runs = len(first)
    serial = seconds["in-process"]
    print(f"{Path(args.experiment).name}: {runs} runs, identical tables on every executor")
    for name, wall in seconds.items():
        workers = 1 if name == "in-process" else args.workers
        print(
            f"  {name:<24} {wall:7.1f} s  {runs / wall * 60:6.1f} runs/min  "
            f"efficiency {serial / (workers * wall):.0%}"
        )


if __name__ == "__main__":
    main()
