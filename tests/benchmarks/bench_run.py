"""Benchmark: the baseline at `scale: 1` (every person an agent), its warm-up and its days.

Targets (issue 6, 2-core machine, median of the repeats): at least 1,500,000 migrant-days per
second and under 30 s of wall time for the whole run, warm-up included.
Not part of the test suite (pytest collects test_*.py only). Run:
    python tests/benchmarks/bench_run.py [--repeat 3] [--scale 1]
Each run is in a fresh process (see measure.py for what is counted); `--scale` counts agents.
"""

from __future__ import annotations

import argparse

from measure import BASELINE, machine, median, run_fresh

from routesim import Scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()
    print(machine(), flush=True)
    baseline = Scenario.load(BASELINE)
    runs = []
    for seed in range(1, args.repeat + 1):
        r = run_fresh(BASELINE, {"scale": args.scale, "seed": seed})
        runs.append(r)
        print(
            f"seed {seed}: wall {r['wall_s']:5.1f} s  migrants {r['migrants']:,.0f}  "
            f"migrant-days {r['migrant_days']:,.0f}  {r['migrant_days_per_s']:,.0f} per s  "
            f"peak {r['peak_mb']:,.0f} MB",
            flush=True,
        )
    m = median(runs)
    print(
        f"median of {args.repeat}: wall {m['wall_s']:.1f} s, {m['migrants']:,.0f} migrants, "
        f"{m['migrant_days_per_s']:,.0f} migrant-days/s, peak {m['peak_mb']:,.0f} MB "
        f"(baseline, scale {args.scale}, {baseline.warmup_days} warm-up + {baseline.days} days)"
    )


if __name__ == "__main__":
    main()
