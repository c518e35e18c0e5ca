"""The baseline stays within a factor of 2 of what was reported for 2021 (FACTS.md).

Before formal calibration this is the guard against a change that quietly breaks the world:
yearly arrivals per route, the Tunisia/Libya departure split, and every leg's median fee against
its reported range. Medians over 4 seeds of the shipped baseline (scale 10, full warm-up).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import routesim
from routesim.network import RouteNetwork

from .conftest import SCENARIOS, arrival_share, open_finding

REPORTED = {
    "arrived_central": 67_477 + 832,  # Italy (Interior Ministry) + Malta (UNHCR)
    "arrived_western": 16_991 + 644 + 1_797,  # Spain mainland/Balearics + Ceuta and Melilla
    "arrived_atlantic": 22_316,  # Canary Islands
}
TUNISIA_OVER_LIBYA = 30_769 / 41_283  # departures Jan-Aug 2021, UNODC Observatory


def _run(seed: int) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    result = routesim.run(SCENARIOS / "baseline.yaml", seed=seed)
    return result.metrics, result.legs, result.arrivals


@pytest.fixture(scope="module")
def baseline() -> list[tuple[dict, pd.DataFrame, pd.DataFrame]]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        return list(pool.map(_run, range(1, 5)))


def within_2(simulated: float, low: float, high: float | None = None) -> bool:
    high = low if high is None else high
    return low / 2 <= simulated <= 2 * high


@pytest.mark.parametrize("metric", sorted(REPORTED))
def test_route_arrivals(baseline, metric: str) -> None:
    simulated = np.median([m[metric] for m, *_ in baseline])
    assert within_2(simulated, REPORTED[metric]), (metric, simulated)


def test_tunisia_libya_split(baseline) -> None:
    ratios = []
    for _, legs, _ in baseline:
        sea = legs[legs["mode"] == "sea"].groupby("from_country")["departures"].sum()
        ratios.append(sea["TUN"] / sea["LBY"])
    assert within_2(float(np.median(ratios)), TUNISIA_OVER_LIBYA)


def test_every_reported_fee(baseline) -> None:
    legs = RouteNetwork.load().legs.dropna(subset=["fee_low_eur"])
    medians = pd.concat(
        [lg.set_index(["leg_from", "leg_to"])["median_fee_eur"] for _, lg, _ in baseline], axis=1
    ).median(axis=1)
    checked = 0
    for _, leg in legs.iterrows():
        fee = medians.get((leg["from"], leg["to"]))
        if fee is None or np.isnan(fee):
            continue  # nobody paid a smuggler on this leg in any seed
        checked += 1
        assert within_2(fee, leg["fee_low_eur"], leg["fee_high_eur"]), (leg["from"], leg["to"], fee)
    assert checked >= 15


def _shares(baseline, route: str) -> pd.Series:
    """Each nationality's share of the route's arrivals, pooled over the seeds."""
    arrivals = pd.concat([a for *_, a in baseline]).query("route == @route")
    people = arrivals.groupby("nationality")["arrived"].sum()
    return people / people.sum()


# Who arrives where. Italy, 1 January to 17 November 2021 (Interior Ministry, as declared at
# landing, via Migrantes, 17 November 2021): 59,472 people, Tunisians 25 %, Bangladeshis 12 %,
# Egyptians 11 % (the total includes the Eastern route's Iranians and Iraqis, which only raises
# the Central route's own shares a little). The Canary Islands: people "mainly came from
# Morocco, Mali, Guinea, Ivory Coast, and Senegal" (Borderline Europe, report on the Canary
# Islands border, 2020); Egyptians and Bangladeshis, who fly to Libya, are not among them.
WHO_ARRIVES = (
    "Open finding of issue 14: Sudanese are half of the Central route's arrivals (the fit's "
    "check on the three-year warm-up, 10 runs at scale 10: Sudanese 54 %, Tunisians 18 %, "
    "Bangladeshis 12 %, Egyptians 6 %). Khartoum's flow (7.0, held by hand so that the "
    "Central route's total is met) stands for the Horn of Africa and the nationalities the "
    "network lacks; raising Tunis's flow instead breaks the Tunisia/Libya split, where "
    "Tunisia's share of departures is already above the reported one "
    "(experiments/calibration-2021/report.md)"
)


@open_finding(WHO_ARRIVES)
def test_tunisians_are_the_central_routes_largest_nationality(baseline) -> None:
    shares = _shares(baseline, "central")
    assert shares.idxmax() == "TUN", shares.nlargest(5).round(3).to_dict()


def test_egyptians_and_bangladeshis_do_not_reach_the_canaries(baseline) -> None:
    arrivals = pd.concat([a for *_, a in baseline])
    flown_to_libya = arrival_share(arrivals, "atlantic", ["EGY", "BGD"])
    assert flown_to_libya < 0.05, _shares(baseline, "atlantic").nlargest(5).round(3).to_dict()
