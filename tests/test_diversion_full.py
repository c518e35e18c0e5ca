"""Diversion at full size (the shipped baseline, 12 seeds each): a route closed mid-run, steps
of enforcement on one coast, and a stationary reported year. Slow: run with `pytest -m slow`.

- A closure from day 180 (enforcement 0.9 on every Central Mediterranean departure leg): the
  closed route's departures fall within days, but the other routes' gain builds over weeks,
  as news of the interceptions reaches people at home and on the way, and as plans are revised.
- Enforcement 0.3, 0.6, 0.9 on the Tunisian coast: the people who get across from it thin
  step by step; no step takes it from busy to empty.
- The baseline's reported year, after its three-year warm-up: monthly arrivals have no trend
  beyond noise (the slope of a least-squares line through each run's twelve months, pooled
  over seeds, is within two standard errors of zero, or its size over the year is under 5 % of
  the mean).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

import routesim
from routesim.scenario import Scenario, merge

from .conftest import SCENARIOS, open_finding
from .test_emergence import CLOSURES

pytestmark = pytest.mark.slow
SEEDS = tuple(range(1, 13))
DAY = 180


def _run(args: tuple[list[dict], int]) -> dict:
    policies, seed = args
    base = Scenario.load(SCENARIOS / "baseline.yaml").model_dump(mode="python")
    result = routesim.run(Scenario.from_dict(merge(base, {"policies": policies})), seed=seed)
    legs = result.legs
    tunisia = legs[(legs["from_country"] == "TUN") & (legs["mode"] == "sea")]
    daily = result.daily
    return {
        "metrics": result.metrics,
        "others": (daily["arrived_western"] + daily["arrived_atlantic"]).to_numpy(),
        "tunisia_departures": float(tunisia["departures"].sum()),
        "tunisia_crossings": float(tunisia["crossings"].sum()),
        "arrived": daily["arrived"].to_numpy(),
    }


def _many(configs: dict[str, list[dict]]) -> dict[str, list[dict]]:
    jobs = [(name, policies, seed) for name, policies in configs.items() for seed in SEEDS]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_run, [(p, s) for _, p, s in jobs]))
    out: dict[str, list[dict]] = {name: [] for name in configs}
    for (name, _, _), result in zip(jobs, results, strict=True):
        out[name].append(result)
    return out


def _over_seeds(policies: list[dict]) -> list[dict]:
    return _many({"one": policies})["one"]


# One fixture per configuration, so that `-k stationary` runs the baseline only.
@pytest.fixture(scope="module")
def baseline() -> list[dict]:
    return _over_seeds([])


@pytest.fixture(scope="module")
def closed_midyear() -> list[dict]:
    return _over_seeds([dict(p, day=DAY) for p in CLOSURES["central"]])


@pytest.fixture(scope="module")
def tunisia_steps() -> dict[str, list[dict]]:
    tunisia = {"where": {"country": "TUN", "mode": "sea"}}
    return _many({f"tunisia_{e}": [{**tunisia, "enforcement": e}] for e in (0.3, 0.6, 0.9)})


def _weekly_gain(closed: list[dict], base: list[dict], weeks: range) -> list[float]:
    """Per seed: the other routes' arrivals over `weeks` after the closure, less the same
    seed's baseline (common random numbers up to the closure day)."""
    start, end = DAY + 7 * weeks.start, DAY + 7 * weeks.stop
    return [
        (c["others"][end] - c["others"][start]) - (b["others"][end] - b["others"][start])
        for c, b in zip(closed, base, strict=True)
    ]


@open_finding(
    (
        "Open finding of issue 14: on the shipped baseline the Central Mediterranean closed "
        "from day 180 diverts little (3 % [-2 %, 6 %] of its loss by the year's end, other "
        "routes positive on 8 of 12 seeds, p = 0.19, in experiments/route_closures.py --seeds "
        "12), where closed from day 0 it diverts 68 %: people on their way keep to their plans "
        "until their own failures or the news change them; the other routes' weekly gain in "
        "weeks 5 to 12 was not significantly above the first week's on an earlier fit "
        "(one-sided Mann-Whitney p = 0.14)"
    ),
)
def test_a_mid_run_closure_diverts_people_over_weeks_not_on_the_day(
    closed_midyear, baseline
) -> None:
    closed, base = closed_midyear, baseline
    first_week = _weekly_gain(closed, base, range(0, 1))
    months_two_and_three = [g / 8 for g in _weekly_gain(closed, base, range(4, 12))]
    later = mannwhitneyu(months_two_and_three, first_week, alternative="greater").pvalue
    assert later < 0.05
    assert np.median(months_two_and_three) > 0


def test_enforcement_steps_thin_a_coast_without_a_cliff(tunisia_steps) -> None:
    """What a coast carries is the people who get across from it. Departures count every
    attempt, and people the Tunisian coast guard returns to Tunisia try again, so departures
    rise with patrols while fewer get across (printed with -rP)."""
    levels = (0.3, 0.6, 0.9)
    runs = [tunisia_steps[f"tunisia_{e}"] for e in levels]
    steps = [np.median([r["tunisia_crossings"] for r in rs]) for rs in runs]
    attempts = [np.median([r["tunisia_departures"] for r in rs]) for rs in runs]
    print(f"Tunisian sea crossings {steps}, departures {attempts} at enforcement {levels}")
    assert steps[0] > steps[1] > steps[2] > 0, f"Tunisian sea crossings {steps}"
    # each step keeps a good part of what the step before carried: thinned, not wiped
    assert steps[1] > 0.25 * steps[0] and steps[2] > 0.25 * steps[1], f"crossings {steps}"


def test_the_reported_year_is_stationary(baseline) -> None:
    slopes, means = [], []
    for run in baseline:
        months = np.diff(run["arrived"][29::30], prepend=0.0)  # arrivals in each 30 days
        slopes.append(np.polyfit(np.arange(len(months)), months, 1)[0])
        means.append(months.mean())
    slope, error = np.mean(slopes), np.std(slopes, ddof=1) / np.sqrt(len(slopes))
    trend = f"{slope:+.0f} a month (se {error:.0f}) on a mean of {np.mean(means):,.0f}"
    print(f"monthly arrivals over the reported year: {trend}")  # shown with pytest -rP
    assert abs(slope) < 2 * error or abs(slope) * 12 < 0.05 * np.mean(means), trend
