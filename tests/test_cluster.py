"""The cluster layer (crustuq.sweep.cluster): local cluster, external scheduler, dask-jobqueue
clusters waiting for workers, job scripts, bad input. Fast; needs no batch system (fake
sbatch/qsub commands stand in for one)."""

from __future__ import annotations

import ctypes
import glob
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dask
import pytest
import yaml

from crustuq.sweep import cluster as cl
from crustuq.sweep.cluster import SINGLE_THREAD_ENV, open_client

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _square(x):
    return x * x


def _worker_env():
    return {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}


def _openblas_threads():
    """Threads numpy's bundled OpenBLAS uses in this process, or None if not found."""
    import numpy

    libdir = os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "libscipy_openblas*.so*")) + glob.glob(
        os.path.join(libdir, "libopenblas*.so*")
    ):
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(lib, sym):
                return int(getattr(lib, sym)())
    return None


# ---------------------------------------------------------------- local


def test_local_cluster_two_single_threaded_worker_processes(monkeypatch):
    # a user shell with multi-threaded settings must not leak into the workers
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    with open_client("local", workers=2, wait_timeout=60) as client:
        cluster = client.cluster
        assert client.submit(_square, 7).result() == 49
        assert list(client.nthreads().values()) == [1, 1]  # two workers, one thread each
        pids = client.run(os.getpid)
        assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()  # processes
        envs = client.run(_worker_env)
        assert all(env == SINGLE_THREAD_ENV for env in envs.values()), envs
        # the variables must be there before numpy loads OpenBLAS, not just set later
        threads = client.run(_openblas_threads)
        if None not in threads.values():
            assert set(threads.values()) == {1}, threads
    assert cluster.status.name == "closed"
    # the driver's own environment is given back
    assert os.environ["OMP_NUM_THREADS"] == "2" and "NUMBA_NUM_THREADS" not in os.environ


def test_error_inside_the_block_tears_the_cluster_down():
    with pytest.raises(ZeroDivisionError):
        with open_client("local", workers=1, wait_timeout=60) as client:
            cluster = client.cluster
            1 / 0
    assert cluster.status.name == "closed"
    assert client.status == "closed"


# ---------------------------------------------------------------- external scheduler


@pytest.fixture
def external_cluster():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None)
    yield cluster
    cluster.close()


def test_external_scheduler_is_used_and_left_running(external_cluster, monkeypatch):
    for k, v in SINGLE_THREAD_ENV.items():  # in-process worker: its env is ours
        monkeypatch.setenv(k, v)
    address = external_cluster.scheduler_address
    with open_client(scheduler=address, wait_timeout=30) as client:
        assert client.cluster is None
        assert client.scheduler.address == address
        assert client.submit(_square, 3).result() == 9
    assert external_cluster.status.name == "running"
    from distributed import Client

    with Client(address, timeout="10s") as again:  # scheduler and worker still there
        assert len(again.nthreads()) == 1
        assert again.submit(_square, 4).result() == 16


def test_external_multithreaded_workers_are_warned_about(external_cluster, monkeypatch):
    for k in SINGLE_THREAD_ENV:
        monkeypatch.delenv(k, raising=False)
    with pytest.warns(RuntimeWarning, match="bit-identical"):
        with open_client(scheduler=external_cluster.scheduler_address, wait_timeout=30):
            pass


def test_external_scheduler_without_workers_times_out_clearly():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None) as empty:
        t0 = time.monotonic()
        with pytest.raises(RuntimeError) as err:
            with open_client(scheduler=empty.scheduler_address, wait_timeout=2):
                pass
        assert time.monotonic() - t0 < 15
        msg = str(err.value)
        assert "\n" not in msg
        assert "no Dask workers connected within 2 s" in msg and "dask worker" in msg
        assert empty.status.name == "running"


def test_unreachable_scheduler_is_reported_in_one_line():
    with pytest.raises(RuntimeError, match=r"--scheduler=tcp://127.0.0.1:9: no Dask scheduler answered") as err:
        with open_client(scheduler="tcp://127.0.0.1:9", wait_timeout=2):
            pass
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- batch systems (fake commands)

# what each batch system's submit command prints on success, and its cancel command
_FAKE = {
    "slurm": ("sbatch", "Submitted batch job 4242", "scancel"),
    "pbs": ("qsub", "4242.pbs-server", "qdel"),
    "sge": ("qsub", 'Your job 4242 ("crustuq-worker") has been submitted', "qdel"),
}


