"""What every routesim figure shares: its style, how runs are grouped, a title that says what was
run, and saving (PNG, SVG or PDF, whole or not at all, the same bytes for the same results)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from routesim.outcomes import write_atomically
from routesim.scenario import ScenarioError

FORMATS = (".png", ".svg", ".pdf")
BINS = 10  # a parameter drawn from a range (lhs, sobol) is cut into this many bins


def save(fig: Figure, path: str | Path, dpi: int = 200) -> Path:
    """Write `fig` to `path` (.png, .svg or .pdf), whole or not at all."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ScenarioError(
            path, "--out", f"unknown figure format {path.suffix!r} (allowed: {', '.join(FORMATS)})"
        )
    fmt = path.suffix.lower()[1:]
    with style():  # the SVG salt must be set when writing
        write_atomically({path: partial(fig.savefig, format=fmt, dpi=dpi, metadata=_metadata(fmt))})
    return path


def style() -> AbstractContextManager[Any]:
    return mpl.rc_context(
        {
            "font.size": 9,
            "axes.titlesize": 9,
            "axes.labelsize": 8.5,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.color": "0.9",
            "grid.linewidth": 0.6,
            "svg.fonttype": "none",  # text stays text in SVG: editable, searchable
            "svg.hashsalt": "routesim",  # the same figure gives the same SVG bytes
        }
    )


def _metadata(fmt: str) -> dict[str, Any] | None:
    """No creation date in SVG and PDF files, so the same results give the same bytes."""
    return {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)


def error(frame: pd.DataFrame, key: str, message: str) -> ScenarioError:
    return ScenarioError(frame.attrs.get("folder", "results"), key, message)


def swept(frame: pd.DataFrame) -> str:
    params = frame.attrs.get("parameters", [])
    return f"swept: {', '.join(params)}" if params else "nothing was swept"


def grouping(frame: pd.DataFrame, by: str | None) -> str | None:
    """The column to group runs by: as asked, else the scenarios if several, else the one
    swept parameter, else none (all runs together)."""
    params = frame.attrs.get("parameters", [])
    several = frame["scenario"].nunique() > 1
    if by is None:
        return "scenario" if several else params[0] if len(params) == 1 else None
    if by != "scenario" and by not in params:
        raise error(frame, "--by", f"{by!r} was not swept ({swept(frame)}; or scenario)")
    return by


def continuous(frame: pd.DataFrame) -> bool:
    """Whether the design drew parameter values from ranges (lhs, sobol) rather than a list."""
    return frame.attrs.get("design") in ("lhs", "sobol")


def binned(values: pd.Series) -> pd.Series:
    """Which of BINS bins of equal counts each value falls in."""
    return pd.qcut(values, BINS, duplicates="drop")


def groups(frame: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    """The runs in groups of `by`'s value, in order (scenarios as listed); a parameter drawn
    from a range is cut into BINS bins of equal counts."""
    if by is None:
        return [(frame["scenario"].iloc[0], frame)]
    if by != "scenario" and continuous(frame):
        bins = binned(frame[by])
        return [
            (f"{b.left:.3g}-{b.right:.3g}", frame[bins == b])
            for b in bins.cat.categories
            if (bins == b).any()
        ]
    order = frame.attrs.get("scenarios") if by == "scenario" else None
    keys = order if order else sorted(frame[by].unique())
    return [(_value(k), frame[frame[by] == k]) for k in keys if (frame[by] == k).any()]


def pooled(frame: pd.DataFrame, by: str | None) -> str:
    """What varies across the runs grouped together, other than `by` (said in the title)."""
    others = [p for p in frame.attrs.get("parameters", []) if p != by and frame[p].nunique() > 1]
    if by != "scenario" and frame["scenario"].nunique() > 1:
        others.insert(0, f"scenarios ({', '.join(frame['scenario'].unique())})")
    return f"; pooled over {', '.join(others)}" if others else ""


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def title(fig: Figure, frame: pd.DataFrame, text: str | None, what: str) -> None:
    """Title: what was run (sweep, runs, replicates, routesim version), then what is shown."""
    a = frame.attrs
    runs = frame["run_id"].nunique()
    per_point = frame.groupby("point")["run_id"].nunique()
    if runs == 1:
        ran = f"1 run (seed {frame['seed'].iloc[0]})"
    else:
        reps = f"{per_point.min()}" if per_point.min() == per_point.max() else "unequal"
        points = "1 design point" if per_point.size == 1 else f"{per_point.size} design points"
        ran = f"{runs} runs ({points} x {reps} replicates)"
    version = a.get("routesim_version", "?")
    fig.suptitle(text or f"{a.get('sweep', '')}: {ran}, routesim {version}\n{what}", fontsize=10)
