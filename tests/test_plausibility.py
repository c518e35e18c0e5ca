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

from .conftest import SCENARIOS

REPORTED = {
    "arrived_central": 67_477 + 832,  # Italy (Interior Ministry) + Malta (UNHCR)
    "arrived_western": 16_991 + 644 + 1_797,  # Spain mainland/Balearics + Ceuta and Melilla
    "arrived_atlantic": 22_316,  # Canary Islands
}
TUNISIA_OVER_LIBYA = 30_769 / 41_283  # departures Jan-Aug 2021, UNODC Observatory


def _run(seed: int) -> tuple[dict, pd.DataFrame]:
    result = routesim.run(SCENARIOS / "baseline.yaml", seed=seed)
    return result.metrics, result.legs


@pytest.fixture(scope="module")
def baseline() -> list[tuple[dict, pd.DataFrame]]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        return list(pool.map(_run, range(1, 5)))


def within_2(simulated: float, low: float, high: float | None = None) -> bool:
    high = low if high is None else high
    return low / 2 <= simulated <= 2 * high


@pytest.mark.parametrize("metric", sorted(REPORTED))
def test_route_arrivals(baseline, metric: str) -> None:
    simulated = np.median([m[metric] for m, _ in baseline])
    assert within_2(simulated, REPORTED[metric]), (metric, simulated)


def test_tunisia_libya_split(baseline) -> None:
    ratios = []
    for _, legs in baseline:
        sea = legs[legs["mode"] == "sea"].groupby("from_country")["departures"].sum()
        ratios.append(sea["TUN"] / sea["LBY"])
    assert within_2(float(np.median(ratios)), TUNISIA_OVER_LIBYA)


def test_every_reported_fee(baseline) -> None:
    legs = RouteNetwork.load().legs.dropna(subset=["fee_low_eur"])
    medians = pd.concat(
        [lg.set_index(["leg_from", "leg_to"])["median_fee_eur"] for _, lg in baseline], axis=1
    ).median(axis=1)
    checked = 0
    for _, leg in legs.iterrows():
        fee = medians.get((leg["from"], leg["to"]))
        if fee is None or np.isnan(fee):
            continue  # nobody paid a smuggler on this leg in any seed
        checked += 1
        assert within_2(fee, leg["fee_low_eur"], leg["fee_high_eur"]), (leg["from"], leg["to"], fee)
    assert checked >= 15
