"""The real HPC path: worker jobs submitted to a running Slurm through dask-jobqueue.

Needs a Slurm cluster with an idle node answering `sinfo` (on a workstation or in CI:
`sudo bash deploy/slurm_localhost.sh start`, see deploy/README.md). Without one, the
`slurm`-marked tests are SKIPPED, unless CRUSTUQ_REQUIRE_SLURM=1 (set by .ci/run), which
turns the skip into a failure so that CI cannot pass without having run them.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from crustuq.sweep.cluster import SINGLE_THREAD_ENV, open_client

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"

TESTS = Path(__file__).resolve().parent
# One-core worker jobs, so that a 2-core CI machine runs two at a time. The functions below
# are pickled by reference to this module ("test_slurm"), so the worker jobs need tests/ on
# their path (a real sweep's tasks live in crustuq.sweep, installed where the workers run).
SLURM_JOBQUEUE = {
    "cores": 1, "processes": 1, "memory": "1GB", "walltime": "00:15:00",
    "job_script_prologue": [f"export PYTHONPATH={TESTS}${{PYTHONPATH:+:$PYTHONPATH}}"],
}
WAIT = 180.0  # s: jobs of a parallel test (pytest -n 2) may have to queue behind ours
RESULT_TIMEOUT = 300  # s: a task whose worker died must fail the test, not hang it


@functools.lru_cache(maxsize=None)  # sinfo retries an absent controller for ~10 s: ask once
def _slurm_node_ready():
    """(True, '') when `sinfo` answers with an idle (or partly used) node, else (False, why)."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return False, "Slurm client commands (sinfo, sbatch) are not installed"
    try:
        res = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False, "sinfo did not answer within 20 s (is slurmctld running?)"
    if res.returncode != 0:
        said = (res.stderr or res.stdout).strip().splitlines()
        return False, f"sinfo failed ({said[-1] if said else f'exit code {res.returncode}'})"
    states = [ln.split()[-1] for ln in res.stdout.splitlines() if ln.strip()]
    if not any(s.rstrip("*~#") in ("idle", "mixed", "allocated", "completing") for s in states):
        return False, f"no usable Slurm node (sinfo states: {states or 'none'})"
    return True, ""


@pytest.fixture
def slurm_node():
    ok, why = _slurm_node_ready()
    if not ok:
        msg = f"{why}; start one with `sudo bash deploy/slurm_localhost.sh start`"
        if os.environ.get("CRUSTUQ_REQUIRE_SLURM") == "1":
            pytest.fail(f"CRUSTUQ_REQUIRE_SLURM=1 but {msg}", pytrace=False)
        pytest.skip(msg)  # no Slurm on this machine (a developer laptop); CI sets REQUIRE above


def _job_facts():
    return {
        "job_id": os.environ.get("SLURM_JOB_ID"),
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in SINGLE_THREAD_ENV},
    }


def _our_jobs_in_queue(job_ids):
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=20).stdout.split()
    return sorted(set(out) & set(job_ids))


def _wait_jobs_gone(job_ids, timeout=60.0):
    t0 = time.monotonic()
    while _our_jobs_in_queue(job_ids) and time.monotonic() - t0 < timeout:
        time.sleep(1)
    return _our_jobs_in_queue(job_ids)


@pytest.mark.slurm
def test_worker_jobs_run_under_slurm_and_are_cancelled_at_exit(slurm_node, tmp_path):
    logs = tmp_path / "logs"
    t0 = time.monotonic()
    with open_client("slurm", workers=2, min_workers=2, wait_timeout=WAIT,
                     jobqueue=dict(SLURM_JOBQUEUE, job_name=f"crustuq-test-{os.getpid()}"),
                     log_dir=str(logs)) as client:
        startup = time.monotonic() - t0
        job_ids = [str(j.job_id) for j in client.cluster.workers.values()]
        assert len(job_ids) == 2 and all(job_ids)
        assert _our_jobs_in_queue(job_ids) == sorted(job_ids)
        facts = client.run(_job_facts)
        assert sorted(f["job_id"] for f in facts.values()) == sorted(job_ids)  # one worker per job
        assert all(f["env"] == SINGLE_THREAD_ENV for f in facts.values()), facts
        futures = client.map(np.square, [np.arange(5.0) + i for i in range(6)])
        for fut, i in zip(futures, range(6)):
            assert np.array_equal(fut.result(timeout=RESULT_TIMEOUT), (np.arange(5.0) + i) ** 2)
            fut.release()
    print(f"SLURMCluster with 2 one-core jobs up in {startup:.1f} s")
    assert (logs / "slurm-job-script.sh").is_file()
    assert _wait_jobs_gone(job_ids) == [], "worker jobs still queued after the client closed"


