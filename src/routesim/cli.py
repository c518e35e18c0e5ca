"""The `routesim` command: parses arguments, calls the public API, prints. Nothing more."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from routesim.experiment import Experiment
from routesim.outcomes import KEY_METRICS, check_output_folder, format_value, write_atomically
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
counts), legs.csv (one row per leg: departures, crossings, fees, deaths, interceptions),
arrivals.csv (arrivals by route and nationality).
All counts are people, whatever the scale.
"""


SWEEP_EPILOG = """\
examples:
  routesim sweep experiments/central-interception.yaml
  routesim sweep experiments/central-interception.yaml --workers 1      # in this process
  routesim sweep experiments/sobol-behaviour.yaml --dask-local 4        # a local Dask cluster
  routesim sweep experiments/sobol-behaviour.yaml --scheduler tcp://10.0.0.5:8786

The results go to DIR/results.sqlite, one row per run as it ends. Stop the sweep at any moment
(Ctrl-C, kill, a cluster's time limit) and start the same command again: only the missing runs
are run. In Python: routesim.load_results(DIR) gives one row per run (parameters, seed,
replicate, metrics). On a SLURM cluster, start a scheduler and workers with dask-jobqueue and
pass --scheduler (see the README).
"""


CALIBRATE_EPILOG = """\
examples:
  routesim calibrate                                   # experiments/calibrate-2021.yaml
  routesim calibrate experiments/calibrate-2021.yaml --workers 8 --out runs/cal
  routesim calibrate my-targets.yaml --scheduler tcp://10.0.0.5:8786
  routesim calibrate --check-only --out runs/check      # does the shipped fit still hold?

The calibration file names the scenario, the free parameters with [low, high] bounds, the
targets (a CSV like routesim/data/targets.csv: one reported figure per row with its source),
replicates and the generations to run. Each generation is a sweep stored in DIR/generations:
stop at any moment and run the same command again to resume. The fitted values are written to
the file named by `write` (scenarios/calibrated.yaml, which scenarios/baseline.yaml extends).
"""


COMPARE_EPILOG = """\
examples:
  routesim compare scenarios/baseline.yaml scenarios/central-interception.yaml
  routesim compare scenarios/baseline.yaml scenarios/no-ngo-rescue.yaml --replicates 20
  routesim compare scenarios/baseline.yaml scenarios/legal-pathways-west-africa.yaml --set scale=25

Runs are stored as a sweep is (DIR/results.sqlite): run the same command again to redraw
without rerunning, or after an interruption to finish. Then draw more with routesim plot DIR.
"""

PLOT_EPILOG = """\
kinds:
  distributions  each metric across runs, grouped --by scenario or a swept parameter
                 (--style box | violin | ecdf); medians and 90% intervals written in
  response       metrics against a swept parameter (--by): median, 50% and 90% bands
  daily          the daily series a sweep kept (or a run's daily.csv), policy days marked
  flows          a map of the legs: width people, colour --color; --by scenario, or
                 --difference for the change from the first group (needs per-leg tables:
                 a run folder, a compare folder, or a sweep with legs: true)
  sobol          Sobol indices with confidence intervals (a sobol sweep)

examples:
  routesim plot runs/central-interception --kind response --metric dead --metric arrived_central
  routesim plot runs/central-interception --kind distributions --metric dead --style violin
  routesim plot runs/central-interception --kind daily --metric dead --out dead.svg
  routesim plot runs/baseline-seed1 --kind flows --color smuggled_share
  routesim plot runs/baseline-vs-central-interception --kind flows --difference
  routesim plot runs/sobol-behaviour --kind sobol --metric dead --metric smuggler_use_share
"""

SWEEP_TABLE_METRICS = 6  # columns of the table printed after a grid sweep


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


def _add_overrides(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE", help=help
    )


def _executors(args: argparse.Namespace) -> dict[str, Any]:
    """Where runs execute, and whether to show progress bars (on a terminal, unless --quiet)."""
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "dask_local": args.dask_local,
        "progress": not args.quiet and sys.stderr.isatty(),
    }


