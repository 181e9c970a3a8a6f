"""Dask clusters for sweeps: the embedded local cluster, an external scheduler, or a batch
system through dask-jobqueue (Slurm, PBS, SGE).

One entry point, :func:`open_client`, a context manager that yields a connected
``distributed.Client`` and tears down everything it created (also on an error or Ctrl-C)::

    with open_client("local") as client:                  # one worker process per core
        ...
    with open_client(scheduler="tcp://10.0.0.5:8786") as client:   # connect only
        ...
    with open_client("slurm", workers=64, jobqueue={"cores": 32, "memory": "64GB",
                                                    "walltime": "04:00:00"}) as client:
        ...

Every worker process runs with single-threaded BLAS/OpenMP/numba (:data:`SINGLE_THREAD_ENV`),
so that a result does not depend on where it was computed: a sweep is bit-identical on a
laptop and on a Slurm cluster.

Batch systems: dask-jobqueue logs, but does not raise, when the batch system rejects a job,
and a queued job may simply never start. ``open_client`` therefore always waits for workers
with a timeout and fails with a one-line message naming the batch system, what it said (if
it rejected the job), the job script (written to the log directory) and the command that
shows the queue. ``deploy/README.md`` explains running on an HPC system;
``deploy/jobqueue.yaml`` documents the options of the ``[cluster]`` section.

Bad input raises a one-line ``ValueError`` naming the option, the value and what is allowed.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import time
import warnings
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional

__all__ = [
    "KINDS",
    "SINGLE_THREAD_ENV",
    "open_client",
    "job_script",
    "describe",
    "cluster_kwargs",
    "load_jobqueue_yaml",
    "default_workers",
]

#: cluster kinds accepted by ``--cluster`` / ``[cluster] kind``
KINDS = ("local", "slurm", "pbs", "sge")
JOBQUEUE_KINDS = ("slurm", "pbs", "sge")

#: environment of every worker process: single-threaded numerical libraries, so that
#: floating-point results do not depend on the thread count of the machine
SINGLE_THREAD_ENV: Dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}

#: how to look at the queue / cancel, per batch system (for the messages)
_QUEUE_COMMAND = {"slurm": "squeue -u $USER", "pbs": "qstat -u $USER", "sge": "qstat -u $USER"}
_SUBMIT_COMMAND = {"slurm": "sbatch", "pbs": "qsub", "sge": "qsub"}

# dask-jobqueue keyword arguments accepted in the ``jobqueue`` mapping ([cluster] section),
# with the type each must have. Keys may be written with '-' or '_'.
_STR, _INT, _NUM, _LIST, _MAP, _MEM = "str", "int", "num", "list", "map", "mem"
_COMMON_KEYS = {
    "cores": _INT,
    "processes": _INT,
    "memory": _MEM,
    "walltime": _STR,
    "queue": _STR,
    "python": _STR,
    "interface": _STR,
    "death_timeout": _NUM,
    "local_directory": _STR,
    "log_directory": _STR,
    "shebang": _STR,
    "job_name": _STR,
    "worker_extra_args": _LIST,
    "job_extra_directives": _LIST,
    "job_directives_skip": _LIST,
    "job_script_prologue": _LIST,
    "scheduler_options": _MAP,
}
_KIND_KEYS = {
    "slurm": {"account": _STR, "job_cpu": _INT, "job_mem": _STR},
    "pbs": {"account": _STR, "resource_spec": _STR},
    "sge": {"project": _STR, "resource_spec": _STR},
}
#: keys of a ``[cluster]`` section that are ``open_client`` arguments, not dask-jobqueue ones
_SECTION_KEYS = ("kind", "scheduler", "workers", "min_workers", "wait_timeout", "log_dir")

_DEFAULT_JOB_NAME = "crustuq-worker"
_DEFAULT_LOG_DIR = "dask-worker-logs"
_PLACEHOLDER_ADDRESS = "tcp://<scheduler-address>:8786"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- validation

def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise ValueError(f"--cluster={kind!r}: allowed are {', '.join(KINDS)}")
    return kind


def _check_scheduler(scheduler: Any) -> str:
    if not isinstance(scheduler, str) or not re.match(r"^(tcp|tls)://[^\s/]+:\d+/?$", scheduler):
        raise ValueError(
            f"--scheduler={scheduler!r}: give the address of a running Dask scheduler as "
            "tcp://HOST:PORT or tls://HOST:PORT"
        )
    return scheduler.rstrip("/")


def _check_count(option: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise ValueError(f"{option}={value!r}: must be an integer >= 1")
    return value


def _check_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0) or math.isinf(value):
        raise ValueError(f"--wait-timeout={value!r}: must be a finite number of seconds > 0")
    return float(value)


def _normalise_jobqueue(kind: str, jobqueue: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Validate the dask-jobqueue options of ``kind``; keys normalised to underscores,
    ``None`` values dropped (= use dask's jobqueue configuration)."""
    if jobqueue is None:
        return {}
    if not isinstance(jobqueue, Mapping):
        raise ValueError(f"[cluster]={jobqueue!r}: must be a table of dask-jobqueue options")
    allowed = dict(_COMMON_KEYS, **_KIND_KEYS[kind])
    out: Dict[str, Any] = {}
    for raw_key, value in jobqueue.items():
        key = str(raw_key).replace("-", "_")
        opt = f"[cluster] {raw_key}"
        if key not in allowed:
            raise ValueError(
                f"{opt}={value!r}: unknown option for --cluster {kind}; allowed are "
                f"{', '.join(sorted(allowed))}"
            )
        if value is None:
            continue
        typ = allowed[key]
        if typ == _INT:
            if not _is_int(value) or value < 1:
                raise ValueError(f"{opt}={value!r}: must be an integer >= 1")
        elif typ == _NUM:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{opt}={value!r}: must be a number > 0")
        elif typ == _STR:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{opt}={value!r}: must be a non-empty string")
        elif typ == _LIST:
            if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(
                isinstance(v, str) for v in value
            ):
                raise ValueError(f"{opt}={value!r}: must be a list of strings, e.g. [\"--exclusive\"]")
            value = list(value)
        elif typ == _MAP:
            if not isinstance(value, Mapping):
                raise ValueError(f"{opt}={value!r}: must be a table, e.g. {{dashboard_address = \":8787\"}}")
            value = dict(value)
        elif typ == _MEM:
            value = _check_memory(opt, value)
        if key == "walltime" and not re.match(r"^[0-9]+([-:][0-9]+){0,3}$", value):
            raise ValueError(f"{opt}={value!r}: must be a wall time like 04:00:00 (or 1-00:00:00 on Slurm)")
        out[key] = value
    return out


