"""Outcomes: the metrics of DESIGN §5, kept as running counters so reporting never scans agents.

Every count is in people (agents x scale). Counters are cumulative from day 0 of the run; people
still on their way when the warm-up ends are counted as `departed` on day 0. A person departs
when it sets off on its first leg; until then it waits at its origin and is in no flow metric.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from routesim.scenario import ScenarioError

# States a person can be in: the first six are "in transit", the last three are final.
WAITING, TRAVELLING, WORKING, DETAINED, KIDNAPPED, EXPLOITED = (
    "waiting",
    "travelling",
    "working",
    "detained",
    "kidnapped",
    "exploited",
)
ARRIVED, DEAD, RETURNED = "arrived", "dead", "returned_home"
IN_TRANSIT = (WAITING, TRAVELLING, WORKING, DETAINED, KIDNAPPED, EXPLOITED)
STATES = (*IN_TRANSIT, ARRIVED, DEAD, RETURNED)

METRICS = (
    "departed",
    "arrived",
    "arrived_central",
    "arrived_western",
    "arrived_atlantic",
    "dead",
    "dead_sea",
    "dead_desert",
    "intercepted",
    "detained",
    "kidnapped",
    "trafficked",
    "returned_home",
    "in_transit",
    "smuggler_use_share",
    "mean_fee_paid_eur",
    "smuggler_revenue_eur",
    "armed_group_revenue_eur",
    "bribes_eur",
    "ransom_eur",
    "sea_death_rate",
    "mean_journey_days",
    "structured_group_share",
)
EXTRA_METRICS = (
    "arrived_legal",
    "waiting_at_origin",
    "stayed_home",
    "smuggled_crossings",
    "self_organised_crossings",
    "smugglers_active",
    "smugglers_arrested",
    "tramadol_revenue_eur",
    "extortion_eur",
    "right_of_way_eur",
    "smugglers_raising_fees_share",
)
# What a comparison shows unless told otherwise: flows, deaths, risk, enforcement, dependence on
# smugglers and who profits.
KEY_METRICS = (
    "arrived",
    "dead",
    "sea_death_rate",
    "intercepted",
    "smuggler_use_share",
    "mean_fee_paid_eur",
    "smuggler_revenue_eur",
    "kidnapped",
)

# What each metric means, and its unit, for tables and figure axes (counts are people; a unit
# starting with % is a share).
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "departed": ("people who left home", "people"),
    "arrived": ("arrived in Europe", "people"),
    "arrived_central": ("arrived by the Central Mediterranean", "people"),
    "arrived_western": ("arrived by the Western Mediterranean", "people"),
    "arrived_atlantic": ("arrived by the Atlantic (Canary Islands)", "people"),
    "dead": ("dead and missing", "people"),
    "dead_sea": ("dead and missing at sea", "people"),
    "dead_desert": ("dead and missing in the desert", "people"),
    "intercepted": ("interceptions", "people"),
    "detained": ("detained", "people"),
    "kidnapped": ("kidnapped for ransom", "people"),
    "trafficked": ("trafficked or exploited", "people"),
    "returned_home": ("gave up and went home", "people"),
    "in_transit": ("still on their way", "people"),
    "smuggler_use_share": ("travellers who used a smuggler", "% of people who left home"),
    "mean_fee_paid_eur": ("mean smuggling fee per leg", "EUR"),
    "smuggler_revenue_eur": ("smugglers' revenue", "EUR"),
    "armed_group_revenue_eur": ("armed groups' revenue", "EUR"),
    "bribes_eur": ("bribes paid", "EUR"),
    "ransom_eur": ("ransom paid", "EUR"),
    "sea_death_rate": ("deaths per sea departure", "% of people setting off by sea"),
    "mean_journey_days": ("mean journey to Europe", "days"),
    "structured_group_share": (
        "smuggled crossings by structured groups",
        "% of smuggled crossings",
    ),
    "arrived_legal": ("arrived on a legal pathway", "people"),
    "waiting_at_origin": ("waiting to leave home", "people"),
    "stayed_home": ("gave up before leaving home", "people"),
    "smuggled_crossings": ("smuggled leg crossings", "people"),
    "self_organised_crossings": ("self-organised leg crossings", "people"),
    "smugglers_active": ("smugglers active at the end", "smugglers"),
    "smugglers_arrested": ("smugglers arrested", "smugglers"),
    "tramadol_revenue_eur": ("smugglers' tramadol revenue", "EUR"),
    "extortion_eur": ("extortion of detainees", "EUR"),
    "right_of_way_eur": ("right-of-way paid to armed groups", "EUR"),
    "smugglers_raising_fees_share": (
        "smugglers whose fee rose over the year's second half",
        "% of smugglers active at mid-year and at the end",
    ),
}


def format_value(metric: str, x: float, compact: bool = False) -> str:
    """A metric's value as a reader wants it: shares in %, counts and euros whole with thousands
    separators (`compact`: millions as 12.3M), small values to two digits."""
    unit = DESCRIPTIONS.get(metric, ("", ""))[1]
    if unit.startswith("%"):
        return f"{x:.2%}" if abs(x) < 0.1 else f"{x:.1%}"
    if compact and abs(x) >= 1e6:
        return f"{x / 1e6:.3g}M"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}"


# What and where each end of a leg is, so that a leg table maps on its own (in any GIS, or
# `routesim plot --kind flows`).
PLACE_COLUMNS = ("from_kind", "to_kind", "from_lon", "from_lat", "to_lon", "to_lat")
LEG_COLUMNS = (
    "leg_from",
    "leg_to",
    "from_country",
    "to_country",
    "mode",
    "route",
    "departures",
    "crossings",
    "smuggled_share",
    "mean_fee_eur",
    "median_fee_eur",
    "deaths",
    "interceptions",
    # Beyond DESIGN §5, shares of smuggled departures: by structured groups; on a risky tactic
    # (an overloaded boat or a remote desert track).
    "structured_share",
    "risky_tactic_share",
    # Each departure's chance of dying on the leg, as the boats or tracks taken and the day's
    # conditions set it: `deaths` is one draw of it, lumpy because a boat in distress loses
    # many at once; this is its expectation, for comparing how deadly a leg became.
    "death_risk",
    *PLACE_COLUMNS,
)
ARRIVALS_COLUMNS = ("route", "nationality", "arrived")


def arrivals_frame(rows: Iterable[tuple[str, str, float]] = ()) -> pd.DataFrame:
    """An arrivals table (route, nationality, people arrived) of `rows`; empty, nobody arrived."""
    return pd.DataFrame(list(rows), columns=list(ARRIVALS_COLUMNS)).astype({"arrived": float})


ARMED_GROUP_KINDS = ("right_of_way", "ransom", "extortion")  # right-of-way buys protection


class Outcomes:
    """Running counters for one run, updated by the agents as things happen."""

    def __init__(self, legs: pd.DataFrame, scale: int) -> None:
        self.scale = scale
        self._legs = legs
        n = len(legs)
        self.in_state: dict[str, float] = dict.fromkeys(STATES, 0.0)
        self.at_origin = 0.0  # people created who have not left home yet (in a waiting state)
        self.count: dict[str, float] = defaultdict(float)
        self.leg_departures = np.zeros(n)
        self.leg_smuggled = np.zeros(n)
        self.leg_structured = np.zeros(n)
        self.leg_risky = np.zeros(n)
        self.leg_crossings = np.zeros(n)
        self.leg_deaths = np.zeros(n)
        self.leg_expected_deaths = np.zeros(n)
        self.leg_interceptions = np.zeros(n)
        self.leg_fees: list[list[float]] = [[] for _ in range(n)]  # one fee per agent booking
        # people arrived in Europe, by (route, nationality): who arrives where
        self.arrivals: dict[tuple[str, str], float] = defaultdict(float)
        self.smugglers_active = 0

    # --- recording (called by agents) ----------------------------------------------------------

    def move(self, old: str | None, new: str) -> None:
        """One agent (scale people) changes state."""
        if old is not None:
            self.in_state[old] -= self.scale
        self.in_state[new] += self.scale

    def add(self, name: str, people: float = 1.0) -> None:
        self.count[name] += people * self.scale

    def arrival(self, route: str, nationality: str) -> None:
        """One agent arrives in Europe by sea or land on `route`."""
        self.count["arrived_" + route] += self.scale
        self.arrivals[route, nationality] += self.scale

    def spawned(self, agents: int) -> None:
        self.at_origin += agents * self.scale

    def left_home(self) -> None:
        """One agent sets off on its first leg (or flight): from now on it has departed."""
        self.at_origin -= self.scale
        self.count["departed"] += self.scale

    def stayed_home(self) -> None:
        """One agent gives up before ever leaving its origin."""
        self.at_origin -= self.scale
        self.count["stayed_home"] += self.scale

    def departure(
        self, leg: int, smuggled: bool, fee: float, structured: bool, risky: bool
    ) -> None:
        """One agent sets off on a leg (`risky`: overloaded boat or remote desert track)."""
        self.leg_departures[leg] += self.scale
        if smuggled:
            self.leg_smuggled[leg] += self.scale
            if risky:
                self.leg_risky[leg] += self.scale
            self.leg_fees[leg].append(fee)
            self.count["smuggled_crossings"] += self.scale
            self.count["fees_paid_eur"] += fee * self.scale
            if structured:
                self.count["structured_crossings"] += self.scale
                self.leg_structured[leg] += self.scale
        else:
            self.count["self_organised_crossings"] += self.scale

    def reset(self) -> None:
        """Start counting the run proper: those on their way now count as departed on day 0."""
        self.count.clear()
        self.count["departed"] = sum(self.in_state[s] for s in IN_TRANSIT) - self.at_origin
        for arr in (
            self.leg_departures,
            self.leg_smuggled,
            self.leg_structured,
            self.leg_risky,
            self.leg_crossings,
            self.leg_deaths,
            self.leg_expected_deaths,
            self.leg_interceptions,
        ):
            arr[:] = 0.0
        self.leg_fees = [[] for _ in range(len(self._legs))]
        self.arrivals.clear()

    # --- reporting --------------------------------------------------------------------------------

    def metrics(self, flows: dict[str, float]) -> dict[str, float]:
        c = self.count
        smuggled = c["smuggled_crossings"]
        out = {
            "departed": c["departed"],
            "arrived": c["arrived"],
            "arrived_central": c["arrived_central"],
            "arrived_western": c["arrived_western"],
            "arrived_atlantic": c["arrived_atlantic"],
            "dead": c["dead"],
            "dead_sea": c["dead_sea"],
            "dead_desert": c["dead_desert"],
            "intercepted": c["intercepted"],
            "detained": c["detained"],
            "kidnapped": c["kidnapped"],
            "trafficked": c["trafficked"],
            "returned_home": c["returned_home"],
            "in_transit": sum(self.in_state[s] for s in IN_TRANSIT) - self.at_origin,
            "smuggler_use_share": _ratio(c["ever_smuggled"], c["departed"]),
            "mean_fee_paid_eur": _ratio(c["fees_paid_eur"], smuggled),
            "smuggler_revenue_eur": flows.get("fee", 0.0) + flows.get("debt_repayment", 0.0),
            "armed_group_revenue_eur": sum(flows.get(k, 0.0) for k in ARMED_GROUP_KINDS),
            "bribes_eur": flows.get("bribe", 0.0),
            "ransom_eur": flows.get("ransom", 0.0),
            "sea_death_rate": _ratio(c["dead_sea"], c["sea_departures"]),
            "mean_journey_days": _ratio(c["journey_days"], c["arrived"]),
            "structured_group_share": _ratio(c["structured_crossings"], smuggled),
            "arrived_legal": c["arrived_legal"],
            "waiting_at_origin": self.at_origin,
            "stayed_home": c["stayed_home"],
            "smuggled_crossings": smuggled,
            "self_organised_crossings": c["self_organised_crossings"],
            "smugglers_active": float(self.smugglers_active),
            "smugglers_arrested": c["smugglers_arrested"],
            "tramadol_revenue_eur": flows.get("tramadol", 0.0),
            "extortion_eur": flows.get("extortion", 0.0),
            "right_of_way_eur": flows.get("right_of_way", 0.0),
        }
        return out

    def arrivals_table(self) -> pd.DataFrame:
        """Arrivals by route and nationality (people; irregular routes only, not legal pathways),
        one row per pair that saw any, largest first within each route."""
        table = arrivals_frame((route, nat, n) for (route, nat), n in self.arrivals.items())
        return table.sort_values(
            ["route", "arrived", "nationality"], ascending=[True, False, True], ignore_index=True
        )

    def legs_table(self) -> pd.DataFrame:
        legs = self._legs
        fees = self.leg_fees
        # Trips end (dead, intercepted or across) after they begin: the same people as
        # `departures` but for those still at sea or on the track when counting began or ended.
        resolved = self.leg_deaths + self.leg_interceptions + self.leg_crossings
        return pd.DataFrame(
            {
                "leg_from": legs["from"].to_numpy(),
                "leg_to": legs["to"].to_numpy(),
                "from_country": legs["from_country"].to_numpy(),
                "to_country": legs["to_country"].to_numpy(),
                "mode": legs["mode"].to_numpy(),
                "route": legs["route"].to_numpy(),
                "departures": self.leg_departures,
                "crossings": self.leg_crossings,
                "smuggled_share": _share(self.leg_smuggled, self.leg_departures),
                "mean_fee_eur": [float(np.mean(f)) if f else np.nan for f in fees],
                "median_fee_eur": [float(np.median(f)) if f else np.nan for f in fees],
                "deaths": self.leg_deaths,
                "interceptions": self.leg_interceptions,
                "structured_share": _share(self.leg_structured, self.leg_smuggled),
                "risky_tactic_share": _share(self.leg_risky, self.leg_smuggled),
                "death_risk": _share(self.leg_expected_deaths, resolved),
                **{c: legs[c].to_numpy() for c in PLACE_COLUMNS},
            }
        )


def check_output_folder(folder: Path) -> None:
    """Fail before a run, not after it, if results could not be written to `folder`."""
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("--out", str(folder), "exists and is not a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ScenarioError("--out", str(folder), f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ScenarioError("--out", str(folder), f"no permission to write in {existing}")


def write_atomically(files: Mapping[Path, Callable[[Path], object]]) -> None:
    """Write each file through its writer into a temporary file beside it, and move them all in
    only when every one is complete: an error or an interruption never leaves half a result."""
    paths = [Path(p).resolve() for p in files]
    for path in paths:
        check_output_folder(path.parent)
        if path.is_dir():
            raise ScenarioError(path, "", "is a folder; give a file name")
        path.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for path, write in zip(paths, files.values(), strict=True):
            handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(handle)
            written.append(Path(tmp_name))
            write(written[-1])
        for tmp, path in zip(written, paths, strict=True):
            tmp.chmod(0o644)
            os.replace(tmp, path)
    finally:
        for tmp in written:
            tmp.unlink(missing_ok=True)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    return np.divide(part, whole, out=np.full(len(whole), np.nan), where=whole > 0)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


class RunResult:
    """What one run produced: `.summary` (dict), `.daily`, `.legs` and `.arrivals` (DataFrames:
    arrivals by route and nationality)."""

    def __init__(
        self,
        summary: dict,
        daily: pd.DataFrame,
        legs: pd.DataFrame,
        arrivals: pd.DataFrame | None = None,
    ) -> None:
        self.summary, self.daily, self.legs = summary, daily, legs
        self.arrivals = arrivals_frame() if arrivals is None else arrivals

    @property
    def metrics(self) -> dict[str, float]:
        return self.summary["metrics"]

    def save(self, folder: str | Path) -> Path:
        """Write summary.json, daily.csv, legs.csv and arrivals.csv into `folder` (other files
        there are left alone), all four or none."""
        folder = Path(folder).resolve()
        write_atomically(
            {
                folder / "summary.json": self._write_summary,
                folder / "daily.csv": partial(self.daily.to_csv, index=False),
                folder / "legs.csv": partial(self.legs.to_csv, index=False),
                folder / "arrivals.csv": partial(self.arrivals.to_csv, index=False),
            }
        )
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> RunResult:
        """Read back what `save` wrote (a `routesim run` output folder)."""
        folder = Path(folder)
        try:
            summary = json.loads((folder / "summary.json").read_text())
            daily = pd.read_csv(folder / "daily.csv")
            legs = pd.read_csv(folder / "legs.csv")
            arrivals_file = folder / "arrivals.csv"  # not written by earlier versions
            arrivals = pd.read_csv(arrivals_file) if arrivals_file.exists() else None
        except FileNotFoundError as err:
            raise ScenarioError(
                folder, "", f"not a run's output: {Path(err.filename).name} is missing"
            ) from None
        except (ValueError, pd.errors.ParserError) as err:
            raise ScenarioError(folder, "", f"unreadable run output: {err}") from None
        needed = ("scenario", "seed", "routesim_version", "metrics")
        missing = [k for k in needed if not isinstance(summary, dict) or k not in summary]
        if missing:
            raise ScenarioError(folder / "summary.json", missing[0], "missing: not a run summary")
        return cls(summary, daily, legs, arrivals)

    def _write_summary(self, path: Path) -> None:
        path.write_text(json.dumps(self.summary, indent=2) + "\n")

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"RunResult({self.summary['scenario']!r}, seed={self.summary['seed']}, "
            f"arrived={m['arrived']:.0f}, dead={m['dead']:.0f})"
        )
