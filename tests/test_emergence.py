"""What must emerge from decisions and the market (DESIGN §3), checked over replicates.

Nothing in the model says "if enforcement then fee x 2". These tests raise enforcement or open
legal pathways from day 0 and compare the distributions of outcomes over 12 seeds with a one-sided
Mann-Whitney U test, so a single lucky run cannot pass or fail them.

Two policies are used. Raising enforcement on one leg (Sfax - Lampedusa, where many people cross
without a smuggler, by 0.1 over the fitted Tunisian level) shows the switch to smugglers. Fees,
tactics and deaths are checked on the whole Central Mediterranean coast (Libya and Tunisia to
0.8): on a single leg most people go to the next beach, so demand and markups fall with it, and
the few boats left sink or not as whole boats, too lumpy for 12 seeds to show.
"""

from __future__ import annotations

import pytest
from scipy.stats import mannwhitneyu

from routesim.scenario import Scenario

from .conftest import SCENARIOS, replicates

SEEDS = range(100, 112)
# the Tunisian coast guard's fitted 2021 enforcement (scenarios/calibrated.yaml)
TUNISIA = Scenario.load(SCENARIOS / "baseline.yaml").value_at(
    "policies.tunisia_coast_guard.enforcement"
)
LEG = ("Sfax", "Lampedusa")  # a sea leg where many people travel without a smuggler
ALPHA = 0.05


def more(after: list[float], before: list[float]) -> bool:
    """`after` is stochastically larger than `before`."""
    return mannwhitneyu(after, before, alternative="greater").pvalue < ALPHA


@pytest.fixture(scope="module")
def runs() -> dict[str, list[dict]]:
    configs = {
        "baseline": {},
        "leg_enforcement": {
            "policies": [{"where": {"leg": list(LEG)}, "enforcement": TUNISIA + 0.1}]
        },
        "central_enforcement": {
            "policies": [{"where": {"country": ["LBY", "TUN"], "mode": "sea"}, "enforcement": 0.8}]
        },
        "legal_pathways": {
            "policies": [
                {"legal_pathways": {"origin": o, "quota_per_year": 6000}}
                for o in ("SEN", "MLI", "GIN", "CIV")
            ]
        },
        "less_rescue": {
            "policies": [
                {"where": {"country": ["LBY", "TUN"], "mode": "sea"}, "search_and_rescue": 0.1}
            ]
        },
    }
    return {name: replicates(changes, SEEDS) for name, changes in configs.items()}


def leg_values(runs: list[dict], column: str) -> list[float]:
    return [r["legs"][LEG][column] for r in runs]


def coast_legs(run: dict) -> list[dict]:
    """The Libyan and Tunisian sea legs that anyone used in a run."""
    return [
        row
        for row in run["legs"].values()
        if row["from_country"] in ("LBY", "TUN") and row["mode"] == "sea" and row["departures"] > 0
    ]


def coast(runs: list[dict], column: str, per: str) -> list[float]:
    """Pooled over the coast's legs: sum of `column` over sum of `per`."""
    return [
        sum(row[column] for row in coast_legs(r)) / sum(row[per] for row in coast_legs(r))
        for r in runs
    ]


def per_smuggled(runs: list[dict], column: str) -> list[float]:
    """A per-smuggled-departure column (fee, tactic share) averaged over the coast's legs."""
    values = []
    for r in runs:
        legs = [row for row in coast_legs(r) if row["smuggled_share"] > 0]
        weights = [row["departures"] * row["smuggled_share"] for row in legs]
        total = sum(w * row[column] for w, row in zip(weights, legs, strict=True))
        values.append(total / sum(weights))
    return values


def metric(runs: list[dict], name: str) -> list[float]:
    return [r["metrics"][name] for r in runs]


def test_enforcement_raises_the_legs_smuggled_share(runs) -> None:
    assert more(
        leg_values(runs["leg_enforcement"], "smuggled_share"),
        leg_values(runs["baseline"], "smuggled_share"),
    )


@pytest.mark.xfail(
    strict=True,
    reason="Open finding of the 2021 calibration (README, Calibration): with the fitted arrest "
    "cost (14,360 EUR, from 60,000) patrols add little to a smuggler's costs while demand falls, "
    "so coast-wide enforcement of 0.8 lowers fees (1,483 against 1,547 EUR on the baseline's "
    "mix of legs, 12 seeds), against the evidence that restrictive policies raise them",
)
def test_enforcement_raises_fees(runs) -> None:
    """Smugglers price in lost boats and arrests; the fee paid on the coast's legs rises."""
    assert more(
        per_smuggled(runs["central_enforcement"], "mean_fee_eur"),
        per_smuggled(runs["baseline"], "mean_fee_eur"),
    )


def test_enforcement_pushes_smugglers_to_riskier_boats(runs) -> None:
    """Each smuggler picks the tactic with the lowest expected cost; patrols make the cheap,
    overloaded boat from a remote beach pay."""
    assert more(
        per_smuggled(runs["central_enforcement"], "risky_tactic_share"),
        per_smuggled(runs["baseline"], "risky_tactic_share"),
    )


def test_enforcement_raises_deaths_per_crossing(runs) -> None:
    """Per departure (the risk a person takes) and per completed crossing (as often reported)."""
    hard, base = runs["central_enforcement"], runs["baseline"]
    assert more(coast(hard, "deaths", "departures"), coast(base, "deaths", "departures"))
    assert more(coast(hard, "deaths", "crossings"), coast(base, "deaths", "crossings"))


def test_enforcement_moves_arrivals_to_other_routes(runs) -> None:
    central, base = runs["central_enforcement"], runs["baseline"]
    assert more(metric(base, "arrived_central"), metric(central, "arrived_central"))
    others = [r["metrics"]["arrived_western"] + r["metrics"]["arrived_atlantic"] for r in central]
    before = [r["metrics"]["arrived_western"] + r["metrics"]["arrived_atlantic"] for r in base]
    assert more(others, before)


def test_legal_pathways_lower_smuggler_use(runs) -> None:
    legal, base = runs["legal_pathways"], runs["baseline"]
    assert min(metric(legal, "arrived_legal")) > 0
    assert more(metric(base, "smuggler_use_share"), metric(legal, "smuggler_use_share"))
    assert more(metric(base, "smuggled_crossings"), metric(legal, "smuggled_crossings"))


def test_less_rescue_means_more_deaths_at_sea(runs) -> None:
    assert more(
        metric(runs["less_rescue"], "sea_death_rate"), metric(runs["baseline"], "sea_death_rate")
    )