def _check_memory(opt: str, value: Any) -> str:
    from dask.utils import parse_bytes

    if _is_int(value) and value > 0:
        return f"{value}B"
    if isinstance(value, str):
        try:
            if parse_bytes(value) > 0:
                return value
        except (ValueError, TypeError):
            pass
    raise ValueError(f"{opt}={value!r}: must be a memory size per job like \"64GB\" or \"120GiB\"")


def _import_dask_jobqueue():
    """``import dask_jobqueue`` without its side effect on Ctrl-C.

    dask_jobqueue.runner replaces the SIGINT handler, at import, by ``sys.exit()``: Ctrl-C
    would then end a sweep with exit status 0, as if it had succeeded. Put the previous
    handler back (or Python's default if someone imported dask_jobqueue before us)."""
    import signal
    import sys
    import threading

    first = "dask_jobqueue" not in sys.modules
    in_main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if in_main else None
    import dask_jobqueue

    if in_main:
        now = signal.getsignal(signal.SIGINT)
        if getattr(now, "__module__", None) == "dask_jobqueue.runner":
            restore = before if (first and before is not None and before is not now) else signal.default_int_handler
            signal.signal(signal.SIGINT, restore)
    return dask_jobqueue


def _jobqueue_defaults(kind: str, key: str) -> Any:
    import dask

    _import_dask_jobqueue()  # registers dask-jobqueue's default configuration
    return dask.config.get(f"jobqueue.{kind}.{key.replace('_', '-')}", None)


