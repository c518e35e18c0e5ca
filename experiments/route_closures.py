"""When one sea route closes, where do people go? The table in the README's "Diversion" section.

Runs the baseline and each sea route closed (enforcement 0.9 on every leg departing for Europe
on it: sea legs, and the fences at Ceuta and Melilla for the Western Mediterranean), from day 0
and from day 180, over the same seeds (common random numbers), and prints per closure:
the closed route's arrivals (median, and its share of the baseline's), each other route's gain,
the diversion share (other routes' gain / closed route's loss, per seed, median and 90 %
bootstrap interval of the median), the change in total arrivals and in deaths, and deaths per
departure on the closed route's legs at the baseline's mix of legs: counted, and as each
departure's chance of dying (`death_risk`, their expectation, which boat-sized losses do not
blur), with the one-sided Mann-Whitney p of its rise over the seeds.

    python experiments/route_closures.py --seeds 12 --out runs/route-closures.csv
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from tqdm import tqdm

import routesim
from routesim.scenario import Scenario, merge

HERE = Path(__file__).resolve().parent
ROUTES = ("central", "western", "atlantic")
# Every leg departing for Europe on each route: its sea legs (and the fences at Ceuta and Melilla).
CLOSURES = {
    route: [{"where": {"route": route, "into_europe": True}, "enforcement": 0.9}]
    for route in ROUTES
}


def run_seed(job: tuple[int, list[tuple[str, str, int]]]) -> list[dict]:
    """Runs of one seed, each the baseline or a closure from `day`: their arrivals, deaths and
    leg rates. Runs that differ only after the warm-up (closures from day 1 on) pass through
    it once."""
    seed, closures = job
    base = Scenario.load(HERE.parent / "scenarios" / "baseline.yaml").model_dump(mode="python")
    scenarios = [
        Scenario.from_dict(
            merge(base, {"policies": [dict(p, day=day) for p in CLOSURES.get(route, [])]})
        ).with_updates(seed=seed)
        for _, route, day in closures
    ]
    warmups = routesim.SharedWarmups(scenarios)
    rows = []
    for (name, _, _), scenario in zip(closures, scenarios, strict=True):
        result = routesim.run(scenario, warmups=warmups)
        m, legs = result.metrics, result.legs
        row = {"closure": name, "seed": seed, "arrived": m["arrived"], "dead": m["dead"]}
        row.update({f"arrived_{r}": m[f"arrived_{r}"] for r in ROUTES})
        crossing = legs[legs["to_kind"] == "destination"]
        for _, leg in crossing.iterrows():
            row[f"departures|{leg.leg_from}|{leg.leg_to}"] = leg.departures
            row[f"deaths|{leg.leg_from}|{leg.leg_to}"] = leg.deaths
            row[f"risk|{leg.leg_from}|{leg.leg_to}"] = leg.death_risk
        rows.append(row)
    return rows


def bootstrap_median(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    draws = rng.choice(values, size=(2000, len(values)), replace=True)
    low, high = np.percentile(np.median(draws, axis=1), [5, 95])
    return float(np.median(values)), float(low), float(high)


def mixed_death_rates(
    runs: pd.DataFrame, base: pd.DataFrame, route: str, legs: pd.DataFrame, risk: bool
) -> list[float]:
    """Per run, deaths per departure on the route's legs at the baseline's mix: counted, or
    (`risk`) each departure's chance of dying."""
    keys = [f"{r.leg_from}|{r.leg_to}" for r in legs.itertuples() if r.route == route]
    weight = {k: base[f"departures|{k}"].sum() for k in keys}
    rates = []
    for _, run in runs.iterrows():
        used = [k for k in keys if run[f"departures|{k}"] > 0 and weight[k] > 0]
        if risk:
            used = [k for k in used if not np.isnan(run[f"risk|{k}"])]
        if not used:  # nobody set off on the route's legs: no rate
            continue
        each = {
            k: run[f"risk|{k}"] if risk else run[f"deaths|{k}"] / run[f"departures|{k}"]
            for k in used
        }
        rates.append(sum(weight[k] * each[k] for k in used) / sum(weight[k] for k in used))
    return rates


