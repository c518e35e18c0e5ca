"""Sensitivity analysis: which parameters drive a metric, from a finished `sobol` sweep (SALib).

Replicates of a design point are averaged first: the indices then describe the expected outcome.
How much of a metric's variance is noise between replicates is reported beside them, because
indices of a noisy metric need more replicates (or samples) before they can be trusted.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from routesim.scenario import ScenarioError
from routesim.store import ResultStore


def sobol_indices(folder: str | Path, metric: str, conf_level: float = 0.95) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of `metric`, one row per parameter, with
    confidence intervals (`*_conf`, half-widths at `conf_level`, by bootstrap).

    `df.attrs["noise_share"]` is the share of the metric's run-to-run variance that lies
    between replicates of the same design point.
    """
    with closing(ResultStore.open(folder)) as store:
        exp, results, counts = store.experiment, store.results(), store.counts()
        n_points = store.n_points()
    kind = exp.design.kind if exp.design else "none"
    if kind != "sobol":
        raise ScenarioError(folder, "design.kind", f"Sobol indices need a sobol design, not {kind}")
    if metric not in exp.metrics:
        raise ScenarioError(
            folder, "--metric", f"{metric!r} was not kept (kept: {', '.join(exp.metrics)})"
        )
    means = results.groupby("point")[metric].mean().reindex(range(n_points))
    if means.isna().any():
        raise ScenarioError(
            folder,
            "",
            f"{int(means.isna().sum())} of {n_points} design points have no finished run "
            f"({counts['pending']} pending, {counts['failed']} failed): resume the sweep first",
        )
    if np.ptp(means.to_numpy()) == 0:
        raise ScenarioError(folder, "--metric", f"{metric} is the same at every design point")
    from SALib.analyze import sobol  # imported when used: it loads scipy.stats (0.4 s)

    found = sobol.analyze(
        exp.problem(),
        means.to_numpy(),
        calc_second_order=False,
        conf_level=conf_level,
        seed=exp.seed,
    )
    table = pd.DataFrame(
        {key: found[key] for key in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(list(exp.design.parameters), name="parameter"),
    )
    # law of total variance (equal replicates per point): total = mean within + between
    within = results.groupby("point")[metric].var(ddof=0).mean()
    total = results[metric].var(ddof=0)
    table.attrs = {
        "metric": metric,
        "sweep": exp.name,
        "runs": len(results),
        "replicates": exp.replicates,
        "conf_level": conf_level,
        "noise_share": float(within / total) if exp.replicates > 1 and total > 0 else float("nan"),
    }
    return table
