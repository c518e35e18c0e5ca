"""How close is the uncalibrated baseline to what was reported for 2021?

    python experiments/baseline_vs_2021.py [--seeds 5] [--scale 10] [--set PATH=VALUE ...]

Runs scenarios/baseline.yaml over several seeds and prints, for each figure of
../shared/evidence/FACTS.md that the model produces, the reported value (or range), the simulated
median (and min-max over seeds) and the ratio simulated / reported (for a range: distance to the
nearest end, 1.0 inside). Formal calibration is a later step; this is the plausibility check.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

import routesim
from routesim.network import RouteNetwork

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"

# (label, reported low, reported high, source)
FLOWS = {
    "arrived_central": (
        "arrivals Italy + Malta",
        67_477 + 832,
        None,
        "Italian Interior Ministry; UNHCR (Malta)",
    ),
    "arrived_western": (
        "arrivals Spain mainland, Balearics, Ceuta, Melilla",
        16_991 + 644 + 1_797,
        None,
        "Spanish Interior Ministry",
    ),
    "arrived_atlantic": ("arrivals Canary Islands", 22_316, None, "Spanish Interior Ministry"),
    "tunisia_share": (
        "Tunisia share of Tunisia + Libya sea departures",
        30_769 / 72_052,
        None,
        "UNODC Observatory, Jan-Aug 2021",
    ),
    "libya_returns": ("intercepted at sea off Libya and returned", 32_425, None, "IOM"),
    "dead_central": ("dead and missing, Central Med", 1_555, None, "IOM MMP (undercount)"),
    "dead_western": ("dead and missing, Western Med", 384, None, "IOM MMP (undercount)"),
    "dead_atlantic": ("dead and missing, Atlantic", 1_126, None, "IOM MMP (undercount)"),
}


def simulate(args: tuple[int, int, list[str]]) -> dict[str, float]:
    seed, scale, overrides = args
    result = routesim.run(BASELINE, seed=seed, scale=scale, overrides=overrides)
    legs = result.legs
    sea = legs[legs["mode"] == "sea"]
    by_country = sea.groupby("from_country")["departures"].sum()
    out = dict(result.metrics)
    out["tunisia_share"] = by_country.get("TUN", 0) / (
        by_country.get("TUN", 0) + by_country.get("LBY", 0)
    )
    out["libya_returns"] = sea.loc[sea["from_country"] == "LBY", "interceptions"].sum()
    for route in ("central", "western", "atlantic"):
        out[f"dead_{route}"] = legs.loc[legs["route"] == route, "deaths"].sum()
    for row in legs.itertuples():
        out[f"fee {row.leg_from} -> {row.leg_to}"] = row.median_fee_eur
    return out


def ratio(value: float, low: float, high: float | None) -> float:
    if high is None:
        return value / low
    if low <= value <= high:
        return 1.0
    return value / high if value > high else value / low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="try a change before putting it in the data",
    )
    args = parser.parse_args()
    jobs = [(s, args.scale, args.overrides) for s in range(1, args.seeds + 1)]
    with ProcessPoolExecutor() as pool:
        runs = pd.DataFrame(pool.map(simulate, jobs))
    rows = []
    for key, (label, low, high, source) in FLOWS.items():
        rows.append((label, low, high, runs[key], source))
    legs = RouteNetwork.load().legs.dropna(subset=["fee_low_eur"])
    for _, leg in legs.iterrows():
        name = f"{leg['from']} -> {leg['to']}"
        rows.append(
            (
                f"median fee {name} (EUR)",
                leg["fee_low_eur"],
                leg["fee_high_eur"],
                runs[f"fee {name}"],
                leg["source"].split(";")[0],
            )
        )
    print(f"baseline, {args.seeds} seeds, scale {args.scale}: median [min - max] over seeds\n")
    print("| figure | reported | simulated | ratio |")
    print("|---|---|---|---|")
    for label, low, high, values, _ in rows:
        values = values.dropna()
        if values.empty:
            print(f"| {label} | {_fmt(low, high)} | (leg not used) | |")
            continue
        med = float(np.median(values))
        print(
            f"| {label} | {_fmt(low, high)} | {_num(med)} [{_num(values.min())} - "
            f"{_num(values.max())}] | {ratio(med, low, high):.2f} |"
        )


def _num(x: float) -> str:
    return f"{x:.1%}" if x < 1 else f"{x:,.0f}"


def _fmt(low: float, high: float | None) -> str:
    return _num(low) if high is None else f"{_num(low)} - {_num(high)}"


if __name__ == "__main__":
    main()
