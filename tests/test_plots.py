"""Figures: every kind renders from small sweeps, comparisons and runs (headless, no pyplot),
with the right labels and units; bad requests get one line."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
import yaml

import routesim
from routesim import figures, flowmap, plots
from routesim.cli import main
from routesim.experiment import Experiment
from routesim.store import load_arrivals, load_daily, load_legs, load_results

from .test_sweep import write_experiment

POLICY = {  # the Central Mediterranean closed: every departure for Europe on it
    "id": "surge",
    "day": 20,
    "where": {"route": "central", "into_europe": True},
    "enforcement": 0.9,
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 grid, 3 replicates, daily series and per-leg tables kept, a policy on day 20."""
    folder = tmp_path_factory.mktemp("grid")
    path = write_experiment(folder, legs=True)
    tiny = yaml.safe_load((folder / "tiny.yaml").read_text())
    tiny["policies"] = [POLICY]
    (folder / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    routesim.sweep(path, folder / "out", workers=1, progress=False)
    return folder / "out"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`routesim compare` of the tiny scenario and a Libya-closed variant, 3 runs each."""
    folder = tmp_path_factory.mktemp("compare")
    write_experiment(folder)
    closed = {"extends": "tiny.yaml", "name": "closed", "policies": [{**POLICY, "day": 0}]}
    (folder / "closed.yaml").write_text(yaml.safe_dump(closed))
    out = folder / "out"
    args = [str(folder / "tiny.yaml"), str(folder / "closed.yaml"), "--replicates", "3"]
    return out, _cli(["compare", *args, "--out", str(out), "--workers", "1"])


def _cli(argv: list[str], code: int = 0) -> str:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(argv) == code, err.getvalue()
    return out.getvalue() + err.getvalue()


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]


# --- each kind ---------------------------------------------------------------------------------


def test_distributions_show_every_run_with_medians_and_units(grid: Path) -> None:
    results = load_results(grid)
    by = "migrants.risk_aversion"
    fig = plots.distributions(results, ["dead", "smuggler_use_share"], by=by)
    dead, share = fig.axes
    assert dead.get_title() == "dead and missing" and dead.get_ylabel() == "people"
    assert share.get_ylabel() == "% of people who left home"
    assert [t.get_text() for t in dead.get_xticklabels()] == ["0.5", "1.5"]
    assert dead.get_xlabel() == by
    dots = sum(len(c.get_offsets()) for c in dead.collections)
    assert dots == len(results)  # every run is a dot
    medians = results.groupby(by)["dead"].median()
    labels = [t.get_text() for t in dead.texts]
    for median in medians:
        assert any(t.startswith(f"{median:,.0f}\n") for t in labels), (median, labels)
    assert "pooled over policies.libya_coast_guard.enforcement" in fig._suptitle.get_text()
    assert "tiny-grid: 12 runs (4 design points x 3 replicates)" in fig._suptitle.get_text()


def test_violin_and_ecdf_styles(grid: Path) -> None:
    results = load_results(grid)
    violin = plots.distributions(results, ["dead"], kind="violin")
    assert any(
        type(c).__name__ == "FillBetweenPolyCollection" or "Poly" in type(c).__name__
        for c in violin.axes[0].collections
    )
    by = "policies.libya_coast_guard.enforcement"
    ecdf = plots.distributions(results, ["arrived_central"], by=by, kind="ecdf").axes[0]
    steps = [line for line in ecdf.lines if line.get_label().startswith(("0.2", "0.8"))]
    assert len(steps) == 2 and "median" in steps[0].get_label()
    assert ecdf.get_ylabel() == "share of runs at or below" and ecdf.get_xlabel() == "people"


def test_response_curves_have_median_and_both_bands(grid: Path) -> None:
    results = load_results(grid)
    by = "policies.libya_coast_guard.enforcement"
    fig = plots.response(results, ["arrived_central", "dead"], by=by)
    ax = fig.axes[0]
    assert ax.get_xlabel() == by and ax.get_ylabel() == "people"
    assert len(ax.collections) == 2  # the 90 % and 50 % bands
    median = ax.lines[0]
    expected = results.groupby(by)["arrived_central"].median()
    np.testing.assert_allclose(median.get_xdata(), expected.index)
    np.testing.assert_allclose(median.get_ydata(), expected.to_numpy())
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["median", "50% of runs", "90% of runs"]


def test_response_bins_a_continuous_design(tmp_path: Path) -> None:
    lhs = {"kind": "lhs", "samples": 30, "parameters": {"migrants.risk_aversion": [0.5, 2.0]}}
    path = write_experiment(tmp_path, {"design": lhs, "replicates": 1})
    results = routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    fig = plots.response(results, ["dead"])
    assert len(fig.axes[0].lines[0].get_xdata()) == figures.BINS
    assert "(in 10 bins of equal counts)" in fig._suptitle.get_text()


def test_daily_series_mark_the_policy_day(grid: Path) -> None:
    series = load_daily(grid)
    by = "policies.libya_coast_guard.enforcement"
    fig = plots.daily(series, ["dead"], by=by)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "day" and ax.get_ylabel() == "people"
    assert [line.get_label() for line in ax.lines[:2]] == ["0.2", "0.8"]
    assert fig.legends[0].get_title().get_text() == by
    marks = [line for line in ax.lines if line.get_xdata()[0] == 20 and line.get_xdata()[1] == 20]
    assert marks and " 20" in [t.get_text() for t in ax.texts]
    assert "from day 20: surge" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_a_sweep_that_keeps_legs_keeps_who_arrived_where(grid: Path) -> None:
    """Each run's arrivals by route and nationality, summing to its route metrics; a store
    begun before arrivals were kept reads as none and keeps them once resumed."""
    arrivals = load_arrivals(grid)
    results = load_results(grid).set_index("run_id")
    assert arrivals["run_id"].nunique() == len(results)
    by_route = arrivals.groupby(["run_id", "route"])["arrived"].sum().unstack(fill_value=0.0)
    kept = [r for r in by_route.columns if f"arrived_{r}" in results]  # the sweep's metrics
    assert kept
    for route in kept:
        metric = results.loc[by_route.index, f"arrived_{route}"]
        assert by_route[route].to_dict() == metric.to_dict()
    old = grid.parent / "before-arrivals"
    shutil.copytree(grid, old)
    with closing(sqlite3.connect(old / "results.sqlite")) as db:
        db.execute("DROP TABLE arrivals")
    assert load_arrivals(old).empty
    routesim.sweep(grid.parent / "sweep.yaml", old, workers=1, progress=False)  # all done
    assert load_arrivals(old).empty and len(load_results(old)) == len(results)


def test_flow_map_widths_follow_people_and_colours_death_rates(grid: Path) -> None:
    legs = load_legs(grid)
    assert len(legs) == 12 * legs.groupby("run_id").size().iloc[0]  # every run, every leg
    by = "policies.libya_coast_guard.enforcement"
    fig = plots.flows(legs, by=by)
    maps = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in maps] == [f"{by} = 0.2", f"{by} = 0.8"]
    busiest = max(
        max(c.get_linewidths())
        for ax in maps
        for c in ax.collections
        if type(c).__name__ == "LineCollection"
    )
    assert busiest == pytest.approx(0.4 + flowmap.MAX_WIDTH)
    colorbar = [ax for ax in fig.axes if ax.get_ylabel() == "deaths per person setting off"]
    assert colorbar
    scales = {
        (c.norm.vmin, c.norm.vmax)
        for ax in maps
        for c in ax.collections
        if type(c).__name__ == "LineCollection"
    }
    assert len(scales) == 1  # one colour scale for both maps
    texts = _texts(fig)
    assert "LIBYA" in texts and "Central Mediterranean" in texts and " Lampedusa" in texts


def test_flow_difference_map_colours_changes_by_sign(comparison) -> None:
    out, _ = comparison
    fig = plots.flows(load_legs(out), difference=True)
    (ax,) = [ax for ax in fig.axes if ax.get_title()]
    assert ax.get_title() == "closed minus tiny"
    colours = {
        mcolors.to_hex(c)
        for coll in ax.collections
        if type(coll).__name__ == "LineCollection"
        for c in coll.get_colors()
    }
    assert colours <= {flowmap.MORE.lower(), flowmap.FEWER.lower(), flowmap.NOISE}
    assert flowmap.FEWER.lower() in colours  # closing Libya's sea legs empties them


def test_legs_too_few_people_took_get_no_rate() -> None:
    few, many = flowmap.MIN_PEOPLE / 2, flowmap.MIN_PEOPLE * 2
    runs = pd.DataFrame(
        {
            "leg_from": ["A", "C"],
            "leg_to": ["B", "D"],
            "mode": "sea",
            "route": "central",
            "run_id": "r0",
            "departures": [few, many],
            "deaths": [few / 2, many / 100],
            "smuggled_share": [1.0, 0.5],
        }
    )
    table = flowmap.mean_flows(runs).set_index("leg_from")
    assert np.isnan(table.loc["A", "death_rate"]) and np.isnan(table.loc["A", "smuggled_share"])
    assert table.loc["C", "death_rate"] == pytest.approx(0.01)
    assert table.loc["A", "people"] == few  # still drawn, in grey


def test_change_is_noise_unless_it_exceeds_two_standard_errors() -> None:
    def runs(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "leg_from": "A",
                "leg_to": "B",
                "mode": "sea",
                "route": "central",
                "run_id": [f"r{i}" for i in range(len(values))],
                "departures": values,
            }
        )

    noisy = flowmap.change(runs([10, 30, 20]), runs([15, 25, 20]))
    assert noisy.people.iloc[0] == 0 and not noisy.clear.iloc[0]
    clear = flowmap.change(runs([100, 101, 99]), runs([10, 11, 9]))
    assert clear.people.iloc[0] == 90 and clear.clear.iloc[0]


def test_sobol_bars_carry_confidence_intervals(tmp_path: Path) -> None:
    design = {
        "kind": "sobol",
        "samples": 4,
        "parameters": {
            "migrants.risk_aversion": [0.5, 2.0],
            "policies.libya_coast_guard.enforcement": [0.1, 0.9],
        },
    }
    path = write_experiment(tmp_path, {"design": design, "replicates": 1})
    routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    table = routesim.sobol_indices(tmp_path / "out", "arrived_central")
    fig = plots.sobol(table)
    ax = fig.axes[0]
    assert ax.get_title() == "arrived by the Central Mediterranean"
    assert {t.get_text() for t in ax.get_yticklabels()} == set(table.index)
    assert len(ax.patches) == 2 * len(table)  # S1 and ST per parameter
    errorbars = [c for c in ax.containers if getattr(c, "errorbar", None) is not None]
    assert len(errorbars) == 2


# --- the command line --------------------------------------------------------------------------


def test_compare_runs_prints_intervals_and_draws(comparison) -> None:
    out, printed = comparison
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "compare-flows.png").is_file()
    results = load_results(out)
    assert list(results.attrs["scenarios"]) == ["tiny", "closed"]
    assert results.groupby("scenario").size().to_dict() == {"closed": 3, "tiny": 3}
    median = results[results.scenario == "tiny"]["dead"].median()
    assert f"{median:,.0f} (" in printed  # median (5% to 95%) per scenario


def test_compare_again_reads_instead_of_running(comparison) -> None:
    out, _ = comparison
    before = load_results(out, all_runs=True)[["run_id", "finished", "dead"]]
    (out / "compare.png").unlink()
    folder = out.parent
    again = _cli(
        [
            "compare",
            str(folder / "tiny.yaml"),
            str(folder / "closed.yaml"),
            "--replicates",
            "3",
            "--out",
            str(out),
            "--workers",
            "1",
        ]
    )
    assert "6 of 6 runs done" in again and (out / "compare.png").is_file()
    pd.testing.assert_frame_equal(load_results(out, all_runs=True)[before.columns], before)


@pytest.mark.parametrize("kind", ["distributions", "response", "daily", "flows"])
def test_cli_plot_writes_png_and_svg(grid: Path, tmp_path: Path, kind: str) -> None:
    png = tmp_path / f"{kind}.png"
    by = ["--by", "policies.libya_coast_guard.enforcement"]
    assert f"wrote {png}" in _cli(["plot", str(grid), "--kind", kind, *by, "--out", str(png)])
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = tmp_path / f"{kind}.svg"
    _cli(["plot", str(grid), "--kind", kind, *by, "--out", str(svg)])
    first = svg.read_bytes()
    assert b"<svg" in first
    _cli(["plot", str(grid), "--kind", kind, *by, "--out", str(svg)])
    assert svg.read_bytes() == first  # same results, same file


def test_cli_plots_a_single_run(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_experiment(tmp_path)
    _cli(["run", str(tmp_path / "tiny.yaml"), "--out", str(folder), "--quiet"])
    _cli(["plot", str(folder), "--kind", "flows", "--color", "smuggled_share"])
    assert (folder / "flows.png").is_file()
    _cli(["plot", str(folder), "--kind", "daily", "--metric", "arrived"])
    assert (folder / "daily.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "distributions", "--metric", "happiness"], "'happiness' was not kept"),
        (["--kind", "response", "--by", "migrants.cash"], "'migrants.cash' was not swept"),
        (["--kind", "distributions", "--by", "smugglers.markup"], "was not swept"),
        (["--kind", "sobol", "--metric", "dead"], "need a sobol design"),
        (["--kind", "daily", "--metric", "kidnapped"], "'kidnapped' was not kept"),
        (["--kind", "flows", "--difference", "--by", "scenario"], "needs two groups"),
        (["--kind", "distributions", "--out", "figure.jpg"], "unknown figure format '.jpg'"),
    ],
)
def test_bad_plot_requests_get_one_line(grid: Path, args: list[str], message: str) -> None:
    said = _cli(["plot", str(grid), *args], code=2)
    assert message in said and said.count("\n") == 1 and "Traceback" not in said


def test_empty_or_unfinished_folders_get_one_line(tmp_path: Path) -> None:
    said = _cli(["plot", str(tmp_path), "--kind", "distributions"], code=2)
    assert "no sweep results here (nothing;" in said and said.count("\n") == 1
    path = write_experiment(tmp_path, {"replicates": 1})
    plan = Experiment.load(path).plan()
    from routesim.runner import __version__
    from routesim.store import ResultStore

    ResultStore.create_or_resume(tmp_path / "pending", plan, __version__).close()
    said = _cli(["plot", str(tmp_path / "pending"), "--kind", "distributions"], code=2)
    assert "no finished runs to plot" in said and said.count("\n") == 1


def test_flows_of_a_sweep_that_kept_no_legs_says_how_to_keep_them(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, {"replicates": 1})
    routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    said = _cli(["plot", str(tmp_path / "out"), "--kind", "flows"], code=2)
    assert "legs: true" in said and said.count("\n") == 1


@pytest.mark.parametrize(
    ("scenarios", "extra", "message"),
    [
        (["baseline.yaml"], [], "give two scenarios or more"),
        (["baseline.yaml", "baseline.yaml"], [], "two scenarios are named 'baseline'"),
        (["baseline.yaml", "no-ngo-rescue.yaml"], ["--metric", "joy"], "unknown metric 'joy'"),
        (["baseline.yaml", "missing.yaml"], [], "file not found"),
    ],
)
def test_bad_comparisons_get_one_line_before_anything_runs(
    tmp_path: Path, scenarios: list[str], extra: list[str], message: str
) -> None:
    from .conftest import SCENARIOS

    paths = [str(SCENARIOS / s) for s in scenarios]
    said = _cli(["compare", *paths, *extra, "--out", str(tmp_path / "out")], code=2)
    assert message in said and said.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_sweep_over_several_scenarios_draws_a_line_each(tmp_path: Path) -> None:
    grid = {"kind": "grid", "parameters": {"migrants.risk_aversion": [0.5, 1.5]}}
    path = write_experiment(tmp_path, {"design": grid, "replicates": 2})
    closed = {"extends": "tiny.yaml", "name": "closed", "policies": [{**POLICY, "day": 0}]}
    (tmp_path / "closed.yaml").write_text(yaml.safe_dump(closed))
    spec = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**spec, "scenario": ["tiny.yaml", "closed.yaml"]}))
    results = routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    assert results.groupby(["scenario", "migrants.risk_aversion"]).size().tolist() == [2] * 4
    fig = plots.response(results, ["arrived_central"], by="migrants.risk_aversion")
    assert [line.get_label() for line in fig.axes[0].lines] == ["tiny", "closed"]
    central = results.groupby("scenario")["arrived_central"].median()
    assert central["closed"] < central["tiny"]  # the Central Mediterranean closed from day 0


# --- what the review found -----------------------------------------------------------------------


def _drawn_colours(fig) -> set[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()  # mapped colours are computed when drawn
    return {
        mcolors.to_hex(c)
        for ax in fig.axes
        for coll in ax.collections
        if type(coll).__name__ == "LineCollection"
        for c in coll.get_colors()
    }


def test_a_leg_where_nobody_died_has_its_own_colour(grid: Path) -> None:
    legs = load_legs(grid)
    assert flowmap.NO_DEATHS.lower() in _drawn_colours(plots.flows(legs))
    legs = legs.assign(deaths=legs["deaths"] + 1.0)  # now somebody died on every leg
    assert flowmap.NO_DEATHS.lower() not in _drawn_colours(plots.flows(legs))


def test_maps_put_places_where_the_runs_network_had_them(grid: Path) -> None:
    legs = load_legs(grid)
    moved = legs.assign(from_lon=legs["from_lon"] + 1.0, to_lon=legs["to_lon"] + 1.0)

    def marker_lons(frame: pd.DataFrame) -> np.ndarray:
        ax = next(ax for ax in plots.flows(frame).axes if ax.collections)
        markers = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
        return np.sort(np.concatenate([c.get_offsets()[:, 0] for c in markers]))

    np.testing.assert_allclose(marker_lons(moved), marker_lons(legs) + 1.0)


def test_difference_maps_say_when_noise_is_unknown(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, {"replicates": 1}, legs=True)
    routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    by = "policies.libya_coast_guard.enforcement"
    fig = plots.flows(load_legs(tmp_path / "out"), by=by, difference=True)
    assert "one run per group: noise unknown" in fig._suptitle.get_text()


def test_a_range_parameter_is_grouped_in_bins_everywhere(tmp_path: Path) -> None:
    lhs = {"kind": "lhs", "samples": 30, "parameters": {"migrants.risk_aversion": [0.5, 2.0]}}
    path = write_experiment(tmp_path, {"design": lhs, "replicates": 1})
    results = routesim.sweep(path, tmp_path / "out", workers=1, progress=False)
    ticks = plots.distributions(results, ["dead"]).axes[0].get_xticklabels()
    assert len(ticks) == figures.BINS and ticks[0].get_text().startswith("0.5")


def test_policy_days_are_named_with_their_scenario() -> None:
    series = pd.DataFrame(
        {
            "run_id": ["a0", "a0", "b0", "b0"],
            "point": [0, 0, 1, 1],
            "seed": [1, 1, 2, 2],
            "scenario": ["a", "a", "b", "b"],
            "day": [0, 1, 0, 1],
            "dead": [0.0, 5.0, 0.0, 7.0],
        }
    )
    series.attrs = {
        "sweep": "ab",
        "parameters": [],
        "scenarios": ["a", "b"],
        "policy_days": {"a": [[1, "surge"]], "b": [[1, "closure"]]},
    }

    def marks(frame: pd.DataFrame) -> list[str]:
        fig = plots.daily(frame, ["dead"])
        return [t.get_text() for t in fig.legends[0].get_texts() if "day" in t.get_text()]

    assert marks(series) == ["from day 1: a: surge; b: closure"]
    assert marks(series[series.scenario == "a"]) == ["from day 1: surge"]  # its own, unprefixed


def test_pdf_and_svg_are_the_same_bytes_for_the_same_results(grid: Path, tmp_path: Path) -> None:
    results = load_results(grid)
    for suffix in (".pdf", ".svg"):
        first = plots.save(plots.distributions(results), tmp_path / f"a{suffix}").read_bytes()
        again = plots.save(plots.distributions(results), tmp_path / f"b{suffix}").read_bytes()
        assert first == again


def test_stores_of_routesim_0_1_are_still_read(grid: Path, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    shutil.copytree(grid, tmp_path / "old")
    with sqlite3.connect(tmp_path / "old" / "results.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key IN ('scenarios', 'policy_days')")
        db.execute("ALTER TABLE points DROP COLUMN scenario")
    results = load_results(tmp_path / "old")
    assert set(results["scenario"]) == {"tiny"} and len(results) == 12
    assert plots.distributions(results, ["dead"]) is not None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "results.sqlite").write_bytes(b""), "not a readable routesim results file"),
        (lambda d: (d / "summary.json").write_text("{}"), "scenario: missing: not a run summary"),
    ],
)
def test_broken_result_files_get_one_line(tmp_path: Path, make, message: str) -> None:
    for name in ("daily.csv", "legs.csv"):
        (tmp_path / name).write_text("day\n0\n")
    make(tmp_path)
    said = _cli(["plot", str(tmp_path), "--kind", "distributions"], code=2)
    assert message in said and said.count("\n") == 1


def test_sobol_of_a_comparison_is_one_line(comparison) -> None:
    out, _ = comparison
    said = _cli(["plot", str(out), "--kind", "sobol", "--metric", "dead"], code=2)
    assert "need a sobol design, not none" in said and said.count("\n") == 1
