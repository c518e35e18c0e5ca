"""Calibration targets: what was reported, and how far a run's outcome is from it.

`data/targets.csv` holds one reported figure per row, with its year and source. Its `where`
selects legs of a run's leg table: conditions `column=value|value` joined by `;` must all hold,
and selections joined by ` or ` are pooled. `measure` is what is taken over those legs (people
setting off, arriving, dying or intercepted; the median fee paid; the share smuggled; the share
of smuggled crossings run by structured groups); with `relative_to`, it is divided by the same
measure over other legs. `arrived` measures the arrivals table instead (people arrived in Europe
by route and nationality): its `where` selects by `route` and `nationality`, so that
`route=central;nationality=TUN` over `route=central` is the Tunisians' share of the Central
route's arrivals. A reported range is a band [low, high] (high empty: no upper bound); a
single figure is a band of width 0. `sd` is how far outside its band a result may lie before it
counts as one standard deviation off (relative for people and euros, absolute for shares);
`accept` is the tolerance within which the fit is called good. Rows with `fit = no` are shown
in the report but not fitted (their note says why).

A row with a `treatment` is a response, not a level: the relative change of its measure
(treated / untreated - 1, unit `change`) between a run under that treatment (defined in the
calibration file) and its untreated twin, run with the same seed. With `measure = metric`,
`where` names a run metric (a summary metric) instead of legs.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from routesim.outcomes import ARRIVALS_COLUMNS, RunResult
from routesim.scenario import ScenarioError

COLUMNS = (
    "id",
    "group",
    "what",
    "measure",
    "where",
    "relative_to",
    "low",
    "high",
    "unit",
    "sd",
    "accept",
    "fit",
    "year",
    "source",
    "note",
    "treatment",
)
OPTIONAL = ("treatment",)  # a targets file written before responses existed reads as all levels
MEASURES = (
    "arrivals",
    "departures",
    "deaths",
    "interceptions",
    "fee",
    "smuggled_share",
    "structured_share",
    "arrived",
    "metric",
)
UNITS = ("people", "EUR", "share", "ratio", "change")
ABSOLUTE = ("share", "ratio", "change")  # deviations in absolute terms, not on a log scale
NUMBERS = ("low", "high", "sd", "accept")
SELECTABLE = ("leg_from", "leg_to", "from_country", "to_country", "mode", "route")
ARRIVED_SELECTABLE = ARRIVALS_COLUMNS[:-1]  # route, nationality: for measure `arrived`
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]*")
SMALLEST = 1e-3  # a count or fee below this share of its band's low end counts as this far off


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table (the packaged 2021 targets unless `path` names another CSV), checked:
    a problem is one error naming the file, the row and the column."""
    if path is None:
        path = Path(str(resources.files("routesim") / "data" / "targets.csv"))
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"year": str}, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except (ValueError, pd.errors.ParserError) as err:
        raise ScenarioError(path, "", f"unreadable CSV ({err})") from None
    for column in OPTIONAL:
        if column not in table.columns:
            table[column] = np.nan
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(path, missing[0], f"missing column (columns: {', '.join(COLUMNS)})")
    for column in NUMBERS:
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            value = table[column][bad].iloc[0]
            raise ScenarioError(path, f"row {row}, {column}", f"not a number: {value!r}")
        table[column] = numbers
    for i, row in enumerate(table.itertuples(index=False), start=2):
        _check_row(row, path, f"row {i}")
    twice = table["id"][table["id"].duplicated()]
    if len(twice):
        raise ScenarioError(path, "id", f"{twice.iloc[0]!r} appears twice")
    table["fit"] = table["fit"] == "yes"
    table.attrs["source"] = str(path)
    return table.set_index("id", drop=False)


def _check_row(row: object, path: Path, at: str) -> None:
    def fail(column: str, message: str) -> None:
        raise ScenarioError(path, f"{at}, {column}", message)

    get = row._asdict().get  # type: ignore[attr-defined]
    for column in ("id", "what", "unit", "fit", "year", "source"):
        if pd.isna(get(column)):
            fail(column, "must not be empty")
    if get("fit") not in ("yes", "no"):
        fail("fit", f"must be yes or no, not {get('fit')!r}")
    if get("unit") not in UNITS:
        fail("unit", f"must be one of {', '.join(UNITS)}, not {get('unit')!r}")
    low, high = get("low"), get("high")
    if pd.isna(low):
        fail("low", "give the reported value (or the low end of its range)")
    if not pd.isna(high) and high < low:
        fail("high", f"below low ({high:g} < {low:g})")
    treatment = get("treatment")
    if not pd.isna(treatment) and get("unit") != "change":
        fail(
            "unit",
            f"a response (treatment {treatment!r}) is a relative change: the unit is change, "
            f"not {get('unit')!r}",
        )
    if pd.isna(treatment) and get("unit") == "change":
        fail("treatment", "unit change is a response: name the treatment it responds to")
    if pd.isna(get("measure")):
        if get("fit") == "yes":
            fail("measure", "a fitted target needs a measure (or set fit to no and say why)")
        return
    if get("measure") not in MEASURES:
        fail("measure", f"must be one of {', '.join(MEASURES)}, not {get('measure')!r}")
    for column in ("sd", "accept"):
        value = get(column)
        if pd.isna(value) or value < 0 or (column == "sd" and value == 0):
            fail(column, "must be a number above 0" if column == "sd" else "must be 0 or more")
    if pd.isna(get("where")):
        what = "which run metric" if get("measure") == "metric" else "which legs"
        fail("where", f"say {what} to measure (e.g. leg_to=Malta)")
    if get("measure") == "metric":
        if not METRIC_NAME.fullmatch(str(get("where"))):
            fail("where", f"measure metric: name one run metric, not {get('where')!r}")
        if not pd.isna(get("relative_to")):
            fail("relative_to", "not for measure metric (name one run metric in where)")
        return
    selectable = _selectable(get("measure"))
    for column in ("where", "relative_to"):
        if not pd.isna(get(column)):
            try:
                selection(str(get(column)), selectable)
            except ValueError as err:
                fail(column, str(err))


