"""The sweep driver: a Dask graph of (block of samples x temperature) tasks writing into one
Zarr store, with resume, a lock against two drivers, progress and a status report.

Graph: one preparation task per block of samples (parameters, surface fits, filters) and, for
every temperature, one crust task per block that depends on it. Tasks write their own whole
chunks and a done mark after the data (:mod:`crustuq.sweep.tasks`); results never pass
through the client. At most a few tasks per worker are in flight: futures are released as they
complete, so the driver's memory does not grow with the number of samples.

Resume: only tasks whose done mark is missing are submitted. Determinism: every number is a
function of (configuration, sample index) only, so a store is bit-identical whatever the
number of workers, the block size or the interruptions.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from crustuq.sweep.config import SweepConfig, first_difference, load_config
from crustuq.sweep.store import StoreShape, create_store, open_group, open_sweep_group

LOCK_NAME = ".crustuq-driver.lock"


# ----------------------------------------------------------------------------- metadata
def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("crustuq", "numpy", "scipy", "numba", "dask", "distributed", "zarr", "xarray", "emcee",
                "dask-jobqueue", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = None
    return out


def code_version() -> str:
    """Package version plus the git commit of the source tree when there is one."""
    from importlib.metadata import version

    v = version("crustuq")
    root = Path(__file__).resolve().parents[1]
    head = root / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref:"):
            sha = (root / ".git" / ref.split()[1]).read_text().strip()
        else:
            sha = ref
        return f"{v}+g{sha[:12]}"
    except OSError:
        return v


def _store_config(group) -> dict:
    return json.loads(group.attrs["crustuq_config"])


# ----------------------------------------------------------------------------- lock
#: a lock whose driver has not refreshed it for this long (seconds) is stale, on any host
LOCK_STALE_SECONDS = 600.0


class _Lock:
    def __init__(self, path: Path, info: dict):
        self.path = path
        self.info = info
        self._last = time.time()

    def heartbeat(self, force: bool = False) -> None:
        """Refresh the lock (at most every 30 s) so that other hosts can tell it is alive."""
        now = time.time()
        if force or now - self._last > 30.0:
            self._last = now
            self.info["heartbeat"] = now
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.info))
            os.replace(tmp, self.path)


@contextmanager
def driver_lock(store: Path):
    """An exclusive lock file inside the store: a second driver refuses. A lock whose driver
    is gone -- its process no longer exists on this host, or (any host) it has not refreshed
    the lock for LOCK_STALE_SECONDS, e.g. a driver job killed at its walltime -- is taken over."""
    path = store / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "heartbeat": time.time()}
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                other = json.loads(path.read_text())
            except (OSError, ValueError):
                other = {}
            same_host_dead = other.get("host") == me["host"] and not _alive(other.get("pid"))
            silent = time.time() - float(other.get("heartbeat", 0.0)) > LOCK_STALE_SECONDS
            if attempt == 0 and (same_host_dead or silent):
                why = "no longer runs" if same_host_dead else f"has been silent for over {LOCK_STALE_SECONDS:g} s"
                print(f"crustuq: taking over the lock of a driver that {why} "
                      f"(pid {other.get('pid')} on {other.get('host')})", file=sys.stderr)
                path.unlink(missing_ok=True)
                continue
            raise ValueError(
                f"store {str(store)!r} is being written by another driver (pid {other.get('pid')} on "
                f"{other.get('host')}, since {other.get('started')}); two drivers cannot write one store "
                f"(if that driver is dead, delete {path})") from None
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        break
    lock = _Lock(path, me)
    try:
        yield lock
    finally:
        path.unlink(missing_ok=True)


def _alive(pid) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- store checks
def check_store_for_config(cfg: SweepConfig, store: Path) -> bool:
    """True if ``store`` exists and holds the same sweep; False if it does not exist; a
    one-line ValueError if it holds something else."""
    if not store.exists():
        if not store.parent.is_dir():
            raise ValueError(f"--store={str(store)!r}: folder {str(store.parent)!r} does not exist")
        return False
    if not (store / "zarr.json").exists():
        raise ValueError(f"--store={str(store)!r}: exists and is not a crustuq sweep store")
    g = open_group(store)
    if "crustuq_config" not in g.attrs:
        raise ValueError(f"--store={str(store)!r}: a Zarr group that is not a crustuq sweep store")
    stored = SweepConfig.model_validate(_store_config(g))
    if stored.science_hash() != cfg.science_hash():
        diff = first_difference(cfg.science(), stored.science())
        raise ValueError(f"--store={str(store)!r}: holds a sweep with a different configuration "
                         f"(first difference: {diff}); use another store or delete it")
    return True


# ----------------------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on stderr: tasks done, failed points, elapsed and time left."""

    def __init__(self, total: int, enabled: bool = True, stream=None):
        self.total = total
        self.done = 0
        self.failed_points = 0
        self.t0 = time.monotonic()
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self._last = 0.0

    def update(self, n: int = 1, failed: int = 0) -> None:
        self.done += n
        self.failed_points += failed
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.5 or self.done == self.total):
            self._last = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self) -> str:
        el = time.monotonic() - self.t0
        frac = self.done / self.total if self.total else 1.0
        left = el / frac - el if frac > 0 else float("nan")
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        return (f"[{bar}] {self.done}/{self.total} tasks, {self.failed_points} failed points, "
                f"{_fmt(el)} elapsed, ~{_fmt(left)} left ")

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(s: float) -> str:
    if not np.isfinite(s):
        return "--:--"
    s = int(round(s))
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


