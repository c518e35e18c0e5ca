"""The calibration report: for every target what was reported and what the fitted scenario gives,
the loss over generations, and how well each parameter is pinned down (Markdown + figures)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from routesim.figures import save, style
from routesim.outcomes import write_atomically
from routesim.plots import COLORS, _panels
from routesim.targets import deviation, inside, treatments

if TYPE_CHECKING:
    from routesim.calibration import Calibration, Fit

NEAR = 0.9  # the near-optimal set: candidates within the 90 % chi-square quantile of the best
LIMITS = (0.05, 20.0)  # the fit figure's axis: simulated / reported


def fit_table(targets: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per target: reported band, simulated median and 90 % interval over `runs` (one
    row per run, one column per target), whether the median is inside (within `accept`), and
    the deviation in sd."""
    t = targets
    check = runs.drop(columns="replicate", errors="ignore")
    median = check.median()
    table = pd.DataFrame(
        {
            "group": t["group"],
            "what": t["what"],
            "reported": [_band(r) for r in t.itertuples()],
            "low": t["low"],
            "high": t["high"],
            "simulated median": median.reindex(t.index),
            "5%": check.quantile(0.05).reindex(t.index),
            "95%": check.quantile(0.95).reindex(t.index),
            "inside": inside(t, median),
            "deviation (sd)": deviation(t, median),
            "fitted": t["fit"],
            "year": t["year"],
            "source": t["source"],
            "unit": t["unit"],
            "treatment": t["treatment"],
            "note": t["note"],
        }
    )
    return table


def near_optimal(fit: Fit) -> pd.DataFrame:
    """Each parameter's start, fitted value and range over the candidates whose loss is within
    chi2(NEAR, k) of the best: an approximate joint 90 % region if the targets' sd are right."""
    from scipy.stats import chi2

    history, names = fit.history, fit.parameters
    threshold = history["loss"].min() + chi2.ppf(NEAR, len(names))
    near = history[history["loss"] <= threshold]
    first = history[(history["generation"] == 0) & (history["candidate"] == 0)].iloc[0]
    return pd.DataFrame(
        {
            "low": [fit.config.parameters[n][0] for n in names],
            "high": [fit.config.parameters[n][1] for n in names],
            "start": [first[n] for n in names],
            "fitted": [fit.best[n] for n in names],
            "near-optimal from": [near[n].min() for n in names],
            "to": [near[n].max() for n in names],
        },
        index=pd.Index(names, name="parameter"),
    ).assign(candidates=len(near))


def tradeoff(fit: Fit, target: str) -> str:
    """What meeting `target` costs elsewhere, from the candidates evaluated: the best candidate
    with `target` inside its band (within `accept`), and the targets it misses by more than the
    best candidate."""
    history = fit.history.set_index(["generation", "candidate"])
    z, reached = fit.scores
    reaching = history[reached[target] == True]  # noqa: E712 (object column with NaN)
    if reaching.empty:
        return (
            f"none of the {len(history)} candidates reached it: the free parameters cannot, "
            "within their bounds."
        )
    alternative = reaching["loss"].idxmin()
    best = history["loss"].idxmin()
    if alternative == best:
        return (
            "the fitted values reach it on the fitting runs; the check, with fresh seeds at the "
            "scenario's own scale, does not: the miss is within run-to-run noise."
        )
    worse = (z.loc[alternative].abs() - z.loc[best].abs()).drop(target)
    worse = worse[worse > 0.5].sort_values(ascending=False).head(4)
    given_up = ", ".join(f"`{k}` ({z.loc[alternative, k]:+.1f})" for k in worse.index)
    return (
        f"{len(reaching)} of {len(history)} candidates reach it; the best of them has loss "
        f"{reaching['loss'].min():.0f} (fitted: {history['loss'].min():.0f})"
        + (f" and gives up {given_up}." if given_up else ".")
    )