def _selectable(what: str) -> tuple[str, ...]:
    return ARRIVED_SELECTABLE if what == "arrived" else SELECTABLE


def selection(where: str, selectable: Collection[str] = SELECTABLE) -> list[dict[str, list[str]]]:
    """`where` parsed: a list of selections (pooled), each a mapping column -> allowed values
    (columns among `selectable`)."""
    pooled = []
    for part in where.split(" or "):
        conditions: dict[str, list[str]] = {}
        for condition in part.split(";"):
            column, sep, values = condition.partition("=")
            column = column.strip()
            if not sep or not values.strip():
                raise ValueError(f"expected column=value, got {condition.strip()!r}")
            if column not in selectable:
                raise ValueError(f"cannot select by {column!r} (allowed: {', '.join(selectable)})")
            conditions[column] = [v.strip() for v in values.split("|")]
        pooled.append(conditions)
    return pooled


def check_selections(
    targets: pd.DataFrame, legs: pd.DataFrame, arrivals: pd.DataFrame | None = None
) -> None:
    """Fail in one line if a target selects nothing: no leg of `legs` (a network's legs, as a
    leg table), or for `arrived` no row of `arrivals` (every route and nationality the network
    can produce, as an arrivals table); a misspelt place would otherwise measure nothing."""
    for i, target in enumerate(targets.itertuples(index=False), start=2):
        if target.measure == "metric" or (target.measure == "arrived" and arrivals is None):
            continue
        table = arrivals if target.measure == "arrived" else legs
        for column in ("where", "relative_to"):
            where = getattr(target, column)
            if not pd.isna(where) and select(table, where).empty:
                what = "route and nationality" if table is arrivals else "leg"
                raise ScenarioError(
                    targets.attrs.get("source", "targets"),
                    f"row {i}, {column}",
                    f"{where!r} selects no {what} of the network",
                )


def select(table: pd.DataFrame, where: str) -> pd.DataFrame:
    """The rows of a leg table (or, for `arrived`, an arrivals table) that `where` selects."""
    mask = np.zeros(len(table), dtype=bool)
    for conditions in selection(where, table.columns):
        part = np.ones(len(table), dtype=bool)
        for column, values in conditions.items():
            part &= table[column].isin(values).to_numpy()
        mask |= part
    return table[mask]