def _resolve_jobqueue(kind: str, jobqueue: Optional[Mapping[str, Any]], log_dir: Optional[str]) -> Dict[str, Any]:
    """Full keyword arguments for the dask-jobqueue cluster of ``kind``: the given options,
    then dask's jobqueue configuration (``~/.config/dask/jobqueue.yaml``), then our defaults
    (one thread per worker process, a job name, a log directory, single-threaded BLAS)."""
    opts = _normalise_jobqueue(kind, jobqueue)
    for key in ("cores", "memory"):
        if key not in opts and _jobqueue_defaults(kind, key) is None:
            raise ValueError(
                f"[cluster] {key}: required for --cluster {kind} (set it in the [cluster] section "
                f"or in jobqueue.{kind}.{key} of ~/.config/dask/jobqueue.yaml; see deploy/jobqueue.yaml)"
            )
    cores = opts.get("cores", _jobqueue_defaults(kind, "cores"))
    processes = opts.get("processes", _jobqueue_defaults(kind, "processes"))
    if processes is None:
        processes = cores  # one single-threaded worker process per core
    if not _is_int(cores) or cores < 1:
        raise ValueError(f"[cluster] cores={cores!r}: must be an integer >= 1")
    if not _is_int(processes) or processes < 1 or processes > cores or cores % processes:
        raise ValueError(
            f"[cluster] processes={processes!r}: must divide cores={cores} "
            f"(processes = cores gives one single-threaded worker per core)"
        )
    opts["cores"] = cores
    opts["processes"] = processes
    if "job_name" not in opts and _jobqueue_defaults(kind, "name") in (None, "dask-worker"):
        opts["job_name"] = _DEFAULT_JOB_NAME
    if "log_directory" not in opts:
        configured = _jobqueue_defaults(kind, "log_directory")
        opts["log_directory"] = log_dir or configured or _DEFAULT_LOG_DIR
    # created on the submitting machine by dask-jobqueue: expand $VARS here, not in the job
    opts["log_directory"] = os.path.abspath(os.path.expandvars(os.path.expanduser(str(opts["log_directory"]))))
    prologue = opts.get("job_script_prologue")
    if prologue is None:
        prologue = list(_jobqueue_defaults(kind, "job_script_prologue") or [])
    # after the user's lines (module load, conda activate ...) so that they cannot undo them
    opts["job_script_prologue"] = list(prologue) + [f"export {k}={v}" for k, v in SINGLE_THREAD_ENV.items()]
    return opts


# --------------------------------------------------------------------------- public helpers

def default_workers() -> int:
    """Cores this process may use (respects CPU affinity, e.g. inside a Slurm allocation)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cluster_kwargs(section: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Turn a ``[cluster]`` configuration table into :func:`open_client` keyword arguments.

    ``kind``, ``scheduler``, ``workers``, ``min_workers``, ``wait_timeout`` and ``log_dir``
    are ``open_client`` arguments; every other key is a dask-jobqueue option (see
    ``deploy/jobqueue.yaml``). Keys may be written with ``-`` or ``_``.
    """
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ValueError(f"[cluster]={section!r}: must be a table")
    out: Dict[str, Any] = {}
    jobqueue: Dict[str, Any] = {}
    for raw_key, value in section.items():
        key = str(raw_key).replace("-", "_")
        if key in _SECTION_KEYS:
            out[key] = value
        else:
            jobqueue[raw_key] = value
    if jobqueue:
        out["jobqueue"] = jobqueue
    return out