# ----------------------------------------------------------------------------- run
def run_sweep(config: SweepConfig | str | os.PathLike, store: str | os.PathLike | None = None, *,
              cluster: str | None = None, scheduler: str | None = None, workers: int | None = None,
              wait_timeout: float | None = None, jobqueue: dict | None = None, log_dir: str | None = None,
              progress: bool = True, require_existing: bool = False, in_flight_per_worker: int = 2,
              client=None) -> dict:
    """Run (or continue) a sweep. Returns a report (tasks computed, failures, timings).

    ``config``: a :class:`SweepConfig` or a TOML path; ``store``: the Zarr store (default:
    ``[output] store``); ``cluster``/``scheduler``/``workers``/``wait_timeout`` override the
    ``[cluster]`` section (``jobqueue``: batch-system options, ``log_dir``: where worker job
    logs go); ``require_existing``: resume only (the store must exist);
    ``client``: an existing ``distributed.Client`` (tests, notebooks)."""
    cfg = load_config(config) if not isinstance(config, SweepConfig) else config
    store = Path(store if store is not None else cfg.output.store)
    exists = check_store_for_config(cfg, store)
    if require_existing and not exists:
        raise ValueError(f"store {str(store)!r}: not found (nothing to resume)")
    cl = cfg.cluster
    kind = cluster or cl.kind
    sched = scheduler if scheduler is not None else cl.scheduler
    nworkers = workers if workers is not None else (cl.workers or None)
    timeout = wait_timeout if wait_timeout is not None else cl.wait_timeout
    shape = StoreShape(n_samples=cfg.sweep.n_samples, T=np.asarray(cfg.grid.T, dtype=float),
                       n_B=cfg.grid.densities(), block_size=cfg.sweep.block_size)
    if exists:
        g0 = open_group(store)
        shape = StoreShape(n_samples=int(g0.attrs["n_samples"]), T=g0["T"][:], n_B=g0["n_B"][:],
                           block_size=int(g0.attrs["block_size"]))
    from crustuq.sweep.samples import filter_codes

    if client is not None:
        ctx = _passthrough(client)
    else:
        from crustuq.sweep.cluster import open_client

        ctx = open_client(kind, scheduler=sched, workers=nworkers, wait_timeout=timeout,
                          jobqueue=jobqueue if jobqueue is not None else (cl.jobqueue or None), log_dir=log_dir)
    # the lock needs the store folder: create the store first (only after validation, and only
    # once a cluster is up: a failing cluster leaves nothing behind)
    with ctx as cli:
        if not exists:
            attrs = {"crustuq_config": cfg.to_json(), "config_hash": cfg.science_hash(),
                     "package_versions": package_versions(), "code_version": code_version(),
                     "created": _now(), "name": cfg.sweep.name, "runs": []}
            create_store(store, shape, attrs, filter_codes=filter_codes())
        with driver_lock(store) as lock:
            return _execute(cfg, store, shape, cli, progress, in_flight_per_worker, lock)


@contextmanager
def _passthrough(client):
    yield client


