"""Benchmark: is the cost linear in people? The baseline at `scale: 1` with its origins' flows
raised or lowered so that about 30,000, 100,000 and 300,000 migrants set out over the run.

Targets (issue 6): each size takes time within 1.25x of proportional to its number of migrants
(time per migrant at most 1.25x that of the smallest), and peak memory stays under 1 GB at
300,000. Also printed: the time each further 1,000 migrants add between sizes (the marginal
cost, without the fixed cost of a run's warm-up and days). Not part of the test suite. Run:
    python tests/benchmarks/bench_scaling.py [--sizes 30000 100000 300000] [--repeat 1]
"""

from __future__ import annotations

import argparse

from measure import BASELINE, machine, median, run_fresh

from routesim import RouteModel, Scenario


def flow_for(migrants: int) -> float:
    """`migrants.people_per_year` for which the expected number setting out is `migrants`."""
    scenario = Scenario.load(BASELINE).with_updates(scale=1)
    days = scenario.warmup_days + scenario.days
    expected = RouteModel(scenario).people_setting_out_per_day * days
    return scenario.migrants.people_per_year * migrants / expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000, 300_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(machine(), flush=True)
    sizes = sorted(args.sizes)
    rows = []
    for size in sizes:
        values = {"migrants.people_per_year": flow_for(size)}
        seeds = range(1, args.repeat + 1)
        runs = [run_fresh(BASELINE, {"scale": 1, "seed": s}, values) for s in seeds]
        rows.append(median(runs))
        r = rows[-1]
        print(
            f"{size:>9,} asked: {r['migrants']:>9,.0f} migrants  wall {r['wall_s']:6.1f} s  "
            f"{r['migrant_days_per_s']:>11,.0f} migrant-days/s  peak {r['peak_mb']:6,.0f} MB",
            flush=True,
        )
    first = rows[0]["wall_s"] / rows[0]["migrants"]
    print("time per migrant relative to the smallest (1.00 = proportional; target <= 1.25):")
    for size, r in zip(sizes, rows, strict=True):
        print(f"  {size:>9,}: {r['wall_s'] / r['migrants'] / first:.2f}")
    print("marginal time per 1,000 further migrants:")
    for i in range(1, len(sizes)):
        before, after = rows[i - 1], rows[i]
        added = after["migrants"] - before["migrants"]
        slope = (after["wall_s"] - before["wall_s"]) / added * 1000
        print(f"  {sizes[i - 1]:,} -> {sizes[i]:,}: {slope:.3f} s")


if __name__ == "__main__":
    main()