def _assert_bit_identical(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.tobytes() != b.tobytes():
        differ = sum(x.tobytes() != y.tobytes() for x, y in zip(a.ravel(), b.ravel()))
        pytest.fail(f"{differ} of {a.size} values differ in their bits")


# wall-clock bookkeeping of a sweep store (sweep/store.py): legitimately differs between runs
TIMING_ARRAYS = frozenset({"task_seconds", "prep_seconds"})


def _assert_stores_bit_identical(path_a, path_b, exclude=TIMING_ARRAYS):
    """Every array of two Zarr stores, except the timing ones, is bit-identical (NaNs included)."""
    import zarr

    ga, gb = zarr.open_group(str(path_a), mode="r"), zarr.open_group(str(path_b), mode="r")
    arrays_a = {name: m for name, m in ga.members(max_depth=None)
                if isinstance(m, zarr.Array) and name.rsplit("/", 1)[-1] not in exclude}
    arrays_b = {name: m for name, m in gb.members(max_depth=None)
                if isinstance(m, zarr.Array) and name.rsplit("/", 1)[-1] not in exclude}
    assert sorted(arrays_a) == sorted(arrays_b)
    assert arrays_a, "no arrays in the store"
    for name in arrays_a:
        _assert_bit_identical(arrays_a[name][...], arrays_b[name][...])


def _small_sweep_config():
    """A small real sweep: 4 prior samples with per-sample surface fits x 2 temperatures x 12
    densities, blocks of 2 samples (tasks of ~1-2 s)."""
    from crustuq.sweep.config import parse_config

    return parse_config({
        "sweep": {"name": "slurm-check", "n_samples": 4, "seed": 11, "block_size": 2},
        "parameters": {"source": "prior", "prior": "margueron2018-gaussian", "sampling": "sobol"},
        "surface": {"treatment": "refit", "target": "AME2020"},
        "grid": {"T": [0.0, 1.0], "n_B": {"start": 1e-4, "stop": 0.08, "num": 12}},
    })


@pytest.mark.slurm
def test_sweep_through_slurm_is_bit_identical_to_local_cluster(slurm_node, tmp_path):
    """The same small sweep into two stores, one through SLURMCluster, one on the embedded
    LocalCluster; every stored array (except wall-clock timings) must be bit-identical."""
    from crustuq.sweep.driver import run_sweep

    config = _small_sweep_config()
    run_sweep(config, tmp_path / "local.zarr", cluster="local", workers=2, progress=False)
    run_sweep(config, tmp_path / "slurm.zarr", cluster="slurm", workers=2, progress=False,
              jobqueue=dict(SLURM_JOBQUEUE, job_name=f"crustuq-test-{os.getpid()}"),
              log_dir=str(tmp_path / "logs"), wait_timeout=WAIT)
    _assert_stores_bit_identical(tmp_path / "local.zarr", tmp_path / "slurm.zarr")


def test_slurm_localhost_script_checks_its_arguments():
    # always runs: the script parses and rejects an unknown action without touching anything
    script = DEPLOY / "slurm_localhost.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    res = subprocess.run(["bash", str(script), "restart-everything"], capture_output=True, text=True)
    assert res.returncode == 2 and "usage: bash deploy/slurm_localhost.sh start|stop|status" in res.stderr
