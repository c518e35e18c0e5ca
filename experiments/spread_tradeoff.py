"""How far the corridors' spread sets who arrives where, and at what cost to the responses.

The shipped fit's check (every target, untreated and under both treatments, the check's seeds)
with `migrants.choice_noise_eur` set to each value given and every other value as shipped. The
table in the README's "Who arrives where": the nationality targets against the Niger repeal's
response and the route totals.

    python experiments/spread_tradeoff.py --spread 2000 --spread 4000 --spread 8996
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from routesim.calibration import Calibration, check_fit

HERE = Path(__file__).resolve().parent
SHOWN = (
    "nationality_atlantic_flown_to_libya",
    "nationality_central_tunisians_egyptians",
    "nationality_central_bangladeshis_egyptians",
    "response_niger_repeal_departures",
    "arrivals_central",
    "arrivals_western",
    "arrivals_atlantic",
)


def checked(spread: float, scale: int, replicates: int, out: Path) -> pd.DataFrame:
    """The fit's check with the corridors' spread at `spread` EUR (runs kept in `out`)."""
    out.mkdir(parents=True, exist_ok=True)
    scenario = out / "scenario.yaml"
    scenario.write_text(
        f"extends: {HERE.parent / 'scenarios' / 'baseline.yaml'}\n"
        f"name: spread-{spread:.0f}\nscale: {scale}\n"
        f"migrants:\n  choice_noise_eur: {spread}\n"
    )
    config = Calibration.load(HERE / "calibrate-2021.yaml")
    config = config.model_copy(update={"scenario": str(scenario), "check_replicates": replicates})
    return check_fit(config, out / "check", progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spread", type=float, action="append", required=True, help="EUR")
    parser.add_argument("--scale", type=int, default=20, help="people per agent (20)")
    parser.add_argument("--replicates", type=int, default=4, help="runs per spread (4)")
    parser.add_argument("--out", type=Path, default=Path("runs/spread-tradeoff"))
    args = parser.parse_args()
    rows = {}
    for spread in args.spread:
        table = checked(spread, args.scale, args.replicates, args.out / f"{spread:.0f}")
        row = table.loc[list(SHOWN), "simulated median"]
        first = table.loc[SHOWN[0]]  # and the 90 % range of runs of the first
        rows[spread] = pd.concat(
            [row.iloc[:1], pd.Series({"5%": first["5%"], "95%": first["95%"]}), row.iloc[1:]]
        )
    frame = pd.DataFrame(rows).T.rename_axis(index="choice_noise_eur", columns=None)
    counts = [c for c in SHOWN if c.startswith("arrivals_")]  # people: whole numbers
    frame[counts] = frame[counts].round().astype(int)
    print(frame.to_string(float_format="{:.3f}".format))


if __name__ == "__main__":  # worker processes import this file
    main()