def load_jobqueue_yaml(path: str, kind: str) -> Dict[str, Any]:
    """The ``jobqueue.<kind>`` table of a YAML file in dask-jobqueue's format (such as
    ``deploy/jobqueue.yaml``), keys with underscores and ``null`` values dropped; use it as
    the ``jobqueue`` argument of :func:`open_client`."""
    import yaml

    _check_kind(kind)
    if kind not in JOBQUEUE_KINDS:
        raise ValueError(f"--cluster={kind!r}: a jobqueue file is only used with {', '.join(JOBQUEUE_KINDS)}")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ValueError(f"--jobqueue-config={path!r}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"--jobqueue-config={path!r}: not valid YAML ({first})") from None
    table = (doc.get("jobqueue") or {}).get(kind) if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise ValueError(f"--jobqueue-config={path!r}: has no jobqueue.{kind} table")
    # 'name' is dask-jobqueue's job name
    table = {("job_name" if k == "name" else k): v for k, v in table.items()}
    return {k.replace("-", "_"): v for k, v in table.items() if v is not None and v != [] and v != {}}


def job_script(
    kind: str,
    *,
    workers: Optional[int] = None,
    jobqueue: Optional[Mapping[str, Any]] = None,
    log_dir: Optional[str] = None,
) -> str:
    """The batch script one worker job would run (for ``--dry-run``); nothing is started or
    submitted. The scheduler address is a placeholder, filled in at run time."""
    _check_kind(kind)
    _check_count("--workers", workers)
    if kind not in JOBQUEUE_KINDS:
        raise ValueError(f"--cluster={kind!r}: a job script exists only for {', '.join(JOBQUEUE_KINDS)}")
    cls = _cluster_class(kind)
    opts = _resolve_jobqueue(kind, jobqueue, log_dir)
    opts.pop("scheduler_options", None)
    # dask-jobqueue creates the log directory when it builds a job: a dry run must not
    top = opts["log_directory"]
    while not os.path.exists(os.path.dirname(top)) and os.path.dirname(top) != top:
        top = os.path.dirname(top)
    existed = os.path.exists(top)
    try:
        job = cls.job_cls(_PLACEHOLDER_ADDRESS, name="crustuq-dry-run", **opts)
        return job.job_script()
    finally:
        # remove what was created (directories only) so that the dry run leaves no trace
        if not existed and os.path.isdir(top) and not any(files for _, _, files in os.walk(top)):
            shutil.rmtree(top, ignore_errors=True)


def describe(
    kind: str = "local",
    *,
    scheduler: Optional[str] = None,
    workers: Optional[int] = None,
    jobqueue: Optional[Mapping[str, Any]] = None,
    log_dir: Optional[str] = None,
) -> str:
    """One paragraph saying which cluster :func:`open_client` would build (for ``--dry-run``)."""
    kind, scheduler, n, _ = _plan(kind, scheduler, workers, None)
    env = " ".join(f"{k}={v}" for k, v in SINGLE_THREAD_ENV.items())
    if scheduler is not None:
        return f"connect to the Dask scheduler at {scheduler} (its workers should run with {env})"
    if kind == "local":
        return (f"LocalCluster with {n} single-threaded worker processes on this machine ({env})")
    opts = _resolve_jobqueue(kind, jobqueue, log_dir)
    n = n or opts["processes"]
    jobs = math.ceil(n / opts["processes"])
    return (
        f"{_cluster_class(kind).__name__}: {n} worker processes in {jobs} job(s) of "
        f"{opts['cores']} cores / {opts['processes']} processes / "
        f"{opts.get('memory') or _jobqueue_defaults(kind, 'memory')} each, walltime "
        f"{opts.get('walltime') or _jobqueue_defaults(kind, 'walltime')}, logs in {opts['log_directory']}"
    )


# --------------------------------------------------------------------------- the context manager

def _cluster_class(kind: str):
    dask_jobqueue = _import_dask_jobqueue()
    return {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster, "sge": dask_jobqueue.SGECluster}[kind]


def _plan(kind, scheduler, workers, min_workers):
    """Validate the arguments; returns (kind, scheduler, n_workers, n_min)."""
    _check_kind(kind)
    workers = _check_count("--workers", workers)
    min_workers = _check_count("--min-workers", min_workers)
    if scheduler is not None:
        scheduler = _check_scheduler(scheduler)
        if kind != "local":
            raise ValueError(f"--scheduler={scheduler!r}: cannot be combined with --cluster={kind!r}; give one of them")
    if scheduler is not None:
        n = workers
        n_min = min_workers or workers or 1
    elif kind == "local":
        n = workers or default_workers()
        n_min = min_workers or n
    else:
        n = workers  # resolved against processes per job later
        n_min = min_workers or 1
    if n is not None and n_min > n:
        raise ValueError(f"--min-workers={n_min}: must not exceed --workers={n}")
    return kind, scheduler, n, n_min


class _SubmissionErrors(logging.Handler):
    """Collects the job-submission failures that dask-jobqueue only logs."""

    _LOGGERS = ("tornado.application", "distributed.deploy.spec", "asyncio", "dask_jobqueue.core")

    def __init__(self, submit: str):
        super().__init__(level=logging.ERROR)
        self.submit = submit
        self.errors: list = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return
        text = str(exc)
        if isinstance(exc, RuntimeError) and "non-zero exit code" in text:
            m = re.search(r"stderr:\n(.*)", text, re.S)
            lines = [ln.strip() for ln in (m.group(1) if m else "").splitlines() if ln.strip()]
            m_rc = re.search(r"Exit code: (-?\d+)", text)
            reason = lines[-1] if lines else f"exit code {m_rc.group(1) if m_rc else '?'}, no message"
        elif isinstance(exc, OSError):
            reason = f"cannot run {self.submit!r} ({exc.strerror or exc})"
        elif isinstance(exc, ValueError) and "job id" in text:
            reason = "could not read a job id from the output of " + repr(self.submit)
        else:
            return
        self.errors.append(reason)

    def __enter__(self):
        for name in self._LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc):
        for name in self._LOGGERS:
            logging.getLogger(name).removeHandler(self)


def _n_workers(client) -> int:
    return len(client.nthreads())