def _add_executor(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        help="local worker processes (default: one per core; 1 = in this process)",
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster (tcp://host:8786)"
    )
    where.add_argument(
        "--dask-local", type=_whole(1), metavar="N", help="start a local Dask cluster of N workers"
    )


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
        help="run one scenario and write summary.json, daily.csv, legs.csv and arrivals.csv",
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
    _add_overrides(p_run, "override any scenario value by its dotted path; repeatable")
    p_run.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: runs/<scenario name>-seed<seed>)",
    )
    p_run.add_argument("--quiet", action="store_true", help="no progress bar, no table")

    p_sweep = sub.add_parser(
        "sweep",
        help="run an experiment: a design of parameter values x replicates, resumable",
        description="Run every run of a sweep file (a scenario, a grid, Latin hypercube or "
        "Sobol design over its parameters, replicates, the metrics to keep) and store each "
        "run as it ends, so an interrupted sweep resumes where it stopped.",
        epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_sweep.add_argument("experiment", metavar="EXPERIMENT", help="a sweep YAML file")
    p_sweep.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: runs/<sweep name>)"
    )
    _add_executor(p_sweep)
    _add_overrides(p_sweep, "change the scenario of every run (part of the sweep's identity)")
    p_sweep.add_argument(
        "--dry-run", action="store_true", help="check the sweep file and say what would run"
    )
    p_sweep.add_argument("--quiet", action="store_true", help="no progress bar, no table")

    p_cal = sub.add_parser(
        "calibrate",
        help="fit free parameters to reported targets; write a scenario file and a report",
        description="Fit the free parameters of a calibration file (each between bounds) to "
        "the reported targets by differential evolution, each candidate run with the same "
        "replicate seeds; write the fitted values as a scenario file, run that scenario again "
        "with fresh seeds, and write a report (report.md, fit.png, loss.png, parameters.png).",
        epilog=CALIBRATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_cal.add_argument(
        "config",
        nargs="?",
        default="experiments/calibrate-2021.yaml",
        metavar="CONFIG",
        help="a calibration YAML file (default: experiments/calibrate-2021.yaml)",
    )
    p_cal.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where generations, check runs and the report go (default: runs/<name>)",
    )
    _add_executor(p_cal)
    p_cal.add_argument(
        "--check-only",
        action="store_true",
        help="do not fit: check the values the fitted file holds now against every target "
        "(the fit's check runs and seeds), e.g. after the model changed; writes check.md "
        "(give a fresh --out: runs stored there are reused)",
    )
    p_cal.add_argument("--quiet", action="store_true", help="no progress bars, no table")

    p_export = sub.add_parser(
        "export",
        help="write a sweep's results to Parquet for big analyses",
        description="Write the results of the sweep in DIR (one row per finished run) to a "
        "Parquet file, and its kept daily series to another if asked.",
    )
    p_export.add_argument("folder", metavar="DIR", help="a sweep's results folder")
    p_export.add_argument("--parquet", type=Path, metavar="FILE", required=True)
    p_export.add_argument(
        "--daily", type=Path, metavar="FILE", help="also write the daily series (Parquet)"
    )

    p_analyze = sub.add_parser(
        "analyze",
        help="analyse a finished sweep (sobol: sensitivity indices)",
        description="Analyses of a finished sweep.",
    )
    kinds = p_analyze.add_subparsers(dest="analysis", metavar="ANALYSIS", parser_class=_Parser)
    kinds.required = True
    p_sobol = kinds.add_parser(
        "sobol",
        help="first-order and total Sobol indices of a metric, from a sobol sweep",
        description="First-order (S1) and total (ST) Sobol indices with bootstrap confidence "
        "intervals (SALib), from the mean of each design point's replicates.",
    )
    p_sobol.add_argument("folder", metavar="DIR", help="a sobol sweep's results folder")
    p_sobol.add_argument(
        "--metric", action="append", required=True, metavar="M", help="a kept metric; repeatable"
    )
    p_sobol.add_argument("--conf", type=float, default=0.95, help="confidence level (0.95)")
    p_sobol.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")

    p_compare = sub.add_parser(
        "compare",
        help="run (or read) scenarios side by side with replicates, and draw them",
        description="Run each scenario REPLICATES times (or read the runs already in --out), "
        "print each metric's median and 5-95% interval per scenario, and draw "
        "DIR/compare.png (the distributions side by side) and DIR/compare-flows.png "
        "(each scenario's change in people per leg from the first).",
        epilog=COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_compare.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="scenario files; the first is the base"
    )
    p_compare.add_argument(
        "--replicates", type=_whole(1), default=10, metavar="N", help="runs per scenario (10)"
    )
    p_compare.add_argument("--seed", type=_whole(0), default=0, help="parent seed of the runs (0)")
    p_compare.add_argument(
        "--metric",
        action="append",
        metavar="M",
        help=f"a metric to keep and draw; repeatable (default: {', '.join(KEY_METRICS)})",
    )
    p_compare.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: runs/A-vs-B)"
    )
    _add_executor(p_compare)
    _add_overrides(p_compare, "change every scenario (e.g. scale=25 for a quick look)")
    p_compare.add_argument("--quiet", action="store_true", help="no progress bar, no table")

    p_plot = sub.add_parser(
        "plot",
        help="draw a figure from a sweep, a comparison or a run",
        description="Draw one figure from RESULTS: a sweep or comparison folder "
        "(results.sqlite) or a `routesim run` output folder.",
        epilog=PLOT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_plot.add_argument("results", metavar="RESULTS", help="a results folder")
    p_plot.add_argument(
        "--kind",
        required=True,
        choices=("distributions", "response", "daily", "flows", "sobol"),
        help="what to draw (see below)",
    )
    p_plot.add_argument(
        "--metric",
        action="append",
        metavar="M",
        help="a metric; repeatable (default: up to six of the key metrics kept)",
    )
    p_plot.add_argument(
        "--by", metavar="PARAM", help="group runs by a swept parameter's path, or by scenario"
    )
    p_plot.add_argument(
        "--style",
        choices=("box", "violin", "ecdf"),
        default="box",
        help="distributions: box (default), violin or ecdf",
    )
    p_plot.add_argument(
        "--color",
        choices=("death_rate", "smuggled_share"),
        default="death_rate",
        help="flows: what colours the legs (death_rate)",
    )
    p_plot.add_argument(
        "--difference",
        action="store_true",
        help="flows: draw each group's change from the first group",
    )
    p_plot.add_argument(
        "--out", type=Path, metavar="FILE", help="PNG, SVG or PDF (default: RESULTS/KIND.png)"
    )
    p_plot.add_argument("--title", help="replace the title (which says what was run)")
    p_plot.add_argument("--dpi", type=_whole(50), default=200, help="PNG resolution (200)")

    p_check = sub.add_parser(
        "check",
        help="validate a scenario (and the network it uses) without running it",
        description="Load a scenario, follow `extends`, apply overrides, check every policy "
        "against the network and print what would run.",
    )
    p_check.add_argument("scenario", metavar="SCENARIO")
    _add_overrides(p_check, "override a scenario value by its dotted path; repeatable")
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
        print(f"wrote {out}/summary.json, daily.csv, legs.csv, arrivals.csv")
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


def _cmd_sweep(args: argparse.Namespace) -> int:
    experiment = Experiment.load(args.experiment)
    out = args.out or experiment.results_folder
    if args.dry_run:
        plan = experiment.plan(tuple(args.overrides))
        design = experiment.design
        over = f" ({design.kind} over {', '.join(design.parameters)})" if design else ""
        print(
            f"{experiment.name}: ok: {len(plan.points)} design points x {experiment.replicates} "
            f"replicates = {len(plan.runs)} runs of {', '.join(plan.scenario_names)}{over}; "
            f"results would go to {out}"
        )
        return 0
    results, runs, failed = _sweep(experiment, out, args)
    if not args.quiet:
        seconds = runs.attrs["seconds"]
        print(
            f"{experiment.name}: {len(results)} of {len(runs)} runs done, {len(failed)} failed "
            f"({seconds:.1f} s); results in {out}/results.sqlite"
        )
        keys = experiment.parameters
        if isinstance(experiment.scenario, tuple):
            keys = ["scenario", *keys]
        if (
            keys
            and len(results)
            and (experiment.design is None or experiment.design.kind == "grid")
        ):
            shown = list(experiment.metrics[:SWEEP_TABLE_METRICS])
            means = results.groupby(keys, sort=False)[shown].mean()
            more = len(experiment.metrics) - len(shown)
            print(f"mean over replicates{f' (first {len(shown)} metrics)' if more else ''}:")
            print(means.head(20).to_string(float_format=_number))
        print(f"load them with: routesim.load_results({str(out)!r})")
    return _report_failed(failed)


def _sweep(
    experiment: Experiment, out: Path, args: argparse.Namespace
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run (or finish) a sweep as the command line asks: its results, every run, the failed."""
    from routesim.store import load_results
    from routesim.sweep import sweep

    signal.signal(signal.SIGTERM, _interrupt)  # a batch job's time limit: stop like Ctrl-C
    start = time.perf_counter()
    results = sweep(experiment, out, overrides=args.overrides, **_executors(args))
    runs = load_results(out, all_runs=True)
    runs.attrs["seconds"] = time.perf_counter() - start
    return results, runs, runs[runs.status == "failed"]


def _report_failed(failed: pd.DataFrame) -> int:
    for row in failed.head(5).itertuples():
        print(f"routesim: run {row.run_id} (seed {row.seed}) failed: {row.error}", file=sys.stderr)
    return 1 if len(failed) else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from routesim import plots
    from routesim.store import load_legs

    metrics = args.metric or list(KEY_METRICS)
    experiment = Experiment.comparison(args.scenarios, args.replicates, args.seed, metrics)
    out = args.out or experiment.results_folder
    results, runs, failed = _sweep(experiment, out, args)
    if results.empty:
        raise ScenarioError(out, "", "no run finished: nothing to compare")
    if not args.quiet:
        print(
            f"{experiment.name}: {len(results)} of {len(runs)} runs done, {len(failed)} failed; "
            f"median (5% to 95%) over runs:"
        )
        print(_intervals(results, metrics).to_string())
    drawn = [
        plots.save(plots.distributions(results, metrics, by="scenario"), out / "compare.png"),
        plots.save(plots.flows(load_legs(out), difference=True), out / "compare-flows.png"),
    ]
    if not args.quiet:
        print(f"wrote {', '.join(map(str, drawn))}; more with: routesim plot {out}")
    return _report_failed(failed)


def _intervals(results: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per metric and scenario: 'median (5%-95%)' as a reader wants the numbers."""
    order = results.attrs["scenarios"]
    table = {}
    for metric in metrics:
        q = results.groupby("scenario")[metric].quantile([0.05, 0.5, 0.95]).unstack()
        fmt = partial(format_value, metric)
        table[metric] = {
            name: f"{fmt(q.loc[name, 0.5])} ({fmt(q.loc[name, 0.05])} to {fmt(q.loc[name, 0.95])})"
            for name in order
            if name in q.index
        }
    return pd.DataFrame(table).T


def _cmd_plot(args: argparse.Namespace) -> int:
    from routesim import plots
    from routesim.sensitivity import sobol_indices
    from routesim.store import load_daily, load_legs, load_results

    folder, kind = args.results, args.kind
    if kind == "sobol":
        metrics = args.metric or load_results(folder).attrs["metrics"][:4]
        fig = plots.sobol([sobol_indices(folder, m) for m in metrics], title=args.title)
    elif kind == "flows":
        fig = plots.flows(load_legs(folder), args.by, args.color, args.difference, title=args.title)
    elif kind == "daily":
        fig = plots.daily(load_daily(folder), args.metric, args.by, title=args.title)
    elif kind == "response":
        fig = plots.response(load_results(folder), args.metric, args.by, title=args.title)
    else:
        fig = plots.distributions(
            load_results(folder), args.metric, args.by, args.style, title=args.title
        )
    out = args.out or Path(folder) / f"{kind}.png"
    plots.save(fig, out, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


def _number(x: float) -> str:
    """Counts and euros as whole numbers with separators; shares and rates to 4 digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from routesim.calibration import Calibration, calibrate, check_fit
    from routesim.calibration_report import inside_count

    config = Calibration.load(args.config)
    out = args.out or config.results_folder
    signal.signal(signal.SIGTERM, _interrupt)
    if args.check_only:
        table = check_fit(config, out, **_executors(args))
        where = f"checked {config.path(config.write)} without fitting; report in {out}/check.md"
    else:
        fit = calibrate(config, out, **_executors(args))
        for note in fit.notes:
            print(f"routesim: warning: {note}", file=sys.stderr)
        table = fit.table
        where = f"fitted values in {fit.written}; report in {out}/report.md"
    if not args.quiet:
        fitted = table[table["fitted"]]
        shown = fitted.assign(inside=fitted["inside"].map({True: "yes", False: "NO"}))
        print(shown[["reported", "simulated median", "inside"]].to_string(float_format=_number))
        inside, n_fitted = inside_count(table)
        print(f"{config.name}: {inside} of {n_fitted} fitted targets inside; {where}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from routesim.store import load_daily, load_results

    tables = [(load_results(args.folder), args.parquet)]
    if args.daily:
        tables.append((load_daily(args.folder), args.daily))
    for table, path in tables:
        write_atomically({path: partial(table.to_parquet, index=False)})
        print(f"wrote {path} ({len(table):,} rows, {table.shape[1]} columns)")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from routesim.sensitivity import sobol_indices

    tables = [sobol_indices(args.folder, metric, args.conf) for metric in args.metric]
    for table in tables:
        a = table.attrs
        print(
            f"Sobol indices of {a['metric']} ({a['sweep']}: {a['runs']} runs, "
            f"{a['replicates']} replicates per point; {a['conf_level']:.0%} intervals)"
        )
        print(table.to_string(float_format="{:.3f}".format))
        print(f"replicate noise: {a['noise_share']:.0%} of the run-to-run variance\n")
    if args.csv:
        combined = pd.concat({t.attrs["metric"]: t for t in tables}, names=["metric"])
        write_atomically({args.csv: combined.to_csv})
        print(f"wrote {args.csv}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "run": _cmd_run,
        "check": _cmd_check,
        "sweep": _cmd_sweep,
        "export": _cmd_export,
        "analyze": _cmd_analyze,
        "compare": _cmd_compare,
        "calibrate": _cmd_calibrate,
        "plot": _cmd_plot,
    }
    try:
        return commands[args.command](args)
    except ScenarioError as err:
        print(f"routesim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = "finished runs are kept: run the same command to resume"
        said = kept if args.command in ("sweep", "compare", "calibrate") else "nothing was written"
        print(f"routesim: interrupted; {said}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
