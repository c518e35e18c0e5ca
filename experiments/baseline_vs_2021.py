"""How close is the shipped baseline to the 2021 targets, without fitting anything?

    python experiments/baseline_vs_2021.py [--seeds 10] [--set PATH=VALUE ...]

Runs scenarios/baseline.yaml over several seeds and prints, for every target in
routesim/data/targets.csv, the reported value or range, the simulated median and 90 % interval
over seeds, and whether the median is inside (as the calibration report does). Use --set to try a
change before calibrating: --set policies.libya_coast_guard.enforcement=0.8
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

import routesim
from routesim.calibration_report import fit_table
from routesim.targets import Run, load_targets, measure_run

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def simulate(args: tuple[int, list[str]]) -> pd.Series:
    seed, overrides = args
    result = routesim.run(BASELINE, seed=seed, overrides=overrides)
    return measure_run(Run.of(result), load_targets())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    with ProcessPoolExecutor() as pool:
        runs = pd.DataFrame(pool.map(simulate, [(s, args.overrides) for s in range(args.seeds)]))
    table = fit_table(load_targets(), runs)
    print(f"baseline, {args.seeds} seeds: median and 90 % interval over seeds\n")
    shown = table[["reported", "simulated median", "5%", "95%", "inside", "fitted"]]
    print(shown.to_string(float_format=lambda x: f"{x:,.3g}" if abs(x) < 10 else f"{x:,.0f}"))


if __name__ == "__main__":
    main()