def _wait_for_workers(client, n_min: int, timeout: float, *, fail_fast=None) -> int:
    """Wait until ``n_min`` workers are connected or ``timeout`` s have passed; returns the
    number connected. ``fail_fast()`` is polled and may raise to stop waiting early."""
    # client.wait_for_workers raises distributed's WorkerStartTimeoutError, a TimeoutError
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _n_workers(client)
        try:
            client.wait_for_workers(n_min, timeout=min(1.0, remaining))
            return _n_workers(client)
        except TimeoutError:
            if fail_fast is not None:
                fail_fast()


@contextmanager
def _single_thread_environ() -> Iterator[None]:
    """Put SINGLE_THREAD_ENV into os.environ while the cluster lives: worker processes
    inherit it before they import numpy (Nanny(env=...) is applied too late for OpenBLAS)."""
    saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _worker_thread_env() -> Dict[str, Optional[str]]:
    return {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}


def _close_quietly(obj, what: str) -> None:
    if obj is None:
        return
    try:
        obj.close()
    except Exception as exc:  # teardown must go on; the original error matters more
        logger.warning("closing the %s failed: %s", what, exc)


@contextmanager
def open_client(
    kind: str = "local",
    *,
    scheduler: Optional[str] = None,
    workers: Optional[int] = None,
    min_workers: Optional[int] = None,
    wait_timeout: float = 120.0,
    jobqueue: Optional[Mapping[str, Any]] = None,
    log_dir: Optional[str] = None,
    dashboard_address: Optional[str] = ":0",
) -> Iterator["distributed.Client"]:  # noqa: F821
    """Yield a ``distributed.Client``; close what was created on exit (also on errors).

    kind
        ``local`` (default): a ``LocalCluster`` with ``workers`` (default: the cores this
        process may use) single-threaded worker processes. ``slurm`` / ``pbs`` / ``sge``: a
        dask-jobqueue cluster built from ``jobqueue`` (the ``[cluster]`` options: cores,
        processes, memory, walltime, queue, account, job_extra_directives,
        job_script_prologue, local_directory, log_directory, interface, ...; anything not
        given comes from dask's jobqueue configuration, see ``deploy/jobqueue.yaml``).
        ``processes`` defaults to ``cores`` (one single-threaded worker per core).
        ``jobqueue`` is ignored for ``local`` and ``scheduler`` (a configuration file may keep
        its batch settings while ``--cluster local`` overrides the kind).
    scheduler
        ``tcp://HOST:PORT`` / ``tls://HOST:PORT`` of a running scheduler: connect only; that
        scheduler and its workers are left running on exit. Only with ``kind="local"``.
    workers
        Worker processes to start (batch systems: rounded up to whole jobs; default one job).
        With ``scheduler``: how many of its workers to wait for (default 1).
    min_workers
        Workers that must have connected before the client is handed out (default: all of
        them for ``local``, 1 for a batch system or an external scheduler; more join later).
    wait_timeout
        Seconds to wait for ``min_workers``; then a one-line ``RuntimeError`` says what to check.
    log_dir
        Batch systems: directory of the worker jobs' output and of the submitted job script
        (default ``./dask-worker-logs``; ``log_directory`` in ``jobqueue`` wins).
    dashboard_address
        Dask dashboard of a cluster created here (``":0"``: a free port, ``None``: none).
    """
    kind, scheduler, n, n_min = _plan(kind, scheduler, workers, min_workers)
    wait_timeout = _check_timeout(wait_timeout)
    opts = _resolve_jobqueue(kind, jobqueue, log_dir) if (scheduler is None and kind in JOBQUEUE_KINDS) else None

    from distributed import Client

    if scheduler is not None:
        connect = min(wait_timeout, 30.0)
        try:
            client = Client(scheduler, timeout=f"{connect}s")
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(
                f"--scheduler={scheduler}: no Dask scheduler answered within {connect:g} s "
                f"({type(exc).__name__}); check the address and that the scheduler is running"
            ) from None
        try:
            got = _wait_for_workers(client, n_min, wait_timeout)
            if got < n_min:
                raise RuntimeError(
                    f"--scheduler={scheduler}: {'no' if got == 0 else f'only {got} of {n_min}'} Dask workers "
                    f"connected within {wait_timeout:g} s; start them with `dask worker {scheduler}` "
                    f"(with {' '.join(f'{k}=1' for k in SINGLE_THREAD_ENV)} in their environment)"
                )
            _warn_threaded_workers(client, scheduler)
            yield client
        finally:
            _close_quietly(client, "client")  # never the scheduler: we did not start it
        return

    with _single_thread_environ():
        cluster = client = None
        try:
            if kind == "local":
                from distributed import LocalCluster

                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    env=dict(SINGLE_THREAD_ENV),
                    dashboard_address=dashboard_address,
                )
                client = Client(cluster)
                got = _wait_for_workers(client, n_min, wait_timeout)
                if got < n_min:
                    raise RuntimeError(
                        f"--cluster=local: only {got} of {n_min} worker processes started within "
                        f"{wait_timeout:g} s; see the worker errors above"
                    )
            else:
                cls = _cluster_class(kind)
                submit = _SUBMIT_COMMAND[kind]
                processes = opts["processes"]
                n_req = n or processes
                jobs = math.ceil(n_req / processes)
                sched_opts = dict(_jobqueue_defaults(kind, "scheduler_options") or {})
                sched_opts.setdefault("dashboard_address", dashboard_address)
                sched_opts.update(opts.pop("scheduler_options", {}))
                log_directory = opts["log_directory"]
                with _SubmissionErrors(submit) as rejected:
                    cluster = cls(**opts, scheduler_options=sched_opts)
                    script_path = os.path.join(log_directory, f"{kind}-job-script.sh")
                    with open(script_path, "w", encoding="utf-8") as fh:
                        fh.write(cluster.job_script())
                    client = Client(cluster)
                    logger.info("submitting %d %s job(s) for %d worker(s); job script %s",
                                jobs, kind, n_req, script_path)
                    cluster.scale(n=n_req)

                    def fail_fast() -> None:
                        if not rejected.errors:
                            return
                        submitted = sum(1 for j in list(cluster.workers.values()) if getattr(j, "job_id", None))
                        if _n_workers(client) + submitted * processes < n_min:
                            raise RuntimeError(
                                f"--cluster={kind}: {submit} rejected the worker job: {rejected.errors[0]}; "
                                f"job script {script_path} (see deploy/README.md, 'No workers arrive')"
                            )

                    got = _wait_for_workers(client, n_min, wait_timeout, fail_fast=fail_fast)
                    if got < n_min:
                        what = "no Dask workers" if got == 0 else f"only {got} of {n_min} Dask workers"
                        said = f"; {submit} said: {rejected.errors[0]}" if rejected.errors else ""
                        job_ids = [str(j.job_id) for j in list(cluster.workers.values()) if getattr(j, "job_id", None)]
                        said += _job_log_hint(log_directory, job_ids)
                        raise RuntimeError(
                            f"--cluster={kind}: {what} arrived within {wait_timeout:g} s "
                            f"({jobs} job(s) asked for){said}; check `{_QUEUE_COMMAND[kind]}`, the job "
                            f"script {script_path} and the worker logs in {log_directory} "
                            f"(see deploy/README.md, 'No workers arrive')"
                        )
            logger.info("Dask dashboard: %s", client.dashboard_link)
            yield client
        finally:
            _close_quietly(client, "client")
            _close_quietly(cluster, "cluster")