def _fake_batch_system(tmp_path, kind, *, accept=True, message="") -> Path:
    """A folder with a submit command that accepts (and never runs) or rejects jobs, and a
    cancel command that records its arguments in cancelled.txt."""
    submit, out, cancel = _FAKE[kind]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    if accept:
        body = f"cp \"$1\" {tmp_path}/submitted.sh\necho '{out}'\n"
    else:
        body = f"echo '{message}' >&2\nexit 1\n"
    for name, text in ((submit, body), (cancel, f"echo \"$@\" >> {tmp_path}/cancelled.txt\n")):
        path = bindir / name
        path.write_text("#!/bin/sh\n" + text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return bindir


JQ = {"cores": 2, "memory": "1GB", "walltime": "00:05:00"}


@pytest.mark.parametrize("kind", ["slurm", "pbs", "sge"])
def test_queued_job_that_never_starts_times_out_with_a_clear_message(tmp_path, monkeypatch, kind):
    bindir = _fake_batch_system(tmp_path, kind)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    logs = tmp_path / "logs"
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        with open_client(kind, workers=4, wait_timeout=3, jobqueue=JQ, log_dir=str(logs)):
            pass
    elapsed = time.monotonic() - t0
    assert elapsed < 30
    msg = str(err.value)
    assert "\n" not in msg
    assert f"--cluster={kind}: no Dask workers arrived within 3 s (2 job(s) asked for)" in msg
    assert ("squeue" if kind == "slurm" else "qstat") in msg
    script = logs / f"{kind}-job-script.sh"
    assert str(script) in msg and script.is_file()
    text = script.read_text()
    directive = {"slurm": "#SBATCH", "pbs": "#PBS", "sge": "#$"}[kind]
    assert directive in text and "--nthreads 1" in text and "--nworkers 2" in text
    for k in SINGLE_THREAD_ENV:
        assert f"export {k}=1" in text
    # the script really handed to the submit command is the one saved
    submitted = (tmp_path / "submitted.sh").read_text()
    assert submitted.replace(submitted.split("--name ")[1].split()[0], "X") == text.replace(
        text.split("--name ")[1].split()[0], "X"
    )
    # the jobs we submitted are cancelled on the way out
    cancelled = (tmp_path / "cancelled.txt").read_text().split()
    assert "4242" in cancelled


def test_rejected_submission_fails_fast_with_what_the_batch_system_said(tmp_path, monkeypatch):
    reason = "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified"
    bindir = _fake_batch_system(tmp_path, "slurm", accept=False, message=reason)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        with open_client("slurm", wait_timeout=60, jobqueue=dict(JQ, account="nope"), log_dir=str(tmp_path / "logs")):
            pass
    assert time.monotonic() - t0 < 30  # did not sit out the 60 s
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("--cluster=slurm: sbatch rejected the worker job: " + reason)
    assert str(tmp_path / "logs" / "slurm-job-script.sh") in msg


def test_missing_submit_command_is_reported(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no qsub anywhere
    with pytest.raises(RuntimeError, match=r"--cluster=pbs: qsub rejected the worker job: cannot run 'qsub'"):
        with open_client("pbs", wait_timeout=30, jobqueue=JQ, log_dir=str(tmp_path / "logs")):
            pass


def test_dead_job_log_is_quoted_in_the_timeout_message(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "crustuq-worker-4242.err").write_text("starting\n/x/slurm_script: line 14: /nope/python: No such file or directory\n")
    (logs / "crustuq-worker-14242.err").write_text("other job\n")
    hint = cl._job_log_hint(str(logs), ["4242"])
    assert hint.endswith("ends with: /x/slurm_script: line 14: /nope/python: No such file or directory")
    assert cl._job_log_hint(str(logs), ["99"]) == ""


# ---------------------------------------------------------------- job scripts, descriptions


def test_job_script_for_a_dry_run(tmp_path):
    logs = tmp_path / "not" / "yet"
    text = cl.job_script(
        "slurm",
        jobqueue={"cores": 4, "memory": "8GiB", "walltime": "1-00:00:00", "account": "nsphys",
                  "queue": "compute", "job-extra-directives": ["--constraint=cpu"],
                  "job_script_prologue": ["module load python/3.11"]},
        log_dir=str(logs),
    )
    lines = text.splitlines()
    for line in ("#SBATCH -A nsphys", "#SBATCH -p compute", "#SBATCH --cpus-per-task=4",
                 "#SBATCH --mem=8G", "#SBATCH -t 1-00:00:00", "#SBATCH --constraint=cpu",
                 f"#SBATCH -o {logs}/crustuq-worker-%J.out"):
        assert line in lines, line
    # the user's prologue first, then the single-thread exports
    assert lines.index("module load python/3.11") < lines.index("export OMP_NUM_THREADS=1")
    assert "--nthreads 1" in text and "--nworkers 4" in text and sys.executable in text
    assert not (tmp_path / "not").exists()  # a dry run creates nothing


def test_processes_other_than_cores():
    text = cl.job_script("pbs", jobqueue={"cores": 8, "processes": 2, "memory": "16GB"})
    assert "--nthreads 4" in text and "--nworkers 2" in text


def test_describe():
    assert cl.describe("local", workers=3).startswith("LocalCluster with 3 single-threaded worker processes")
    assert "tcp://h:1" in cl.describe(scheduler="tcp://h:1")
    d = cl.describe("slurm", workers=5, jobqueue={"cores": 2, "memory": "4GB"})
    assert d.startswith("SLURMCluster: 5 worker processes in 3 job(s) of 2 cores / 2 processes / 4GB each")


def test_cluster_section_is_split_into_arguments():
    kw = cl.cluster_kwargs({"kind": "slurm", "workers": 8, "wait-timeout": 300, "cores": 4,
                            "memory": "8GB", "job-extra-directives": ["--exclusive"]})
    assert kw == {"kind": "slurm", "workers": 8, "wait_timeout": 300,
                  "jobqueue": {"cores": 4, "memory": "8GB", "job-extra-directives": ["--exclusive"]}}
    assert cl.cluster_kwargs(None) == {}


# ---------------------------------------------------------------- deploy/jobqueue.yaml


def _dask_jobqueue_own_keys(kind):
    import dask_jobqueue

    with open(os.path.join(os.path.dirname(dask_jobqueue.__file__), "jobqueue.yaml")) as fh:
        return set(yaml.safe_load(fh)["jobqueue"][kind])


@pytest.mark.parametrize("kind", ["slurm", "pbs", "sge"])
def test_deploy_jobqueue_yaml_is_dask_jobqueue_configuration(kind):
    doc = yaml.safe_load((DEPLOY / "jobqueue.yaml").read_text())
    keys = set(doc["jobqueue"][kind])
    assert keys <= _dask_jobqueue_own_keys(kind), keys - _dask_jobqueue_own_keys(kind)
    table = cl.load_jobqueue_yaml(str(DEPLOY / "jobqueue.yaml"), kind)
    assert table["cores"] == table["processes"]  # the documented advice
    text = cl.job_script(kind, jobqueue=table)
    assert "--nthreads 1" in text


def test_dask_config_supplies_defaults(tmp_path):
    # the same YAML, loaded as dask configuration, is used when the [cluster] table is silent
    with dask.config.set({"jobqueue.pbs.cores": 6, "jobqueue.pbs.memory": "12GB",
                          "jobqueue.pbs.queue": "workq"}):
        text = cl.job_script("pbs", jobqueue={})
    assert "#PBS -q workq" in text and "ncpus=6" in text and "--nworkers 6" in text


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, starts",
    [
        ({"kind": "kubernetes"}, "--cluster='kubernetes': allowed are local, slurm, pbs, sge"),
        ({"workers": 0}, "--workers=0: must be an integer >= 1"),
        ({"workers": 2.5}, "--workers=2.5: must be an integer >= 1"),
        ({"workers": True}, "--workers=True: must be an integer >= 1"),
        ({"min_workers": 3, "workers": 2}, "--min-workers=3: must not exceed --workers=2"),
        ({"wait_timeout": 0}, "--wait-timeout=0: must be a finite number of seconds > 0"),
        ({"wait_timeout": -5.0}, "--wait-timeout=-5.0"),
        ({"wait_timeout": float("nan")}, "--wait-timeout=nan"),
        ({"wait_timeout": float("inf")}, "--wait-timeout=inf"),
        ({"scheduler": "localhost:8786"}, "--scheduler='localhost:8786': give the address"),
        ({"scheduler": "http://h:8786"}, "--scheduler='http://h:8786'"),
        ({"scheduler": "tcp://h"}, "--scheduler='tcp://h'"),
        ({"kind": "slurm", "scheduler": "tcp://h:1"}, "--scheduler='tcp://h:1': cannot be combined with --cluster='slurm'"),
        ({"kind": "slurm", "jobqueue": {"cores": 2, "memory": "1GB", "gpus": 1}}, "[cluster] gpus=1: unknown option for --cluster slurm"),
        ({"kind": "sge", "jobqueue": {"cores": 2, "memory": "1GB", "account": "a"}}, "[cluster] account='a': unknown option for --cluster sge"),
        ({"kind": "slurm", "jobqueue": {"cores": 0, "memory": "1GB"}}, "[cluster] cores=0: must be an integer >= 1"),
        ({"kind": "slurm", "jobqueue": {"cores": 4, "processes": 3, "memory": "1GB"}}, "[cluster] processes=3: must divide cores=4"),
        ({"kind": "slurm", "jobqueue": {"cores": 2, "processes": 4, "memory": "1GB"}}, "[cluster] processes=4: must divide cores=2"),
        ({"kind": "pbs", "jobqueue": {"cores": 2, "memory": "lots"}}, "[cluster] memory='lots': must be a memory size"),
        ({"kind": "slurm", "jobqueue": {"cores": 2, "memory": "1GB", "walltime": "4 hours"}}, "[cluster] walltime='4 hours': must be a wall time"),
        ({"kind": "slurm", "jobqueue": {"cores": 2, "memory": "1GB", "job_extra_directives": "--exclusive"}}, "[cluster] job_extra_directives='--exclusive': must be a list of strings"),
        ({"kind": "slurm", "jobqueue": {"cores": 2, "memory": "1GB", "death-timeout": -1}}, "[cluster] death-timeout=-1: must be a number > 0"),
        ({"kind": "slurm", "jobqueue": ["cores", 2]}, "[cluster]=['cores', 2]: must be a table"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(kwargs, starts):
    kind = kwargs.pop("kind", "local")
    with pytest.raises(ValueError) as err:
        with open_client(kind, **kwargs):
            pytest.fail("must not get a client")
    msg = str(err.value)
    assert msg.startswith(starts), msg
    assert "\n" not in msg


def test_cores_and_memory_are_required_for_batch_systems():
    with dask.config.set({"jobqueue.slurm.cores": None, "jobqueue.slurm.memory": None}):
        with pytest.raises(ValueError) as err:
            cl.job_script("slurm", jobqueue={"memory": "1GB"})
    msg = str(err.value)
    assert msg.startswith("[cluster] cores: required for --cluster slurm") and "\n" not in msg
    with pytest.raises(ValueError, match=r"^--cluster='local': a job script exists only for slurm, pbs, sge$"):
        cl.job_script("local")


def test_bad_jobqueue_yaml(tmp_path):
    bad = tmp_path / "j.yaml"
    bad.write_text("jobqueue:\n  slurm: [1, 2\n")
    with pytest.raises(ValueError, match=r"^--jobqueue-config=.*: not valid YAML"):
        cl.load_jobqueue_yaml(str(bad), "slurm")
    with pytest.raises(ValueError, match=r"^--jobqueue-config=.*: has no jobqueue.pbs table$"):
        cl.load_jobqueue_yaml(str(_write(tmp_path, "jobqueue: {slurm: {cores: 1}}")), "pbs")
    with pytest.raises(ValueError, match=r"^--jobqueue-config=.*: cannot read it"):
        cl.load_jobqueue_yaml(str(tmp_path / "missing.yaml"), "slurm")


def _write(tmp_path, text):
    p = tmp_path / "other.yaml"
    p.write_text(text)
    return p


# ---------------------------------------------------------------- Ctrl-C


def test_importing_dask_jobqueue_does_not_turn_ctrl_c_into_success():
    # dask_jobqueue.runner sets SIGINT -> sys.exit() (status 0) at import; we undo that
    code = textwrap.dedent(
        """
        import signal
        from crustuq.sweep import cluster
        cluster.job_script("slurm", jobqueue={"cores": 1, "memory": "1GB"})
        a = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        import dask_jobqueue.runner, importlib
        importlib.reload(dask_jobqueue.runner)          # clobbered again by someone else
        cluster.describe("slurm", jobqueue={"cores": 1, "memory": "1GB"})
        b = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        print(a, b)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_ctrl_c_while_waiting_for_workers_cancels_the_jobs(tmp_path):
    bindir = _fake_batch_system(tmp_path, "slurm")
    code = textwrap.dedent(
        f"""
        from crustuq.sweep.cluster import open_client
        if __name__ == "__main__":
            with open_client("slurm", wait_timeout=120, jobqueue={{"cores": 1, "memory": "1GB"}},
                             log_dir={str(tmp_path / "logs")!r}):
                pass
        """
    )
    script = tmp_path / "driver.py"
    script.write_text(code)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.monotonic()
        while not (tmp_path / "submitted.sh").exists() and time.monotonic() - t0 < 60:
            time.sleep(0.2)
        assert (tmp_path / "submitted.sh").exists(), "the fake sbatch was never called"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0, out  # an interrupted sweep must not look successful
    assert "KeyboardInterrupt" in out
    assert "4242" in (tmp_path / "cancelled.txt").read_text().split()