def write_report(fit: Fit, folder: Path) -> Path:
    """Write report.md, fit.csv, history.csv and the figures (fit, loss, parameters) to `folder`."""
    table = fit.table
    params = near_optimal(fit)
    figures = {"fit.png": fit_figure(table), "loss.png": loss_figure(fit)}
    figures["parameters.png"] = parameters_figure(fit)
    for name, figure in figures.items():
        save(figure, folder / name)
    report = folder / "report.md"
    write_atomically(
        {
            report: lambda p: p.write_text(_markdown(fit, table, params)),
            folder / "fit.csv": lambda p: table.to_csv(p, index_label="target"),
            folder / "history.csv": lambda p: fit.history.to_csv(p, index=False),
        }
    )
    return report


def inside_count(table: pd.DataFrame) -> tuple[int, int]:
    """How many fitted targets of a fit table are inside their band, and how many are fitted."""
    fitted = table[table["fitted"]]
    return int((fitted["inside"] == True).sum()), len(fitted)  # noqa: E712 (object column with NaN)


def write_check(config: Calibration, table: pd.DataFrame, folder: Path) -> Path:
    """Write check.md, check.csv and check.png: the fitted file's values checked against every
    target without a fit (`routesim calibrate --check-only`)."""
    n_in, n_fitted = inside_count(table)
    text = "\n".join(
        [
            f"# Check of the fit: {config.name}",
            "",
            f"`{config.scenario}` with the values `{config.write}` holds now, not refitted: "
            f"{config.check_replicates} runs with the check's seeds (from {config.seed + 1}), "
            "untreated and under each treatment, as a fit's check runs.",
            "",
            f"**{n_in} of {n_fitted} fitted targets are inside their band** (widened by the "
            "tolerance in `accept`).",
            "",
            _target_rows(table),
            "",
            "![check](check.png)",
            "",
        ]
    )
    save(fit_figure(table), folder / "check.png")
    report = folder / "check.md"
    write_atomically(
        {
            report: lambda p: p.write_text(text),
            folder / "check.csv": lambda p: table.to_csv(p, index_label="target"),
        }
    )
    return report


# --- Markdown ----------------------------------------------------------------------------------


def _markdown(fit: Fit, table: pd.DataFrame, params: pd.DataFrame) -> str:
    c = fit.config
    history = fit.history
    fitted = table[table["fitted"]]
    n_in, _ = inside_count(table)
    generations = history["generation"].max()
    size = history.groupby("generation").size().iloc[0]  # candidates per generation
    t = fit.targets
    arms = treatments(t[t["fit"]])
    runs = len(history) * c.replicates * (1 + len(arms))
    lines = [
        f"# Calibration report: {c.name}",
        "",
        c.description,
        "",
        f"- scenario: `{c.scenario}`; fitted values written to `{c.write}`",
        f"- targets: `{c.targets or 'routesim/data/targets.csv (packaged)'}`",
        f"- fitting runs: {', '.join(c.set) or 'the scenario as it is'}; "
        f"{c.replicates} replicate{'s' if c.replicates > 1 else ''} per candidate, with the "
        "same seeds for every candidate",
        f"- differential evolution: an initial population and {generations} "
        f"generation{'s' if generations != 1 else ''} of {size} candidates, {runs} runs; "
        f"best loss {history['loss'].min():.1f} (start {history['loss'].iloc[0]:.1f})",
        *(
            [
                "- treatments (responses: each candidate's runs against their twins under a "
                "treatment, with the same seeds): "
                + "; ".join(f"`{a}` ({_treatment(c.treatments[a])})" for a in arms)
            ]
            if arms
            else []
        ),
        f"- check: the fitted scenario as written (without the fitting runs' settings), "
        f"{c.check_replicates} runs with seeds the fit never used; the table below is the check",
        "",
        f"**{n_in} of {len(fitted)} fitted targets are inside their band** (widened by the "
        "tolerance in `accept`).",
        "",
    ]
    lines += [f"> {note}" for note in fit.notes]
    lines += ["", "## Targets", "", _target_rows(table), "", "![fit](fit.png)", ""]
    missed = fitted[fitted["inside"] != True]  # noqa: E712 (NaN: not produced by the runs)
    if len(missed):
        lines += [
            "## Targets missed, and why",
            "",
            "What it would cost: among the candidates the fit evaluated, the best one that puts "
            "the target inside its band (within its tolerance), and the targets that candidate "
            "misses by more than the fitted one does (deviations in sd, on the fitting runs).",
            "",
        ]
        for tid, r in missed.iterrows():
            why = c.misses.get(str(tid), "no reason given in the calibration file (`misses:`)")
            off = r["deviation (sd)"]
            lines.append(
                f"- `{tid}` ({'not produced by the runs' if pd.isna(off) else f'{off:+.1f} sd'}):"
                f" {why} *Cost:* {tradeoff(fit, str(tid))}"
            )
        lines.append("")
    lines += ["## Parameters", "", _parameter_rows(params), ""]
    lines += [
        f"Near-optimal: the range over the {int(params['candidates'].iloc[0])} evaluated "
        f"candidates whose loss is within the {NEAR:.0%} chi-square quantile ({len(params)} "
        "degrees of freedom) of the best. A wide range means the targets do not pin the "
        "parameter down; a narrow one is a lower bound on the uncertainty, since differential "
        "evolution's candidates bunch up as it converges. The figure shows the loss against "
        "each parameter over every candidate.",
        "",
        "![parameters](parameters.png)",
        "",
        "## Loss over generations",
        "",
        "![loss](loss.png)",
        "",
    ]
    return "\n".join(lines)