def measure(legs: pd.DataFrame, what: str) -> float:
    """One measure over some legs of one run (NaN where it is undefined, e.g. no fee paid), or
    for `arrived` over some rows of its arrivals table."""
    if what == "arrived":  # `legs` is rows of an arrivals table
        return float(legs["arrived"].sum())
    if what == "arrivals":
        return float(legs["crossings"].sum())
    if what in ("departures", "deaths", "interceptions"):
        return float(legs[what].sum())
    smuggled = legs["departures"] * legs["smuggled_share"].fillna(0.0)
    if what == "smuggled_share":
        return _quotient(smuggled.sum(), legs["departures"].sum())
    if what == "structured_share":
        return _quotient((smuggled * legs["structured_share"].fillna(0.0)).sum(), smuggled.sum())
    # fee: the median over people who paid, from each leg's median weighted by its payers
    fees = legs["median_fee_eur"].to_numpy(dtype=float)
    weights = smuggled.to_numpy(dtype=float)
    paid = ~np.isnan(fees) & (weights > 0)
    if not paid.any():
        return float("nan")
    order = np.argsort(fees[paid])
    cumulative = np.cumsum(weights[paid][order])
    return float(fees[paid][order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def check_metrics(targets: pd.DataFrame, known: Collection[str]) -> None:
    """Fail in one line if a target measures a metric that runs do not report."""
    for i, target in enumerate(targets.itertuples(index=False), start=2):
        if target.measure == "metric" and target.where not in known:
            raise ScenarioError(
                targets.attrs.get("source", "targets"),
                f"row {i}, where",
                f"{target.where!r} is not a run metric (metrics: {', '.join(known)})",
            )


def check_treatments(targets: pd.DataFrame, known: Collection[str], where: str) -> None:
    """Fail in one line if a target names a treatment that `where` (a calibration file) does
    not define."""
    for i, target in enumerate(targets.itertuples(index=False), start=2):
        if not pd.isna(target.treatment) and target.treatment not in known:
            defined = ", ".join(known) if known else "none"
            raise ScenarioError(
                targets.attrs.get("source", "targets"),
                f"row {i}, treatment",
                f"{target.treatment!r} is not a treatment of {where} (treatments: {defined})",
            )


def treatments(targets: pd.DataFrame) -> list[str]:
    """The treatments the measured targets respond to, in the order they first appear."""
    named = targets.loc[targets["measure"].notna(), "treatment"].dropna()
    return list(dict.fromkeys(named))


class Run(NamedTuple):
    """One run as the targets measure it: its leg table, its summary metrics and who arrived
    where (its arrivals table; None if it was not kept)."""

    legs: pd.DataFrame
    metrics: Mapping[str, float] | None = None
    arrivals: pd.DataFrame | None = None

    @classmethod
    def of(cls, result: RunResult) -> Run:
        """A run's outputs, as `routesim.run` returns them."""
        return cls(result.legs, result.metrics, result.arrivals)


def measure_run(
    run: Run, targets: pd.DataFrame, treated: Mapping[str, Run] | None = None
) -> pd.Series:
    """Every target's simulated value in one run; a response's from this run and its twin
    under the treatment (`treated`: treatment -> that run, with the same seed), as treated /
    untreated - 1. NaN where undefined or not given (a metric not reported, arrivals not
    kept)."""
    values = {}
    for target in targets.itertuples(index=False):
        value = _level(run, target)
        if not pd.isna(target.treatment):
            twin = (treated or {}).get(target.treatment)
            value = float("nan") if twin is None else change(_level(twin, target), value)
        values[target.id] = value
    return pd.Series(values, dtype=float)


def change(treated: float, untreated: float) -> float:
    """The relative change from `untreated` to `treated` (NaN if either is undefined or the
    untreated value is 0)."""
    return _quotient(treated, untreated) - 1


def _level(run: Run, target: object) -> float:
    what = target.measure  # type: ignore[attr-defined]
    if pd.isna(what):
        return float("nan")
    where = target.where  # type: ignore[attr-defined]
    if what == "metric":
        return float((run.metrics or {}).get(where, float("nan")))
    table = run.arrivals if what == "arrived" else run.legs
    if table is None:
        return float("nan")
    value = measure(select(table, where), what)
    relative_to = target.relative_to  # type: ignore[attr-defined]
    if not pd.isna(relative_to):
        value = _quotient(value, measure(select(table, relative_to), what))
    return value


def deviation(targets: pd.DataFrame, values: pd.Series) -> pd.Series:
    """How far each value lies outside its target's band, in the target's sd: 0 inside, negative
    below, positive above (on a log scale for people and euros, so 0.1 is about 10 %)."""
    low, high = targets["low"], targets["high"].fillna(np.inf)
    absolute = _absolute(targets)
    v = values.reindex(targets.index)
    below_abs, above_abs = (low - v).clip(lower=0), (v - high).clip(lower=0)
    floor = SMALLEST * low.where(low > 0, 1.0)
    safe = v.clip(lower=floor)
    # no upper bound: log(0), clipped to 0; changes (absolute) may be negative: log not used
    with np.errstate(divide="ignore", invalid="ignore"):
        below_rel = np.log(low.where(low > 0, floor) / safe).clip(lower=0)
        above_rel = np.log(safe / high).clip(lower=0)
    below = below_abs.where(absolute, below_rel)
    above = above_abs.where(absolute, above_rel)
    return (above - below) / targets["sd"]


def loss(targets: pd.DataFrame, values: pd.Series) -> float:
    """The sum of squared deviations over the fitted targets. A target the run does not produce
    (no fee paid, no departure) counts as far off as the worst value would: emptying a leg never
    pays."""
    fitted = targets[targets["fit"]]
    absolute = _absolute(fitted)
    worst = (1.0 / fitted["sd"]).where(absolute, np.log(1 / SMALLEST) / fitted["sd"])
    z = deviation(fitted, values).fillna(worst)
    return float((z**2).sum())


def inside(targets: pd.DataFrame, values: pd.Series) -> pd.Series:
    """Whether each value is within its band widened by `accept` (NaN where not simulated)."""
    low, high = targets["low"], targets["high"].fillna(np.inf)
    accept = targets["accept"].fillna(0.0)
    absolute = _absolute(targets)
    lo = (low - accept).where(absolute, low * (1 - accept))
    hi = (high + accept).where(absolute, high * (1 + accept))
    v = values.reindex(targets.index)
    return ((v >= lo) & (v <= hi)).astype(object).where(v.notna())


def _absolute(targets: pd.DataFrame) -> pd.Series:
    """Which targets are shares, ratios or changes, measured in absolute rather than relative
    terms."""
    return targets["unit"].isin(ABSOLUTE)


def _quotient(num: float, den: float) -> float:
    if pd.isna(num) or pd.isna(den) or den <= 0:
        return float("nan")
    return float(num / den)  # undefined, not 0: no legs taken
