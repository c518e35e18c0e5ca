"""The route network: locations and legs from human-editable CSVs, and path costs over them.

The CSVs in `routesim/data/` cite a source on every row; a scenario may point at a folder with the
user's own copies (`network: {data_dir: ...}`). The network itself never changes during a run: what
policies change (enforcement, rescue, armed control, visas) lives in the model's leg conditions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from routesim.scenario import ScenarioError, Where

MODES = ("road", "desert", "sea", "air")
ROUTES = ("central", "western", "atlantic", "none")
KINDS = ("origin", "hub", "gold_mine", "coast", "destination")

COLUMNS: dict[str, dict[str, type]] = {  # str columns are text, the rest numbers
    "locations.csv": {
        "name": str,
        "country": str,
        "lat": float,
        "lon": float,
        "kind": str,
        "state_control": float,
        "wage_eur_day": float,
        "source": str,
    },
    "legs.csv": {
        "from": str,
        "to": str,
        "mode": str,
        "route": str,
        "days": float,
        "distance_km": float,
        "ecowas": float,
        "base_hazard": float,
        "smuggler_needed": float,
        "smuggler_cost_eur": float,
        "self_cost_eur": float,
        "fee_low_eur": float,
        "fee_high_eur": float,
        "enforcement": float,
        "search_and_rescue": float,
        "source": str,
    },
    "origins.csv": {
        "location": str,
        "people_per_year": float,
        "cash_median_eur": float,
        "female_share": float,
        "minor_share": float,
        "source": str,
    },
    "countries.csv": {
        "iso3": str,
        "name": str,
        "corruption": float,
        "detention_days": float,
        "visa_free_for": str,
        "share_structured": float,
        "share_small_network": float,
        "source": str,
    },
    "armed_groups.csv": {
        "group": str,
        "leg_from": str,
        "leg_to": str,
        "control": float,
        "right_of_way_eur": float,
        "source": str,
    },
    "interceptions.csv": {
        "country": str,
        "mode": str,
        "sent_to": str,
        "share": float,
        "detention_days": float,
        "source": str,
    },
}
SIGNED = {"lat", "lon"}
OPTIONAL_BLANK = {"fee_low_eur", "fee_high_eur", "visa_free_for", "detention_days"}
SHARES = {
    "state_control",
    "base_hazard",
    "smuggler_needed",
    "enforcement",
    "search_and_rescue",
    "female_share",
    "minor_share",
    "corruption",
    "control",
    "share_structured",
    "share_small_network",
    "share",
}


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class NetworkError(ScenarioError):
    """A problem in a network CSV, naming the file, the row or column, and what is allowed."""


def _read_csv(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise NetworkError(path, "", "file not found") from None
    except pd.errors.EmptyDataError:
        raise NetworkError(path, "", "empty file (a header row is required)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise NetworkError(path, "", f"malformed CSV ({str(err).splitlines()[0]})") from None
    df.columns = [c.strip() for c in df.columns]
    spec = COLUMNS[name]
    missing = [c for c in spec if c not in df.columns]
    if missing:
        raise NetworkError(path, missing[0], f"missing column (required: {', '.join(spec)})")
    for col, kind in spec.items():
        if kind is str:
            df[col] = df[col].str.strip()
            continue
        raw = df[col].str.strip()
        blank = raw == ""
        if blank.any() and col not in OPTIONAL_BLANK:
            row = int(np.flatnonzero(blank)[0]) + 2
            raise NetworkError(path, f"row {row}, {col}", "value missing")
        values = pd.to_numeric(raw.where(~blank), errors="coerce")
        bad = values.isna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 2
            raise NetworkError(path, f"row {row}, {col}", f"not a number: {raw[bad].iloc[0]!r}")
        low_ok = (values >= 0) | blank | (col in SIGNED)
        high_ok = (values <= 1) | blank | (col not in SHARES)
        if not (low_ok & high_ok).all():
            row = int(np.flatnonzero(~(low_ok & high_ok))[0]) + 2
            allowed = "0..1" if col in SHARES else ">= 0"
            raise NetworkError(path, f"row {row}, {col}", f"out of range (allowed {allowed})")
        df[col] = values.astype(float)
    return df


def _check_in(df: pd.DataFrame, path: Path, col: str, allowed: tuple[str, ...] | set[str]) -> None:
    bad = ~df[col].isin(list(allowed))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "see locations.csv"
        raise NetworkError(
            path, f"row {row}, {col}", f"unknown value {df[col][bad].iloc[0]!r} (allowed: {shown})"
        )


@dataclass(frozen=True, eq=False)
class RouteNetwork:
    """Locations, legs and the tables that describe who starts where and who controls what."""

    locations: pd.DataFrame
    legs: pd.DataFrame
    origins: pd.DataFrame
    countries: pd.DataFrame
    armed_groups: pd.DataFrame
    interceptions: pd.DataFrame  # where those intercepted are sent, by departure country and mode
    folder: Path
    digest: str  # sha256 of the six files' contents: the data a run used, wherever it lives
    index: dict[str, int] = field(init=False)
    leg_index: dict[tuple[str, str], int] = field(init=False)
    out_legs: list[np.ndarray] = field(init=False)
    # What runs derive from the network and never change (candidate routes: routes.py), kept
    # here so that runs sharing a loaded network (a sweep's batch) derive it once.
    memo: dict[tuple, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {n: i for i, n in enumerate(self.locations["name"])})
        object.__setattr__(
            self,
            "leg_index",
            {
                (f, t): i
                for i, (f, t) in enumerate(zip(self.legs["from"], self.legs["to"], strict=True))
            },
        )
        src = self.legs["src"].to_numpy()
        out = [np.flatnonzero(src == i) for i in range(len(self.locations))]
        object.__setattr__(self, "out_legs", out)
        object.__setattr__(self, "memo", {})

    @property
    def n_locations(self) -> int:
        return len(self.locations)

    @property
    def n_legs(self) -> int:
        return len(self.legs)

    @staticmethod
    def folder_for(data_dir: str | Path | None) -> Path:
        """The folder a scenario's `network.data_dir` names (the packaged data when None)."""
        return Path(data_dir) if data_dir else Path(str(resources.files("routesim") / "data"))

    @classmethod
    def load(cls, data_dir: str | Path | None = None) -> RouteNetwork:
        """Read and check the six CSVs (the packaged ones when `data_dir` is None)."""
        folder = cls.folder_for(data_dir)
        locs = _read_csv(folder, "locations.csv")
        legs = _read_csv(folder, "legs.csv")
        origins = _read_csv(folder, "origins.csv")
        countries = _read_csv(folder, "countries.csv")
        groups = _read_csv(folder, "armed_groups.csv")
        caught = _read_csv(folder, "interceptions.csv")
        for table, file, col in (
            (locs, "locations.csv", "name"),
            (countries, "countries.csv", "iso3"),
            (origins, "origins.csv", "location"),
        ):
            if table[col].duplicated().any():
                dup = table[col][table[col].duplicated()].iloc[0]
                raise NetworkError(folder / file, col, f"duplicate {dup!r} (one row each)")
        if not (origins["cash_median_eur"] > 0).all():
            row = int(np.flatnonzero(~(origins["cash_median_eur"] > 0))[0]) + 2
            raise NetworkError(
                folder / "origins.csv", f"row {row}, cash_median_eur", "must be above 0"
            )
        if countries["detention_days"].isna().any():  # blank is allowed in interceptions.csv only
            row = int(np.flatnonzero(countries["detention_days"].isna())[0]) + 2
            raise NetworkError(
                folder / "countries.csv", f"row {row}, detention_days", "value missing"
            )
        if not legs["ecowas"].isin([0, 1]).all():
            row = int(np.flatnonzero(~legs["ecowas"].isin([0, 1]))[0]) + 2
            raise NetworkError(folder / "legs.csv", f"row {row}, ecowas", "must be 0 or 1")
        _check_in(locs, folder / "locations.csv", "kind", KINDS)
        _check_in(locs, folder / "locations.csv", "country", set(countries["iso3"]))
        names = set(locs["name"])
        for col in ("from", "to"):
            _check_in(legs, folder / "legs.csv", col, names)
        _check_in(legs, folder / "legs.csv", "mode", MODES)
        _check_in(legs, folder / "legs.csv", "route", ROUTES)
        _check_in(origins, folder / "origins.csv", "location", names)
        if legs.duplicated(["from", "to"]).any():
            row = int(np.flatnonzero(legs.duplicated(["from", "to"]))[0]) + 2
            raise NetworkError(
                folder / "legs.csv", f"row {row}, to", "duplicate leg (one row per from -> to)"
            )
        legs_known = set(zip(legs["from"], legs["to"], strict=True))
        for i, (f, t) in enumerate(zip(groups["leg_from"], groups["leg_to"], strict=True)):
            if (f, t) not in legs_known:
                raise NetworkError(
                    folder / "armed_groups.csv",
                    f"row {i + 2}, leg_from",
                    f"no leg {f} -> {t} in legs.csv",
                )
        _check_in(caught, folder / "interceptions.csv", "country", set(countries["iso3"]))
        _check_in(caught, folder / "interceptions.csv", "mode", MODES)
        unknown = (caught["sent_to"] != "") & ~caught["sent_to"].isin(list(names))
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0]) + 2
            raise NetworkError(
                folder / "interceptions.csv",
                f"row {row}, sent_to",
                f"unknown location {caught['sent_to'][unknown].iloc[0]!r} (see locations.csv; "
                "empty = back to where the leg began)",
            )
        totals = caught.groupby(["country", "mode"], sort=False)["share"].transform("sum")
        if not ((totals - 1).abs() <= 1e-9).all():
            i = int(np.flatnonzero((totals - 1).abs() > 1e-9)[0])
            raise NetworkError(
                folder / "interceptions.csv",
                f"row {i + 2}, share",
                f"shares of {caught['country'][i]} {caught['mode'][i]} sum to {totals[i]:g} "
                "(the rows of one country and mode must sum to 1)",
            )
        index = {n: i for i, n in enumerate(locs["name"])}
        legs["src"] = legs["from"].map(index).astype(int)
        legs["dst"] = legs["to"].map(index).astype(int)
        for column in ("country", "kind", "lon", "lat"):  # so that a leg table maps on its own
            values = dict(zip(locs["name"], locs[column], strict=True))
            legs[f"from_{column}"] = legs["from"].map(values)
            legs[f"to_{column}"] = legs["to"].map(values)
        digest = hashlib.sha256(b"".join((folder / f).read_bytes() for f in COLUMNS)).hexdigest()
        return cls(locs, legs, origins, countries, groups, caught, folder, digest)

    # --- queries ------------------------------------------------------------------------------

    def select(self, where: Where, source: str = "policy") -> np.ndarray:
        """Indices of the legs `where` selects; unknown names are errors, not empty selections."""
        mask = np.ones(self.n_legs, dtype=bool)
        legs = self.legs
        if where.country is not None:
            wanted = _as_list(where.country)
            known = set(self.locations["country"])
            for c in wanted:
                if c not in known:
                    raise ScenarioError(
                        source,
                        "where.country",
                        f"unknown country {c!r} (known: {', '.join(sorted(known))})",
                    )
            mask &= legs["from_country"].isin(wanted).to_numpy()
        if where.mode is not None:
            mask &= legs["mode"].isin(_as_list(where.mode)).to_numpy()
        if where.location is not None:
            wanted = _as_list(where.location)
            for loc in wanted:
                self.require_location(loc, source, "where.location")
            mask &= (legs["from"].isin(wanted) | legs["to"].isin(wanted)).to_numpy()
        if where.route is not None:
            mask &= legs["route"].isin(_as_list(where.route)).to_numpy()
        if where.into_europe is not None:
            mask &= (legs["to_kind"] == "destination").to_numpy() == where.into_europe
        if where.leg is not None:
            f, t = where.leg
            self.require_location(f, source, "where.leg")
            self.require_location(t, source, "where.leg")
            if (f, t) not in self.leg_index:
                raise ScenarioError(source, "where.leg", f"no leg {f} -> {t} in legs.csv")
            only = np.zeros(self.n_legs, dtype=bool)
            only[self.leg_index[(f, t)]] = True
            mask &= only
        return np.flatnonzero(mask)

    def require_location(self, name: str, source: str, key: str) -> int:
        if name not in self.index:
            raise ScenarioError(source, key, f"unknown location {name!r} (see locations.csv)")
        return self.index[name]

    def destinations(self) -> np.ndarray:
        return np.flatnonzero((self.locations["kind"] == "destination").to_numpy())
