"""Sweeps: an experiment's runs on any `concurrent.futures.Executor`, each stored as it ends.

One code path for every executor: in this process (`workers=1`), a local process pool (the
default), or Dask distributed through `Client.get_executor()` (an existing scheduler, or a
LocalCluster started here). Runs go out in batches of about two seconds of work, so per-task
overhead stays small whatever a run costs, with at most two batches per worker in flight, so a
killed sweep loses little. Runs that share a warm-up (a point's twins under treatments that
start after it) go out in one batch and pass through it once (`SharedWarmups`). A worker that
dies loses its batches, not the sweep: their runs are tried again one by one (on a fresh pool if
the pool broke), and a run that loses its worker three times is recorded as failed. Results are
written only here, never by workers.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from routesim.experiment import Experiment, Plan, RunSpec
from routesim.network import RouteNetwork
from routesim.outcomes import check_output_folder
from routesim.runner import SharedWarmups, __version__, run
from routesim.scenario import Scenario, ScenarioError
from routesim.store import ResultStore, RunOutcome, load_results

BATCH_SECONDS = 2.0  # work per task: per-task overhead (milliseconds) stays well under 1 %
MAX_BATCH = 64
ATTEMPTS = 3  # times a run may lose its worker before it is recorded as failed


def sweep(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    executor: Executor | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
) -> pd.DataFrame:
    """Run every run of `experiment` (a sweep file or an `Experiment`) not yet stored in `out`
    and return all results (as `load_results(out)`).

    Where runs execute, in order of precedence: `executor` (any concurrent.futures Executor),
    `scheduler` (a Dask scheduler address), `dask_local` (a Dask LocalCluster of that many
    workers), `workers=1` (this process), else a process pool of `workers` (default: one per
    core). `overrides` (`PATH=VALUE`) change the scenario for every run. Starting again after
    an interruption runs only the missing runs.
    """
    if not isinstance(experiment, Experiment):
        experiment = Experiment.load(experiment)
    plan = experiment.plan(tuple(overrides))
    if scheduler is not None or dask_local is not None:
        _dask(scheduler)  # before anything is written
    folder = Path(out) if out is not None else experiment.results_folder
    check_output_folder(folder)
    with _locked(folder), ResultStore.create_or_resume(folder, plan, __version__) as store:
        todo = store.todo()
        if todo:
            with _workers(workers, scheduler, dask_local, executor) as pool:
                _execute(plan, store, todo, pool, progress)
    return load_results(folder)


# --- where runs execute ----------------------------------------------------------------------


class InProcessExecutor(Executor):
    """Runs each task when it is submitted, in this process (one core; easiest to debug)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


@dataclass
class _Pool:
    """An executor, how many runs it works on at once, and how to replace it if it breaks."""

    executor: Executor
    slots: Callable[[], int]
    restart: Callable[[], Executor] | None = None
    breaks: int = 0  # times in a row it broke before finishing a task


@contextmanager
def _workers(
    workers: int | None, scheduler: str | None, dask_local: int | None, executor: Executor | None
) -> Iterator[_Pool]:
    if executor is not None:
        client = getattr(executor, "_client", None)  # Dask's ClientExecutor
        if client is not None and hasattr(client, "nthreads"):
            yield _Pool(executor, partial(_dask_threads, client))
        else:
            size = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
            yield _Pool(executor, lambda: size)
    elif scheduler is not None or dask_local is not None:
        with _dask_client(scheduler, dask_local) as client:
            yield _Pool(client.get_executor(pure=False), partial(_dask_threads, client))
    elif workers == 1:
        yield _Pool(InProcessExecutor(), lambda: 1)
    else:
        size = workers or os.cpu_count() or 1

        def start() -> Executor:
            # spawn: fresh interpreters, same results whatever the parent process holds
            return ProcessPoolExecutor(
                size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )

        pool = _Pool(start(), lambda: size, restart=start)
        try:
            yield pool
        finally:
            pool.executor.shutdown(wait=True, cancel_futures=True)


