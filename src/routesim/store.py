"""The result store: one SQLite file per sweep, so a sweep can be killed at any moment and resumed.

SQLite in WAL mode, written only by the process driving the sweep; each finished run is one
transaction (its status, metrics and daily rows together), keyed by run id, so a run executed
twice is stored once and a killed sweep loses at most the runs in flight. Tables:
`meta` (the experiment, its fingerprint, the routesim version), `points` (parameter values per
design point, with its scenario's name), `status` (pending, done or failed with the error),
`results` (metrics per run), `daily` (the kept daily series, one row per run and day), `legs`
(the kept per-leg tables, one row per run and leg) and `arrivals` (kept with the legs: who
arrived by which route, one row per run, route and nationality).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from routesim.experiment import Experiment, Plan
from routesim.outcomes import ARRIVALS_COLUMNS, LEG_COLUMNS, RunResult, arrivals_frame
from routesim.scenario import ScenarioError

FILE = "results.sqlite"
PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass
class RunOutcome:
    """What a worker sends back for one run: its metrics (and daily series) or its error."""

    run_id: str
    metrics: dict[str, float] | None = None
    daily: list[list[float]] | None = None  # one row per day: day, then the kept series
    legs: list[list[Any]] | None = None  # one row per leg, the columns of LEG_COLUMNS
    arrivals: list[list[Any]] | None = None  # route, nationality, people: ARRIVALS_COLUMNS
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(names: Sequence[str], kind: str) -> str:
    return "".join(f", {_quote(n)} {kind}" for n in names)


class ResultStore:
    """The SQLite file of one sweep, opened by `create_or_resume` (driver) or `open` (reader)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path, self.db = path, connection
        self.meta = dict(self.db.execute("SELECT key, value FROM meta"))
        self.experiment = Experiment.model_validate_json(self.meta["experiment"])

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def create_or_resume(cls, folder: Path, plan: Plan, version: str) -> ResultStore:
        """The store for `plan` in `folder`: created with every run pending, or reopened if it
        holds the same plan; a different plan or routesim version is refused."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # with WAL: survives a killed process
        with _transaction(db):
            fresh = not db.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone()
            if fresh:
                _create(db, plan, version)
            else:  # a store begun before arrivals were kept: it keeps them from now on
                _create_arrivals(db)
        store = cls(path, db)
        if not fresh:
            store._check_same(plan, version)
        return store

    @classmethod
    def open(cls, folder: str | Path) -> ResultStore:
        """Open a sweep's results for reading (`folder` or the results file itself)."""
        folder = Path(folder)
        path = folder if folder.suffix == ".sqlite" else folder / FILE
        if not path.is_file():
            found = "a single run's output" if (folder / "summary.json").is_file() else "nothing"
            raise ScenarioError(
                folder, "", f"no sweep results here ({found}; a sweep or compare writes {FILE})"
            )
        db = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            return cls(path, db)
        except (sqlite3.DatabaseError, KeyError, ValueError) as err:
            db.close()
            raise ScenarioError(path, "", f"not a readable routesim results file ({err})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_same(self, plan: Plan, version: str) -> None:
        stored = json.loads(self.meta["identity"])
        if self.meta["routesim_version"] != version:
            raise ScenarioError(
                self.path.parent,
                "",
                f"holds a sweep run with routesim {self.meta['routesim_version']}, this is "
                f"{version}; results would mix versions: use another --out",
            )
        differ = [k for k in plan.identity if stored.get(k) != plan.identity[k]]
        if differ:
            raise ScenarioError(
                self.path.parent,
                "",
                f"holds a different sweep ({self.meta['name']}; differs in "
                f"{', '.join(differ)}): use another --out, or delete the folder to start over",
            )

    # --- writing ---------------------------------------------------------------------------

    def todo(self) -> list[str]:
        """Run ids not done yet (pending, or failed before and worth another try)."""
        rows = self.db.execute(
            "SELECT run_id FROM status WHERE status != ? ORDER BY point, replicate", (DONE,)
        )
        return [r[0] for r in rows]

    def record(self, outcome: RunOutcome) -> None:
        """Store one run's outcome in one transaction; storing it again replaces it."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        status = FAILED if outcome.error is not None else DONE
        with _transaction(self.db):
            self.db.execute(
                "UPDATE status SET status=?, error=?, seconds=?, worker=?, finished=? "
                "WHERE run_id=?",
                (status, outcome.error, outcome.seconds, outcome.worker, now, outcome.run_id),
            )
            self.db.execute("DELETE FROM results WHERE run_id=?", (outcome.run_id,))
            self.db.execute("DELETE FROM daily WHERE run_id=?", (outcome.run_id,))
            self.db.execute("DELETE FROM legs WHERE run_id=?", (outcome.run_id,))
            self.db.execute("DELETE FROM arrivals WHERE run_id=?", (outcome.run_id,))
            if outcome.metrics is not None:
                names = list(self.experiment.metrics)
                self.db.execute(
                    f"INSERT INTO results VALUES (?{', ?' * len(names)})",
                    (outcome.run_id, *(outcome.metrics[n] for n in names)),
                )
            kept = (
                ("daily", outcome.daily),
                ("legs", outcome.legs),
                ("arrivals", outcome.arrivals),
            )
            for table, rows in kept:
                if rows:
                    self.db.executemany(
                        f"INSERT INTO {table} VALUES (?{', ?' * len(rows[0])})",
                        [(outcome.run_id, *row) for row in rows],
                    )

    # --- reading ---------------------------------------------------------------------------

    def n_points(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM points").fetchone()[0]

    def counts(self) -> dict[str, int]:
        counts = dict(self.db.execute("SELECT status, COUNT(*) FROM status GROUP BY status"))
        return {s: counts.get(s, 0) for s in (PENDING, DONE, FAILED)}

    def results(self, all_runs: bool = False) -> pd.DataFrame:
        """One row per run: point, replicate, seed, parameters, metrics (done runs only, unless
        `all_runs`, which lists every run with its status, error, seconds, worker, finish time)."""
        extra = ", s.status, s.error, s.seconds, s.worker, s.finished" if all_runs else ""
        where = "" if all_runs else f"WHERE s.status = '{DONE}'"
        return self._query(
            f"SELECT s.run_id, s.point, s.replicate, s.seed{extra}, p.*, r.* FROM status s "
            "JOIN points p USING (point) LEFT JOIN results r USING (run_id) "
            f"{where} ORDER BY s.point, s.replicate"
        )

    def daily(self) -> pd.DataFrame:
        """The kept daily series: one row per run and day, with its point's parameters."""
        return self._per_run("daily", "d.day")

    def legs(self) -> pd.DataFrame:
        """The kept per-leg tables: one row per run and leg, with its point's parameters."""
        return self._per_run("legs", "d.rowid")

    def arrivals(self) -> pd.DataFrame:
        """The kept arrivals by route and nationality: one row per run, route and nationality,
        with its point's parameters (none from a store begun before they were kept)."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name='arrivals'").fetchone():
            columns = ["run_id", "point", "replicate", "seed", *ARRIVALS_COLUMNS]
            return arrivals_frame().reindex(columns=columns)
        return self._per_run("arrivals", "d.rowid")

    @property
    def scenarios(self) -> list[str]:
        """The scenarios' names (stores from routesim 0.1 name their one scenario by file)."""
        if "scenarios" in self.meta:
            return json.loads(self.meta["scenarios"])
        return [Path(f).stem for f in self.experiment.scenario_files]

    def _per_run(self, table: str, order: str) -> pd.DataFrame:
        return self._query(
            f"SELECT s.run_id, s.point, s.replicate, s.seed, p.*, d.* FROM {table} d "
            "JOIN status s USING (run_id) JOIN points p USING (point) "
            f"ORDER BY s.point, s.replicate, {order}"
        )

    def _query(self, sql: str) -> pd.DataFrame:
        """A joined table, each column once (USING keys come back from both sides), described."""
        frame = pd.read_sql_query(sql, self.db)
        return self._describe(frame.loc[:, ~frame.columns.duplicated()])

    def _describe(self, frame: pd.DataFrame) -> pd.DataFrame:
        exp = self.experiment
        if "scenario" not in frame.columns:  # a store from routesim 0.1: one scenario
            frame.insert(frame.columns.get_loc("seed") + 1, "scenario", self.scenarios[0])
        frame.attrs = {
            "folder": str(self.path.parent),
            "sweep": self.meta["name"],
            "design": exp.design.kind if exp.design else "none",
            "parameters": exp.parameters,
            "metrics": list(exp.metrics),
            "scenarios": self.scenarios,
            "policy_days": json.loads(self.meta.get("policy_days", "{}")),
            "daily": list(exp.daily),
            "routesim_version": self.meta["routesim_version"],
        }
        return frame


def _create(db: sqlite3.Connection, plan: Plan, version: str) -> None:
    exp = plan.experiment
    params = exp.parameters
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        f"CREATE TABLE points (point INTEGER PRIMARY KEY, scenario TEXT{_columns(params, '')})"
    )
    db.execute(
        "CREATE TABLE status (run_id TEXT PRIMARY KEY, point INTEGER NOT NULL, "
        "replicate INTEGER NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL "
        f"CHECK (status IN ('{PENDING}', '{DONE}', '{FAILED}')), error TEXT, seconds REAL, "
        "worker TEXT, finished TEXT)"
    )
    db.execute(f"CREATE TABLE results (run_id TEXT PRIMARY KEY{_columns(exp.metrics, 'REAL')})")
    db.execute(
        f"CREATE TABLE daily (run_id TEXT, day INTEGER{_columns(exp.daily, 'REAL')}, "
        "PRIMARY KEY (run_id, day))"
    )
    db.execute(f"CREATE TABLE legs (run_id TEXT{_columns(LEG_COLUMNS, '')})")
    db.execute("CREATE INDEX legs_run ON legs (run_id)")
    _create_arrivals(db)
    meta = {
        "name": exp.name,
        "experiment": exp.model_dump_json(),
        "source": exp.source,
        "identity": json.dumps(plan.identity, sort_keys=True),
        "fingerprint": plan.fingerprint,
        "scenarios": json.dumps(plan.scenario_names),
        "policy_days": json.dumps(_policy_days(plan)),
        "routesim_version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.executemany(
        f"INSERT INTO points VALUES (?, ?{', ?' * len(params)})",
        [
            (i, scenario.name, *(point[p] for p in params))
            for i, (scenario, point) in enumerate(zip(plan.scenarios, plan.points, strict=True))
        ],
    )
    db.executemany(
        "INSERT INTO status (run_id, point, replicate, seed, status) VALUES (?, ?, ?, ?, ?)",
        [(r.run_id, r.point, r.replicate, r.seed, PENDING) for r in plan.runs],
    )


