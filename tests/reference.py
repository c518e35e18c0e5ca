"""Exact outputs of a few runs, kept in data/reference_outputs.json, which
test_reference_outputs.py checks the model still gives to the last bit: speed-ups must not
change a single draw.

Write the file again only when a change is meant to change what the model does (a new
mechanism, a new calibration), and say so in the commit:
    python -m tests.reference
The first version was written by the model as it was before the speed-ups of issue 6 (b5d2327).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import routesim
from routesim.scenario import Scenario, merge

from .conftest import POLICY_SCENARIOS, SCENARIOS

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "data" / "reference_outputs.json"
SHORT = {"scale": 25, "warmup_days": 150, "days": 120}
# Every shipped policy scenario, shortened, plus the whole baseline year at scale 25.
CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    "baseline": ("baseline.yaml", {"scale": 25}, 5),
    **{name: (f"{name}.yaml", SHORT, 7) for name in POLICY_SCENARIOS},
}
LEG_COLUMNS = ("departures", "crossings", "deaths", "interceptions", "median_fee_eur")


def outputs(name: str) -> dict[str, Any]:
    """A run's summary metrics, daily arrivals and deaths, and per-leg counts and fees."""
    path, changes, seed = CASES[name]
    data = Scenario.load(SCENARIOS / path).model_dump(mode="python")
    scenario = Scenario.from_dict(merge(data, changes))
    result = routesim.run(scenario, seed=seed)
    legs = result.legs.fillna(-1.0)
    return {
        "metrics": result.metrics,
        "daily": {k: result.daily[k].tolist() for k in ("arrived", "dead", "intercepted")},
        "legs": {k: legs[k].tolist() for k in LEG_COLUMNS},
    }


if __name__ == "__main__":
    reference = {name: outputs(name) for name in CASES}
    REFERENCE.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {REFERENCE}: {', '.join(reference)}")