def _job_log_hint(log_directory: str, job_ids) -> str:
    """'; <file> ends with: <line>' for the first worker-job log that names one of the
    submitted job ids and has text (a job that died at once, e.g. a wrong python path)."""
    try:
        names = sorted(os.listdir(log_directory))
    except OSError:
        return ""
    for job_id in job_ids:
        pattern = re.compile(rf"(^|[^0-9]){re.escape(job_id)}([^0-9]|$)")
        for name in names:
            if not pattern.search(name):
                continue
            path = os.path.join(log_directory, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = [ln.strip() for ln in fh.read()[-4000:].splitlines() if ln.strip()]
            except OSError:
                continue
            if lines:
                return f"; {path} ends with: {lines[-1][:300]}"
    return ""


def _warn_threaded_workers(client, scheduler: str) -> None:
    """Workers of an external scheduler are not ours to configure: warn when their
    numerical libraries may run multi-threaded (results may then differ in the last bits)."""
    try:
        envs = client.run(_worker_thread_env)
    except Exception:  # pragma: no cover - a worker left while we asked
        return
    bad = sorted({k for env in envs.values() for k, v in env.items() if v != "1"})
    if bad:
        warnings.warn(
            f"--scheduler={scheduler}: {len(envs)} worker(s) without {'=1, '.join(bad)}=1 in their "
            "environment; results may not be bit-identical to other clusters",
            RuntimeWarning,
            stacklevel=3,
        )