def _exit_with_parent(parent: int) -> None:
    """Pool worker start-up: when the sweep is killed, its workers exit instead of idling."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _dask_threads(client: Any) -> int:
    """Runs a Dask cluster works on at once: its worker threads, as workers come and go."""
    return max(1, sum(client.nthreads().values()))


def _dask(scheduler: str | None) -> tuple[Any, Any]:
    """Dask's Client and LocalCluster, or a one-line error if Dask is not installed."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError(
            "--scheduler" if scheduler else "--dask-local",
            "",
            "Dask is not installed: pip install 'routesim[dask]'",
        ) from None
    return Client, LocalCluster


@contextmanager
def _dask_client(scheduler: str | None, dask_local: int | None) -> Iterator[Any]:
    Client, LocalCluster = _dask(scheduler)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise ScenarioError("--scheduler", scheduler, f"cannot reach it ({err})") from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        yield client


# --- the sweep loop ----------------------------------------------------------------------


def _execute(plan: Plan, store: ResultStore, todo: list[str], pool: _Pool, progress: bool) -> None:
    by_id = {r.run_id: r for r in plan.runs}
    bar = tqdm(
        total=len(plan.runs),
        initial=store.counts()["done"],
        unit="run",
        desc=plan.experiment.name,
        disable=not progress,
        dynamic_ncols=True,
    )
    # runs that share a warm-up (a point's treated twins) go out together, in the same batch
    keys = [s.warmup_key() for s in plan.scenarios]
    group = {i: (keys[by_id[i].point], by_id[i].seed) for i in todo}
    order = {key: n for n, key in enumerate(dict.fromkeys(group.values()))}  # first seen
    queue = deque(by_id[i] for i in sorted(todo, key=lambda i: order[group[i]]))
    with bar:
        _Loop(plan, store, pool, bar, queue, group).run()


class _Loop:
    """The sweep loop: keep every worker busy, store what comes back, requeue what is lost."""

    def __init__(
        self,
        plan: Plan,
        store: ResultStore,
        pool: _Pool,
        bar: Any,
        queue: deque[RunSpec],
        group: dict[str, Any],
    ) -> None:
        self.plan, self.store, self.pool, self.bar, self.queue = plan, store, pool, bar, queue
        self.group = group  # runs with the same group share a warm-up: never split them
        self.in_flight: dict[Future, tuple[list[RunSpec], Executor]] = {}
        self.lost: Counter[str] = Counter()  # times each run lost its worker
        self.completed: Counter[Executor] = Counter()  # tasks completed, by executor
        self.seconds_per_run: float | None = None
        self.failed = 0

    def run(self) -> None:
        try:
            while self.queue or self.in_flight:
                self._submit()
                finished, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    batch, executor = self.in_flight.pop(future)
                    try:
                        outcomes = future.result()
                    except Exception as err:  # the worker died or the executor broke
                        self._requeue(batch, executor, err)
                    else:
                        self.completed[executor] += 1
                        self._store(outcomes)
                self.bar.set_postfix(failed=self.failed, refresh=False)
        finally:
            for future in self.in_flight:
                future.cancel()

    def _submit(self) -> None:
        exp = self.plan.experiment
        capacity = 2 * self.pool.slots()
        while self.queue and len(self.in_flight) < capacity:
            size = _batch_size(len(self.queue), capacity, self.seconds_per_run)
            batch = [self.queue.popleft() for _ in range(size)]
            while self.queue and self.group[self.queue[0].run_id] == self.group[batch[-1].run_id]:
                batch.append(self.queue.popleft())
            tasks = [(spec, self.plan.scenarios[spec.point]) for spec in batch]
            executor = self.pool.executor
            future = executor.submit(run_batch, tasks, exp.metrics, exp.daily, exp.legs)
            self.in_flight[future] = (batch, executor)

    def _store(self, outcomes: list[RunOutcome]) -> None:
        for outcome in outcomes:
            self.store.record(outcome)
            self.failed += outcome.error is not None
            if outcome.worker:  # it ran; a run lost with its worker tells no duration
                self.seconds_per_run = _mean(self.seconds_per_run, outcome.seconds)
        self.bar.update(len(outcomes))

    def _requeue(self, batch: list[RunSpec], executor: Executor, err: Exception) -> None:
        """Runs lost with their worker go back to the front of the queue, one by one. A pool
        that broke before finishing any task died at start-up: its runs are not to blame."""
        broken_pool = isinstance(err, BrokenProcessPool)
        if broken_pool and executor is self.pool.executor:
            self._restart(err, fresh=not self.completed[executor])
        blame = not broken_pool or self.completed[executor] > 0
        for spec in reversed(batch):
            self.lost[spec.run_id] += blame
            if self.lost[spec.run_id] < ATTEMPTS:
                self.queue.appendleft(spec)
            else:
                message = f"lost its worker {ATTEMPTS} times; last: {_describe(err)}"
                self._store([RunOutcome(spec.run_id, error=message)])

    def _restart(self, err: Exception, fresh: bool) -> None:
        """A worker process died and took the pool with it: start a fresh pool, unless the
        pool cannot be restarted or its workers keep dying before finishing anything."""
        pool = self.pool
        pool.breaks = pool.breaks + 1 if fresh else 0
        if pool.restart is None or pool.breaks >= ATTEMPTS:
            what = "the worker processes keep dying" if pool.restart else "the executor broke"
            raise ScenarioError(
                "workers",
                "",
                f"{what} ({_describe(err)}); "
                f"{len(self.store.todo())} runs are not done: try --workers 1 to see why, "
                "then run again to resume",
            )
        pool.executor.shutdown(wait=False, cancel_futures=True)
        pool.executor = pool.restart()


