"""Benchmark: the baseline at scale 1 (every person an agent), 365 days after the warm-up.

Not part of the test suite (pytest collects test_*.py only). Run:
    python tests/benchmarks/bench_run.py [--days 365] [--warmup 365] [--repeat 3]
Prints wall time, migrants simulated and migrant-days per second (agent-days of people on their
way, warm-up included, divided by the wall time of the whole run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from routesim import RouteModel, Scenario
from routesim.agents.migrant import Migrant
from routesim.outcomes import IN_TRANSIT

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"


def one_run(days: int, warmup: int, seed: int) -> dict[str, float]:
    scenario = Scenario.load(BASELINE).with_updates(
        scale=1, days=days, warmup_days=warmup, seed=seed
    )
    model = RouteModel(scenario)
    migrant_days = 0.0
    start = time.perf_counter()
    while model.day < scenario.days:
        model.step()
        migrant_days += sum(model.outcomes.in_state[s] for s in IN_TRANSIT)
    wall = time.perf_counter() - start
    migrants = len(model.agents_by_type[Migrant])
    return {
        "wall_s": wall,
        "migrants": migrants,
        "migrant_days": migrant_days,
        "migrant_days_per_s": migrant_days / wall,
        "days_per_s": (days + warmup) / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--warmup", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.days, args.warmup, seed) for seed in range(1, args.repeat + 1)]
    for r in runs:
        print(
            f"wall {r['wall_s']:6.1f} s  migrants {r['migrants']:,}  "
            f"migrant-days {r['migrant_days']:,.0f}  {r['migrant_days_per_s']:,.0f} per s"
        )
    print(
        f"median: wall {statistics.median(r['wall_s'] for r in runs):.1f} s, "
        f"{statistics.median(r['migrant_days_per_s'] for r in runs):,.0f} migrant-days/s "
        f"({args.warmup} warm-up + {args.days} days, scale 1)"
    )


if __name__ == "__main__":
    main()