def table(runs: pd.DataFrame, legs: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    base = runs[runs["closure"] == "baseline"].set_index("seed")
    rows = []
    for name in runs["closure"].unique():
        if name == "baseline":
            continue
        route = name.split()[0]
        closed = runs[runs["closure"] == name].set_index("seed").loc[base.index]
        others = [r for r in ROUTES if r != route]
        loss = base[f"arrived_{route}"] - closed[f"arrived_{route}"]
        gain = sum(closed[f"arrived_{r}"] - base[f"arrived_{r}"] for r in others)
        share, low, high = bootstrap_median((gain / loss).to_numpy(), rng)
        row = {
            "closure": name,
            "closed route's arrivals (share of baseline)": (
                f"{np.median(closed[f'arrived_{route}']):,.0f} "
                f"({np.median(closed[f'arrived_{route}'] / base[f'arrived_{route}']):.0%})"
            ),
        }
        for r in ROUTES:
            gained = np.median(closed[f"arrived_{r}"] - base[f"arrived_{r}"])
            row[f"{r} gain"] = "" if r == route else f"{gained:+,.0f}"
        row["diversion share [90 % interval]"] = f"{share:.0%} [{low:.0%}, {high:.0%}]"
        row["total arrivals"] = f"{np.median(closed['arrived'] - base['arrived']):+,.0f}"
        row["dead"] = f"{np.median(closed['dead'] - base['dead']):+,.0f}"
        for risk, label in ((False, "deaths per departure"), (True, "death risk per departure")):
            before = mixed_death_rates(base.reset_index(), base, route, legs, risk)
            after = mixed_death_rates(closed.reset_index(), base, route, legs, risk)
            if not after:
                row[label] = f"{np.median(before):.2%} -> none set off"
                continue
            p = mannwhitneyu(after, before, alternative="greater").pvalue
            row[label] = f"{np.median(before):.2%} -> {np.median(after):.2%} (p = {p:.2g})"
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="replicates per closure (12)")
    parser.add_argument("--workers", type=int, default=2, help="processes (2)")
    parser.add_argument(
        "--days", type=int, nargs="+", default=[0, 180], help="closure start days (0 180)"
    )
    parser.add_argument("--out", type=Path, help="also write every run's row to this CSV")
    parser.add_argument("--table", type=Path, help="only print the table of a CSV --out wrote")
    args = parser.parse_args()
    if args.table:
        runs = pd.read_csv(args.table)
    else:
        closures = [("baseline", "", 0)] + [
            (f"{route} from day {day}", route, day) for route in ROUTES for day in args.days
        ]
        later = [c for c in closures if c[2] > 0]  # these share the baseline's warm-up
        jobs = []
        for seed in range(1, args.seeds + 1):
            jobs.append((seed, [closures[0], *later]))
            jobs += [(seed, [c]) for c in closures[1:] if c not in later]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
            done = tqdm(pool.map(run_seed, jobs), total=len(jobs), desc="seeds and closures")
            rows = [row for job_rows in done for row in job_rows]
        position = {name: i for i, (name, _, _) in enumerate(closures)}
        rows.sort(key=lambda row: (position[row["closure"]], row["seed"]))
        runs = pd.DataFrame(rows)
    if args.out and not args.table:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(args.out, index=False)
    legs = routesim.RouteNetwork.load().legs
    legs = legs[legs["to_kind"] == "destination"].rename(
        columns={"from": "leg_from", "to": "leg_to"}
    )
    result = table(runs, legs)
    print("| " + " | ".join(result.columns) + " |")
    print("|" + "---|" * len(result.columns))
    for row in result.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