def _target_rows(table: pd.DataFrame) -> str:
    rows = [
        "| target | reported | simulated median [90 % of runs] | inside | year | source |",
        "|---|---|---|---|---|---|",
    ]
    for tid, r in table.iterrows():
        if pd.isna(r["simulated median"]):
            sim = "not simulated" if pd.isna(r["deviation (sd)"]) and not r["fitted"] else "-"
            verdict = r["note"] if not r["fitted"] else "**no**: not produced by the runs"
        else:
            sim = (
                f"{_num(r['simulated median'], r['unit'])} "
                f"[{_num(r['5%'], r['unit'])} - {_num(r['95%'], r['unit'])}]"
            )
            verdict = "yes" if r["inside"] is True else f"**no** ({r['deviation (sd)']:+.1f} sd)"
            if not r["fitted"]:
                verdict += f"; not fitted: {r['note']}"
        rows.append(
            f"| {r['what']} (`{tid}`) | {r['reported']} | {sim} | {verdict} | {r['year']} "
            f"| {r['source']} |"
        )
    return "\n".join(rows)


def _treatment(treatment: object) -> str:
    sets = [f"`{item}`" for item in treatment.set]  # type: ignore[attr-defined]
    policies = [
        f"policy `{p.model_dump_json(exclude_none=True, exclude_defaults=True)}`"
        for p in treatment.policies  # type: ignore[attr-defined]
    ]
    return ", ".join(sets + policies)


def _parameter_rows(params: pd.DataFrame) -> str:
    rows = ["| parameter | bounds | start | fitted | near-optimal |", "|---|---|---|---|---|"]
    for name, r in params.iterrows():
        rows.append(
            f"| `{name}` | {r['low']:.4g} - {r['high']:.4g} | {r['start']:.4g} | "
            f"**{r['fitted']:.4g}** | {r['near-optimal from']:.4g} - {r['to']:.4g} |"
        )
    return "\n".join(rows)


def _band(target: object) -> str:
    low, high, unit = target.low, target.high, target.unit  # type: ignore[attr-defined]
    if pd.isna(high):
        return f">= {_num(low, unit)}"
    if unit == "change":  # a change from 0 is not "up to": a fall would be outside
        suffix = f" under `{target.treatment}`"  # type: ignore[attr-defined]
        return (_num(low, unit) if low == high else f"{_num(low, unit)} to {_num(high, unit)}") + (
            suffix
        )
    if low == 0:
        return f"up to {_num(high, unit)}"
    if low == high:
        return _num(low, unit)
    return f"{_num(low, unit)} - {_num(high, unit)}"