def _execute(cfg: SweepConfig, store: Path, shape: StoreShape, client, progress: bool, per_worker: int,
             lock=None) -> dict:
    from distributed import as_completed

    from crustuq.sweep.tasks import crust_block, prepare_block

    g = open_group(store, "r+")
    prep_done = g["prep_done"][:]
    done = g["done"][:]
    config_json = cfg.to_json()
    path = str(store)
    todo_prep = [b for b in range(shape.n_blocks) if not prep_done[b]]
    todo_crust = [(b, t) for b in range(shape.n_blocks) for t in range(len(shape.T)) if not done[b, t]]
    report = {"store": path, "blocks": shape.n_blocks, "temperatures": len(shape.T),
              "prep_tasks": len(todo_prep), "crust_tasks": len(todo_crust), "failed_points": 0,
              "status_counts": {}, "task_seconds": 0.0, "solve_seconds": 0.0, "prep_model_seconds": 0.0,
              "crust_points": 0}
    start_wall = time.time()
    bar = Progress(len(todo_prep) + len(todo_crust), enabled=progress)
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    # record the run before computing (a killed driver leaves an unfinished entry)
    runs = list(g.attrs.get("runs", []))
    runs.append({"started": _dt.datetime.fromtimestamp(start_wall, _dt.timezone.utc).isoformat(timespec="seconds"),
                 "finished": None, "wall_seconds": None, "tasks": len(todo_prep) + len(todo_crust),
                 "workers": n_workers, "code_version": code_version()})
    g.update_attributes({"runs": runs})
    limit = max(2, per_worker * n_workers)
    # bounded submission: at most `limit` tasks in flight; crust tasks of prepared blocks first,
    # else the next preparation (which makes its block's crust tasks ready). O(1) per task.
    from collections import deque

    prep_queue = deque(todo_prep)
    needs_prep = set(todo_prep)
    waiting: dict[int, list[int]] = {}
    ready = deque()
    for b, t in todo_crust:
        if b in needs_prep:
            waiting.setdefault(b, []).append(t)
        else:
            ready.append((b, t))
    prep_futures = {}
    remaining = {b: len(ts) for b, ts in waiting.items()}
    ac = as_completed()
    in_flight = 0
    key_tag = cfg.science_hash()

    def submit_next():
        nonlocal in_flight
        while in_flight < limit and (ready or prep_queue):
            if ready:
                b, t = ready.popleft()
                dep = prep_futures.get(b)
                fut = client.submit(crust_block, config_json, path, b, t, dep, key=f"crust-{b}-{t}-{key_tag}",
                                    retries=3, pure=False)
                if b in remaining:
                    remaining[b] -= 1
                    if remaining[b] == 0:  # all its crust tasks hold the dependency now
                        prep_futures.pop(b, None)
                        remaining.pop(b)
            else:
                b = prep_queue.popleft()
                fut = client.submit(prepare_block, config_json, path, b, key=f"prep-{b}-{key_tag}",
                                    retries=3, pure=False)
                if b in waiting:
                    prep_futures[b] = fut
                    ready.extend((b, t) for t in waiting.pop(b))
            ac.add(fut)
            in_flight += 1

    submit_next()
    try:
        for fut in ac:
            res = fut.result()
            in_flight -= 1
            report["task_seconds"] += res["seconds"]
            if res["kind"] == "prep":
                report["prep_model_seconds"] += res.get("model_seconds", 0.0)
            if res["kind"] == "crust":
                report["solve_seconds"] += res["solve_seconds"]
                report["crust_points"] += res["points"]
                failed = res["status_counts"].get("not_converged", 0)
                report["failed_points"] += failed
                for k, v in res["status_counts"].items():
                    report["status_counts"][k] = report["status_counts"].get(k, 0) + v
            bar.update(1, failed=res.get("status_counts", {}).get("not_converged", 0))
            del fut
            if lock is not None:
                lock.heartbeat()
            submit_next()
    finally:
        bar.close()
    wall = time.time() - start_wall
    runs[-1].update(finished=_now(), wall_seconds=wall)
    g.update_attributes({"runs": runs})
    report["wall_seconds"] = wall
    report["workers"] = n_workers
    return report


# ----------------------------------------------------------------------------- status
def sweep_status(store: str | os.PathLike) -> dict:
    """Completion, failure counts by reason, filter counts by reason and time spent."""
    store = Path(store)
    g = open_sweep_group(store, f"store {str(store)!r}")
    a = g.attrs
    done = g["done"][:]
    prep = g["prep_done"][:]
    T = g["T"][:]
    status = g["status"][:]
    codes = {int(k): v for k, v in a["status_codes"].items()}
    counts = {codes.get(int(k), str(k)): int(c) for k, c in zip(*np.unique(status[status >= 0], return_counts=True))}
    fcodes = {int(k): v for k, v in a["filter_codes"].items()}
    fc = g["filter_code"][:]
    filt = {fcodes.get(int(k), str(k)): int(c) for k, c in zip(*np.unique(fc[fc >= 0], return_counts=True))}
    lock = store / LOCK_NAME
    out = {
        "store": str(store), "name": a.get("name"), "n_samples": int(a["n_samples"]),
        "block_size": int(a["block_size"]), "blocks": int(a["n_blocks"]),
        "prepared_blocks": int(prep.sum()),
        "completed_blocks_per_T": {f"{t:g}": int(done[:, i].sum()) for i, t in enumerate(T)},
        "complete": bool(done.all() and prep.all()),
        "point_status": counts, "filter": filt,
        "task_seconds": float(g["task_seconds"][:].sum() + g["prep_seconds"][:].sum()),
        "wall_seconds": float(sum(r.get("wall_seconds") or 0.0 for r in a.get("runs", []))),
        "interrupted_runs": sum(r.get("finished") is None for r in a.get("runs", [])),
        "runs": len(a.get("runs", [])),
        "locked_by": json.loads(lock.read_text()) if lock.exists() else None,
    }
    return out
