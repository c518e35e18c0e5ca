"""Figures for reports, drawn from the tables `load_results`, `load_daily` and `load_legs` return.

Every function takes a DataFrame and returns a matplotlib Figure made without pyplot (no global
state: safe in scripts, notebooks and worker processes). Axes say what is counted and in which
unit (people, not agents; EUR; shares), and each figure is titled with what was run. Colours
are Okabe-Ito (told apart by colour-blind readers) paired with line styles and markers, so
every figure also reads in greyscale. `flows` (the route map) lives in `flowmap`; `save`
writes PNG, SVG or PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from routesim import figures
from routesim.figures import save
from routesim.flowmap import flows
from routesim.outcomes import DESCRIPTIONS, KEY_METRICS, format_value

COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)  # median, 50% and 90% of runs
PAGE_WIDTH = 12.0  # inches: a figure's widest


def distributions(
    results: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    by: str | None = None,
    kind: Literal["box", "violin", "ecdf"] = "box",
    title: str | None = None,
) -> Figure:
    """Each metric's distribution across runs, one panel per metric, grouped by scenario or a
    swept parameter (`by`): a box (25-75 %, whiskers 5-95 %) or violin with every run shown as
    a dot and the median and 90 % interval written above, or empirical CDFs (`kind="ecdf"`)."""
    metrics = _metrics(results, metrics)
    by = figures.grouping(results, by)
    groups = figures.groups(results, by)
    with figures.style():
        fig, axes = _panels(len(metrics), width=max(3.2, 0.9 * len(groups) + 1.2))
        for ax, metric in zip(axes, metrics, strict=False):
            values = [g[metric].dropna().to_numpy(float) for _, g in groups]
            labels = [label for label, _ in groups]
            if kind == "ecdf":
                _ecdf(ax, metric, labels, values, by)
            else:
                _boxes(ax, metric, labels, values, kind)
                ax.set_xlabel(by if by != "scenario" else "")
            ax.set_title(_label(metric))
        how = (
            "empirical CDFs"
            if kind == "ecdf"
            else f"{'box: 25-75%, whiskers' if kind == 'box' else 'violin, line'}: 5-95% of runs; "
            "dots: runs; numbers: median and 5-95%"
        )
        figures.title(
            fig, results, title, f"distribution over runs ({how}){figures.pooled(results, by)}"
        )
    return fig


def response(
    results: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    by: str | None = None,
    title: str | None = None,
) -> Figure:
    """Each metric against a swept parameter (`by`): median with the bands holding 50 % and
    90 % of runs, one panel per metric, a line per scenario if several were run. A continuous
    design (lhs, sobol) is cut into bins of equal counts along the parameter."""
    metrics = _metrics(results, metrics)
    params = results.attrs.get("parameters", [])
    by = by or (params[0] if len(params) == 1 else None)
    if by is None:
        raise figures.error(
            results, "--by", f"name the parameter to plot against ({figures.swept(results)})"
        )
    if by not in params:
        raise figures.error(results, "--by", f"{by!r} was not swept ({figures.swept(results)})")
    x = pd.to_numeric(results[by], errors="coerce")
    if x.isna().any():
        raise figures.error(results, "--by", f"{by} is not numeric: use --kind distributions")
    if figures.continuous(results):
        x = x.groupby(figures.binned(x), observed=True).transform("median")
    frame = results.assign(_x=x)
    lines = figures.groups(frame, "scenario" if frame["scenario"].nunique() > 1 else None)
    with figures.style():
        fig, axes = _panels(len(metrics), width=3.8)
        for ax, metric in zip(axes, metrics, strict=False):
            for i, (label, g) in enumerate(lines):
                q = g.groupby("_x")[metric].quantile(QUANTILES).unstack()
                _bands(ax, q, i, label if len(lines) > 1 else "median", outer=len(lines) == 1)
            _unit_axis(ax, metric)
            ax.set_xlabel(by)
            ax.set_title(_label(metric))
        _band_legend(fig, axes[0], len(lines))
        binned = f" (in {figures.BINS} bins of equal counts)" if figures.continuous(results) else ""
        figures.title(fig, results, title, f"response to {by}{binned}{figures.pooled(results, by)}")
    return fig


def daily(
    series: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    by: str | None = None,
    title: str | None = None,
) -> Figure:
    """Daily series across replicates (counts cumulative from day 0, shares and stocks as of
    each day): median with the band of 50 % of runs (and 90 % when there is one line), a line
    per group (`by`), days on which policies take effect marked."""
    if series.empty and "daily" in series.attrs and not series.attrs["daily"]:
        raise figures.error(series, "", "this sweep kept no daily series: add `daily: [...]`")
    metrics = _metrics(series, metrics, kept=[c for c in series.columns if c in DESCRIPTIONS])
    by = figures.grouping(series, by)
    groups = figures.groups(series, by)
    with figures.style():
        fig, axes = _panels(len(metrics), width=4.2)
        for ax, metric in zip(axes, metrics, strict=False):
            for i, (label, g) in enumerate(groups):
                q = g.groupby("day")[metric].quantile(QUANTILES).unstack()
                _bands(ax, q, i, label if len(groups) > 1 else "median", outer=len(groups) == 1)
            _mark_policies(ax, series)
            _unit_axis(ax, metric)
            ax.set_xlabel("day")
            ax.set_title(_label(metric))
        _band_legend(fig, axes[0], len(groups), by)
        figures.title(
            fig,
            series,
            title,
            f"daily series (counts cumulative from day 0){figures.pooled(series, by)}",
        )
    return fig


def sobol(indices: pd.DataFrame | Sequence[pd.DataFrame], title: str | None = None) -> Figure:
    """First-order (S1) and total (ST) Sobol indices with their confidence intervals, one panel
    per metric, from `routesim.sobol_indices`."""
    tables = [indices] if isinstance(indices, pd.DataFrame) else list(indices)
    with figures.style():
        height = 0.45 * max(len(t) for t in tables) + 1.2
        longest = max(len(str(name)) for t in tables for name in t.index)
        fig, axes = _panels(len(tables), width=2.8 + 0.065 * longest, height=height)
        for ax, table in zip(axes, tables, strict=False):
            table = table.sort_values("ST")
            y = np.arange(len(table))
            for offset, key, color, hatch in (
                (0.2, "ST", COLORS[1], "//"),
                (-0.2, "S1", COLORS[0], ""),
            ):
                ax.barh(
                    y + offset,
                    table[key],
                    height=0.38,
                    xerr=table[f"{key}_conf"],
                    color=color,
                    hatch=hatch,
                    edgecolor="black",
                    linewidth=0.5,
                    error_kw={"elinewidth": 0.8, "capsize": 2},
                    label={"S1": "first order (S1)", "ST": "total (ST)"}[key],
                )
            ax.set_yticks(y, table.index)
            ax.axvline(0, color="black", linewidth=0.6)
            a = table.attrs
            ax.set_title(_label(a.get("metric", "")))
            ax.set_xlabel("share of the metric's variance")
            noise = a.get("noise_share", float("nan"))
            if np.isfinite(noise):
                ax.text(
                    0.98,
                    0.02,
                    f"replicate noise: {noise:.0%}",
                    transform=ax.transAxes,
                    ha="right",
                    va="bottom",
                    fontsize=7,
                    color="0.3",
                )
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="outside lower center", ncols=2)
        a = tables[0].attrs
        conf = a.get("conf_level", 0.95)
        what = (
            f"Sobol indices ({a.get('runs', '?')} runs, {a.get('replicates', '?')} replicates per "
            f"point; bars: {conf:.0%} intervals)"
        )
        fig.suptitle(title or f"{a.get('sweep', '')}: {what}", fontsize=10)
    return fig


# --- shared pieces -----------------------------------------------------------------------------


def _panels(n: int, width: float, height: float = 3.0) -> tuple[Figure, list[Axes]]:
    """A figure of `n` small multiples, at most three a row and about a page wide."""
    width = min(width, PAGE_WIDTH)
    cols = max(1, min(n, 3, int(PAGE_WIDTH // width)))
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows + 0.7), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _metrics(
    frame: pd.DataFrame, metrics: Sequence[str] | None, kept: Sequence[str] | None = None
) -> list[str]:
    """The metrics asked for (default: the headline ones kept), each checked to be there."""
    kept = list(kept if kept is not None else frame.attrs.get("metrics", []))
    if frame.empty:
        raise figures.error(frame, "", "no finished runs to plot (is the sweep done?)")
    if not metrics:
        metrics = [m for m in KEY_METRICS if m in kept][:6] or kept[:6]
    for metric in metrics:
        if metric not in kept:
            raise figures.error(
                frame, "--metric", f"{metric!r} was not kept (kept: {', '.join(kept)})"
            )
    return list(metrics)


def _label(metric: str) -> str:
    return DESCRIPTIONS.get(metric, (metric.replace("_", " "), ""))[0]


def _short(metric: str, x: float) -> str:
    return format_value(metric, x, compact=True)


def _unit(metric: str) -> str:
    return DESCRIPTIONS.get(metric, ("", ""))[1]


def _unit_axis(ax: Axes, metric: str, axis: str = "y") -> None:
    unit = _unit(metric)
    target = ax.yaxis if axis == "y" else ax.xaxis
    if unit.startswith("%"):
        target.set_major_formatter(PercentFormatter(1.0, decimals=None))
    else:
        target.set_major_formatter(FuncFormatter(lambda x, _: format_value(metric, x, True)))
    target.set_label_text(unit)


# --- distributions -----------------------------------------------------------------------------


def _boxes(ax: Axes, metric: str, labels: list[str], values: list[np.ndarray], kind: str) -> None:
    pos = np.arange(len(values))
    if kind == "violin":
        shown = [v if len(v) else np.array([np.nan]) for v in values]
        parts = ax.violinplot(shown, positions=pos, widths=0.7, showextrema=False)
        for body in parts["bodies"]:
            body.set(facecolor=COLORS[4], edgecolor="black", linewidth=0.6, alpha=0.5)
    elif kind == "box":
        stats = [
            dict(
                zip(("whislo", "q1", "med", "q3", "whishi"), np.quantile(v, QUANTILES), strict=True)
            )
            for v in values
            if len(v)
        ]
        ax.bxp(
            stats,
            positions=[i for i, v in enumerate(values) if len(v)],
            widths=0.55,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#cfe3f1", "edgecolor": "black", "linewidth": 0.7},
            medianprops={"color": "black", "linewidth": 1.8},
            whiskerprops={"linewidth": 0.7},
            capprops={"linewidth": 0.7},
        )
    else:
        raise ValueError(f"kind must be box, violin or ecdf, not {kind!r}")
    jitter = np.random.default_rng(0)  # fixed: the same figure every time
    top = max((np.max(v) for v in values if len(v)), default=1.0)
    bottom = min((np.min(v) for v in values if len(v)), default=0.0)
    span = top - bottom or abs(top) or 1.0
    for i, v in enumerate(values):
        if not len(v):
            continue
        x = i + jitter.uniform(-0.16, 0.16, len(v))
        ax.scatter(x, v, s=9, color="black", alpha=0.45, linewidths=0, zorder=3)
        lo, median, hi = np.quantile(v, [0.05, 0.5, 0.95])
        if kind == "violin":
            ax.vlines(i, lo, hi, color="black", linewidth=1.2, zorder=4)
            ax.scatter([i], [median], s=28, color="white", edgecolors="black", zorder=5)
        ax.text(
            i,
            top + 0.04 * span,
            f"{_short(metric, median)}\n{_short(metric, lo)}–{_short(metric, hi)}",
            ha="center",
            va="bottom",
            fontsize=6.5,
            linespacing=1.1,
        )
    ax.set_ylim(top=top + 0.22 * span)
    ax.set_xticks(
        pos,
        labels,
        rotation=30 if max(map(len, labels)) > 8 else 0,
        ha="right" if max(map(len, labels)) > 8 else "center",
    )
    _unit_axis(ax, metric)
    ax.grid(axis="x", visible=False)


def _ecdf(
    ax: Axes, metric: str, labels: list[str], values: list[np.ndarray], by: str | None
) -> None:
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        if not len(v):
            continue
        style = {"color": COLORS[i % len(COLORS)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
        median = float(np.median(v))
        ax.ecdf(v, label=f"{label} (median {_short(metric, median)})", linewidth=1.4, **style)
        ax.plot([median], [0.5], marker=MARKERS[i % len(MARKERS)], color=style["color"], ms=5)
    ax.axhline(0.5, color="0.6", linewidth=0.6, linestyle=":")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of runs at or below")
    _unit_axis(ax, metric, axis="x")
    title = by if by != "scenario" else None
    ax.legend(loc="best", fontsize=6.5, title=title, title_fontsize=6.5, frameon=False)


# --- bands (response curves, daily series) -----------------------------------------------------


def _bands(ax: Axes, q: pd.DataFrame, i: int, label: str, outer: bool = True) -> None:
    """Median line with the 50 % band (and the 90 % band if `outer`) of the runs at each x."""
    color = COLORS[i % len(COLORS)]
    x = q.index.to_numpy(float)
    if outer:
        ax.fill_between(x, q[0.05], q[0.95], color=color, alpha=0.15, linewidth=0)
    ax.fill_between(x, q[0.25], q[0.75], color=color, alpha=0.35, linewidth=0)
    marker = MARKERS[i % len(MARKERS)] if len(x) <= 2 * figures.BINS else None
    ax.plot(
        x,
        q[0.5],
        color=color,
        linestyle=LINESTYLES[i % len(LINESTYLES)],
        marker=marker,
        ms=4,
        linewidth=1.5,
        label=label,
    )


def _band_legend(fig: Figure, ax: Axes, lines: int, title: str | None = None) -> None:
    """One legend below the panels: the lines (titled by what they are), then the bands."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    grey = "0.45"
    if lines == 1:
        handles += [Patch(color=grey, alpha=0.35), Patch(color=grey, alpha=0.15)]
        labels += ["50% of runs", "90% of runs"]
    else:
        handles += [Patch(color=grey, alpha=0.35)]
        labels += ["50% of runs"]
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(labels), 4),
        title=title if lines > 1 and title != "scenario" else None,
        title_fontsize=8,
    )


def _mark_policies(ax: Axes, series: pd.DataFrame) -> None:
    """A dashed line on each day a policy takes effect, numbered by its day at the top and
    named in the legend (with its scenario when the runs shown come from several)."""
    shown = list(dict.fromkeys(series["scenario"]))
    marks: dict[int, list[str]] = {}
    for scenario, days in series.attrs.get("policy_days", {}).items():
        if scenario not in shown:
            continue
        for day, label in days:
            named = f"{scenario}: {label}" if len(shown) > 1 else str(label)
            marks.setdefault(int(day), []).append(named)
    halo = [patheffects.withStroke(linewidth=2, foreground="white")]
    for day, labels in sorted(marks.items()):
        ax.axvline(
            day,
            color="0.3",
            linewidth=0.8,
            linestyle=(0, (4, 2)),
            label=f"from day {day}: {'; '.join(labels)}",
        )
        ax.text(
            day,
            0.98,
            f" {day}",
            transform=ax.get_xaxis_transform(),
            va="top",
            ha="left",
            fontsize=6.5,
            color="0.3",
            path_effects=halo,
        )


__all__ = ["KEY_METRICS", "daily", "distributions", "flows", "response", "save", "sobol"]