def _num(x: float, unit: str) -> str:
    if pd.isna(x):
        return "-"
    if unit == "share":
        return f"{x:.1%}"
    if unit == "ratio":
        return f"{x:.2f}"
    if unit == "change":
        return f"{x:+.0%}"
    return f"{x:,.0f}" + (" EUR" if unit == "EUR" else "")


# --- figures ------------------------------------------------------------------------------------


def fit_figure(table: pd.DataFrame) -> Figure:
    """Each simulated target against its band, as simulated / reported: the band grey, the check
    runs' median a dot (green inside, red outside) and their 90 % interval a line."""
    shown = table[table["simulated median"].notna()].iloc[::-1].copy()
    # a change (treated / untreated - 1) is drawn as its ratio treated / untreated, positive
    change = shown["unit"] == "change"
    for column in ("low", "high", "simulated median", "5%", "95%"):
        shown.loc[change, column] = 1 + shown.loc[change, column]
    with style():
        fig = Figure(figsize=(8, 0.26 * len(shown) + 1.3), layout="constrained")
        ax = fig.add_subplot()
        for i, (_, r) in enumerate(shown.iterrows()):
            ref = r["low"] if r["low"] > 0 else r["high"]  # "up to": the high end
            low = max(r["low"] / ref, LIMITS[0])
            high = r["high"] / ref if pd.notna(r["high"]) else LIMITS[1]
            ax.plot([low, high], [i, i], color="0.8", lw=6, solid_capstyle="butt")
            interval = np.clip([r["5%"] / ref, r["95%"] / ref], *LIMITS)
            ax.plot(interval, [i, i], color="0.3", lw=1.2)
            good = r["inside"] is True
            ax.plot(
                np.clip(r["simulated median"] / ref, *LIMITS),  # off the scale: at its edge
                i,
                marker="o" if good else "X",
                ms=6,
                color=COLORS[2] if good else COLORS[5],
            )
        labels = [f"{t}{'' if f else ' (not fitted)'}" for t, f in shown["fitted"].items()]
        ax.set_yticks(np.arange(len(shown)), labels, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(*LIMITS)
        ax.axvline(1, color="0.5", lw=0.6, ls=":")
        ax.set_xlabel(
            "simulated / reported (the low end of a range; for 'up to', the high end; "
            "responses as treated / untreated); beyond the axis: drawn at its edge",
            fontsize=7,
        )
        ax.set_title("The fitted scenario against the targets")
    return fig


def loss_figure(fit: Fit) -> Figure:
    """Every candidate's loss by generation, and the best so far."""
    h = fit.history
    with style():
        fig = Figure(figsize=(6.5, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.scatter(h["generation"], h["loss"], s=8, color="0.6", label="candidates")
        best = h.groupby("generation")["loss"].min().cummin()
        ax.plot(best.index, best.to_numpy(), color=COLORS[0], lw=2, label="best so far")
        ax.set_yscale("symlog", linthresh=1.0)  # a loss of 0 (all inside) stays on the plot
        ax.set_xlabel("generation (0: the initial population)")
        ax.set_ylabel("loss (sum of squared deviations in sd)")
        ax.legend()
        ax.set_title(f"{fit.config.name}: loss over generations")
    return fig


def parameters_figure(fit: Fit) -> Figure:
    """Loss against each parameter over every candidate: a sharp floor means the targets pin the
    parameter down, a flat one that they do not."""
    names = fit.parameters
    h = fit.history
    with style():
        fig, axes = _panels(len(names), width=3.2, height=2.6)
        for i, (name, ax) in enumerate(zip(names, axes, strict=True)):
            ax.scatter(h[name], h["loss"], s=6, color="0.55")
            ax.axvline(fit.best[name], color=COLORS[0], lw=1.5)
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_xlabel(name, fontsize=7)
            if i % 3 == 0:
                ax.set_ylabel("loss")
        fig.suptitle("Loss against each free parameter (blue: fitted value)")
    return fig