def _create_arrivals(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS arrivals (run_id TEXT, route TEXT, nationality TEXT, "
        "arrived REAL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS arrivals_run ON arrivals (run_id)")


def _policy_days(plan: Plan) -> dict[str, list[tuple[int, str]]]:
    """Per scenario, the days on which policies take effect (every point's, if a design moves
    them), for marking daily series."""
    days: dict[str, dict[int, str]] = {}
    for scenario in plan.scenarios:
        days.setdefault(scenario.name, {}).update(scenario.policy_days())
    return {name: sorted(marks.items()) for name, marks in days.items()}


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def load_results(folder: str | Path, all_runs: bool = False) -> pd.DataFrame:
    """A sweep's results as a tidy DataFrame: one row per finished run with its design point,
    replicate, seed, scenario, parameter values (columns named by their dotted paths) and
    metrics. A `routesim run` output folder gives its one run in the same shape.

    `all_runs=True` lists every run, with `status` (pending, done, failed), `error`,
    `seconds`, `worker` and `finished` (UTC). `df.attrs` names the parameters and metrics.
    """
    if run := _single_run(folder):
        return _as_sweep(folder, run, pd.DataFrame([run.metrics]))
    with closing(ResultStore.open(folder)) as store:
        return store.results(all_runs)


def load_daily(folder: str | Path) -> pd.DataFrame:
    """The daily series a sweep kept (its `daily:` list), or a run's daily.csv: one row per
    run and day."""
    if run := _single_run(folder):
        return _as_sweep(folder, run, run.daily)
    with closing(ResultStore.open(folder)) as store:
        return store.daily()


def load_legs(folder: str | Path) -> pd.DataFrame:
    """The per-leg tables a sweep kept (`legs: true`, as `routesim compare` does), or a run's
    legs.csv: one row per run and leg."""
    if run := _single_run(folder):
        return _as_sweep(folder, run, run.legs)
    with closing(ResultStore.open(folder)) as store:
        return store.legs()


def load_arrivals(folder: str | Path) -> pd.DataFrame:
    """Who arrived where, as a sweep kept it (with its legs: `legs: true`) or a run's
    arrivals.csv: one row per run, route and nationality."""
    if run := _single_run(folder):
        return _as_sweep(folder, run, run.arrivals)
    with closing(ResultStore.open(folder)) as store:
        return store.arrivals()


def _single_run(folder: str | Path) -> RunResult | None:
    """The run in `folder` if it holds a `routesim run` output rather than a sweep."""
    folder = Path(folder)
    if (folder / FILE).exists() or not (folder / "summary.json").is_file():
        return None
    return RunResult.load(folder)


def _as_sweep(folder: str | Path, run: RunResult, table: pd.DataFrame) -> pd.DataFrame:
    """A single run's table shaped like a sweep's: one design point, one replicate."""
    s = run.summary
    ids = {
        "run_id": f"seed{s['seed']}",
        "point": 0,
        "replicate": 0,
        "seed": s["seed"],
        "scenario": s["scenario"],
    }
    frame = pd.concat([pd.DataFrame(ids, index=table.index), table], axis=1)
    frame.attrs = {
        "folder": str(folder),
        "sweep": s["scenario"],
        "design": "none",
        "parameters": [],
        "metrics": list(s["metrics"]),
        "scenarios": [s["scenario"]],
        "policy_days": {s["scenario"]: s.get("policy_days", [])},
        "routesim_version": s["routesim_version"],
    }
    return frame
