"""The `routesim` command: parses arguments, calls the public API, prints. Nothing more."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from routesim.outcomes import check_output_folder
from routesim.runner import prepare, run
from routesim.scenario import Scenario, ScenarioError

HEADLINE = (
    ("departed", "people who left home (or were on their way on day 0)", "{:,.0f}"),
    ("arrived_central", "arrived by the Central Mediterranean (Italy, Malta)", "{:,.0f}"),
    ("arrived_western", "arrived by the Western Mediterranean (Spain, Ceuta, Melilla)", "{:,.0f}"),
    ("arrived_atlantic", "arrived by the Atlantic (Canary Islands)", "{:,.0f}"),
    ("arrived_legal", "arrived on a legal pathway", "{:,.0f}"),
    ("dead", "dead and missing", "{:,.0f}"),
    ("intercepted", "interceptions (people, counting repeat attempts)", "{:,.0f}"),
    ("kidnapped", "kidnapped for ransom", "{:,.0f}"),
    ("trafficked", "trafficked or exploited", "{:,.0f}"),
    ("returned_home", "gave up and went home", "{:,.0f}"),
    ("in_transit", "still on their way at the end", "{:,.0f}"),
    ("smuggler_use_share", "share of travellers who used a smuggler", "{:.1%}"),
    ("mean_fee_paid_eur", "mean smuggling fee per leg (EUR)", "{:,.0f}"),
    ("smuggler_revenue_eur", "smugglers' revenue (EUR)", "{:,.0f}"),
    ("armed_group_revenue_eur", "armed groups' revenue (EUR)", "{:,.0f}"),
    ("sea_death_rate", "deaths per sea departure", "{:.2%}"),
)

DESCRIPTION = """\
routesim simulates people travelling from West and North Africa to Europe, the smugglers they
hire, the armed groups that tax and kidnap them and the authorities that intercept them, on a
route network calibrated to 2021. Scenarios (YAML) change policies on a timeline, so you can ask
how a restrictive policy shifts deaths, fees and smuggler use.
"""

RUN_EPILOG = """\
examples:
  routesim run scenarios/baseline.yaml
  routesim run scenarios/central-interception.yaml --seed 7 --out runs/ci-7
  routesim run scenarios/baseline.yaml --set migrants.risk_aversion=2 --days 180
  routesim run scenarios/central-interception.yaml --set policies.libya_coast_guard.enforcement=0.9

outputs (in --out): summary.json (headline metrics), daily.csv (one row per day, cumulative
counts), legs.csv (one row per leg: departures, crossings, fees, deaths, interceptions).
All counts are people, whatever the scale.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a user mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `least`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="routesim",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Start with: routesim run scenarios/baseline.yaml   (then: routesim run --help)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p_run = sub.add_parser(
        "run",
        help="run one scenario and write summary.json, daily.csv and legs.csv",
        description="Run one scenario for its days (after a warm-up that fills the routes), "
        "then print the headline metrics and write the output files.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_run.add_argument("scenario", metavar="SCENARIO", help="a scenario YAML file")
    p_run.add_argument("--seed", type=_whole(0), help="random seed (default: the scenario's)")
    p_run.add_argument("--days", type=_whole(1), help="days to simulate after the warm-up")
    p_run.add_argument(
        "--scale",
        type=_whole(1),
        metavar="K",
        help="people per migrant agent (1 = every person is an agent)",
    )
    p_run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any scenario value by its dotted path; repeatable",
    )
    p_run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: runs/<scenario name>-seed<seed>)",
    )
    p_run.add_argument("--quiet", action="store_true", help="no progress bar, no table")

    p_check = sub.add_parser(
        "check",
        help="validate a scenario (and the network it uses) without running it",
        description="Load a scenario, follow `extends`, apply overrides, check every policy "
        "against the network and print what would run.",
    )
    p_check.add_argument("scenario", metavar="SCENARIO")
    p_check.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE"
    )
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = prepare(args.scenario, args.seed, args.days, args.scale, args.overrides)
    out = args.out or Path("runs") / f"{scenario.name}-seed{scenario.seed}"
    check_output_folder(out)
    result = run(scenario, progress=not args.quiet and sys.stderr.isatty())
    result.save(out)
    if not args.quiet:
        s = result.summary
        print(
            f"{s['scenario']}  seed {s['seed']}  {s['days']} days  scale {s['scale']}  "
            f"(config {s['config_hash']})"
        )
        for key, label, fmt in HEADLINE:
            print(f"  {label:<62} {fmt.format(s['metrics'][key]):>14}")
        print(f"wrote {out}/summary.json, daily.csv, legs.csv")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from routesim.model import RouteModel

    scenario = Scenario.load(args.scenario, args.overrides)
    model = RouteModel(scenario.with_updates(warmup_days=0, days=1))
    net = model.network
    print(
        f"{scenario.name}: ok ({scenario.days} days after {scenario.warmup_days} warm-up, "
        f"scale {scenario.scale}, seed {scenario.seed}, {len(scenario.policies)} policies; "
        f"network {net.folder}: {net.n_locations} locations, {net.n_legs} legs)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"run": _cmd_run, "check": _cmd_check}[args.command](args)
    except ScenarioError as err:
        print(f"routesim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("routesim: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