def _batch_size(queued: int, capacity: int, seconds_per_run: float | None) -> int:
    """Runs per task: about BATCH_SECONDS of work, but not so many that workers idle at the end."""
    if seconds_per_run is None:
        return 1  # measure first
    by_time = int(BATCH_SECONDS / max(seconds_per_run, 1e-3))
    return max(1, min(by_time, math.ceil(queued / capacity), MAX_BATCH))


def _mean(current: float | None, new: float) -> float:
    return new if current is None else 0.8 * current + 0.2 * new


def _describe(err: BaseException) -> str:
    """An error in one line, with where it was raised."""
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}{where}".replace("\n", " ")


# --- what a worker does ----------------------------------------------------------------------


def run_batch(
    tasks: list[tuple[RunSpec, Scenario]],
    metrics: Sequence[str],
    daily: Sequence[str],
    legs: bool = False,
) -> list[RunOutcome]:
    """Run each task (a run and its design point's scenario) and report what the sweep keeps,
    or the error: a run that raises is reported as failed and the batch goes on."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    outcomes = []
    networks: dict[str | None, RouteNetwork] = {}  # read once per batch, not once per run
    scenarios = [scenario.with_updates(seed=spec.seed) for spec, scenario in tasks]
    warmups = SharedWarmups(scenarios)  # a run's treated twins go on from its warm-up
    for (spec, _), scenario in zip(tasks, scenarios, strict=True):
        start = time.perf_counter()
        try:
            where = scenario.network.data_dir
            if where not in networks:
                networks[where] = RouteNetwork.load(where)
            result = run(scenario, network=networks[where], warmups=warmups)
        except Exception as err:
            seconds = time.perf_counter() - start
            outcomes.append(
                RunOutcome(spec.run_id, error=_describe(err), seconds=seconds, worker=worker)
            )
            continue
        kept = result.daily[["day", *daily]].to_numpy(float).tolist() if daily else None
        outcomes.append(
            RunOutcome(
                spec.run_id,
                metrics={m: float(result.metrics[m]) for m in metrics},
                daily=kept,
                legs=result.legs.astype(object).to_numpy().tolist() if legs else None,
                arrivals=result.arrivals.astype(object).to_numpy().tolist() if legs else None,
                seconds=time.perf_counter() - start,
                worker=worker,
            )
        )
    return outcomes


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One sweep writes a folder at a time (where the platform has file locks)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ScenarioError(
                folder, "", "another sweep is writing here: wait for it or use another --out"
            ) from None
        yield
