"""The sweep engine on a LocalCluster: store layout, bit-identical results whatever the block
size, the number of workers or the interruptions (a killed worker, a killed driver), resume
computing only the missing blocks, the lock against a second driver, the status report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import zarr

from crustuq.sweep.config import load_config
from crustuq.sweep.driver import LOCK_NAME, run_sweep, sweep_status
from crustuq.sweep.store import open_store

TOML = """
[sweep]
name = "test"
n_samples = 6
seed = 5
block_size = {block}

[parameters]
source = "prior"
prior = "margueron2018-gaussian"
sampling = "sobol"

[surface]
treatment = "refit"
target = "AME2020"

[grid]
T = [0.0, 1.0]
n_B = {{ start = 1e-4, stop = 0.08, num = 10 }}
"""
TIMING = {"task_seconds", "prep_seconds"}


def _config(tmp_path, block=2, name="c.toml"):
    path = tmp_path / name
    path.write_text(TOML.format(block=block))
    return load_config(path), path


@pytest.fixture(scope="module")
def client():
    from crustuq.sweep.cluster import open_client

    with open_client("local", workers=2, wait_timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def reference(tmp_path_factory, client):
    """The uninterrupted sweep, block size 2, two workers."""
    tmp = tmp_path_factory.mktemp("ref")
    cfg, _ = _config(tmp)
    store = tmp / "ref.zarr"
    report = run_sweep(cfg, store, client=client, progress=False)
    return store, report


def _assert_same(a, b):
    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    names = sorted(n for n, m in ga.members() if isinstance(m, zarr.Array) and n not in TIMING)
    assert names == sorted(n for n, m in gb.members() if isinstance(m, zarr.Array) and n not in TIMING)
    block_dependent = {"block", "done", "prep_done"}  # bookkeeping arrays sized by the block count
    for n in names:
        if n in block_dependent and ga[n].shape != gb[n].shape:
            if n != "block":  # done masks: complete in both
                assert np.all(ga[n][...] == 1) and np.all(gb[n][...] == 1), n
            continue
        x, y = ga[n][...], gb[n][...]
        assert x.dtype == y.dtype and x.shape == y.shape, n
        assert x.tobytes() == y.tobytes(), f"{n} differs"


def test_store_layout_and_contents(reference):
    store, report = reference
    assert report["crust_tasks"] == 6 and report["prep_tasks"] == 3
    ds = open_store(store)
    assert ds["Z"].dims == ("sample", "T", "n_B") and ds.sizes == {"sample": 6, "T": 2, "n_B": 10, "block": 3}
    for k in ("P", "status", "layer", "residual", "n_t", "param_L_sym", "surface_sigma0", "filter_passed",
              "filter_code", "done"):
        assert k in ds
    assert int(ds["done"].sum()) == 6
    assert json.loads(ds.attrs["crustuq_config"])["sweep"]["n_samples"] == 6
    assert ds.attrs["package_versions"]["numpy"] and ds.attrs["code_version"].startswith(ds.attrs["package_versions"]["crustuq"])
    # every computed point has a status; points of filtered samples are INVALID (4), not silent NaN
    st = ds["status"].values
    assert np.all(st >= 0)
    passed = ds["filter_passed"].values
    assert np.all(st[~passed] == 4)
    conv = st == 0
    assert np.all(np.isfinite(ds["P"].values[conv]))
    # the surface parameters are each sample's own fit: they differ between samples
    assert np.unique(ds["surface_sigma0"].values[passed]).size == passed.sum()


def test_bit_identical_whatever_block_size_and_number_of_workers(reference, tmp_path):
    from crustuq.sweep.cluster import open_client

    store, _ = reference
    cfg3, _ = _config(tmp_path, block=3)
    with open_client("local", workers=1, wait_timeout=60) as one:
        run_sweep(cfg3, tmp_path / "b3w1.zarr", client=one, progress=False)
    _assert_same(store, tmp_path / "b3w1.zarr")


def test_killed_worker_does_not_change_the_result(reference, tmp_path, client):
    store, _ = reference
    cfg, _ = _config(tmp_path)
    out = tmp_path / "killed-worker.zarr"
    result = {}
    th = threading.Thread(target=lambda: result.update(run_sweep(cfg, out, client=client, progress=False)))
    th.start()
    # wait for the first finished task, then SIGKILL one worker process (its nanny restarts it)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        try:
            if zarr.open_group(str(out), mode="r")["prep_done"][...].sum() >= 1:
                break
        except Exception:
            pass
        time.sleep(0.05)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    th.join(timeout=240)
    assert not th.is_alive() and result, "the sweep did not complete after a worker was killed"
    _assert_same(store, out)


def _run_cli_driver(config_path, store, workers=1):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "crustuq.sweep.cli", "sweep", "run", str(config_path),
                             "--store", str(store), "--workers", str(workers), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)


def test_killed_driver_resume_computes_only_missing_blocks_and_second_driver_refuses(reference, tmp_path, client):
    store_ref, _ = reference
    cfg, path = _config(tmp_path)
    out = tmp_path / "killed-driver.zarr"
    proc = _run_cli_driver(path, out)
    try:
        # wait until some, not all, crust tasks are done
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            try:
                g = zarr.open_group(str(out), mode="r")
                n_done = int(g["done"][...].sum())
            except Exception:
                n_done = 0
            if n_done >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        # a second driver on the same store refuses while the first holds it
        with pytest.raises(ValueError, match="being written by another driver"):
            run_sweep(cfg, out, client=client, progress=False)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    g = zarr.open_group(str(out), mode="r")
    missing_crust = int((g["done"][...] == 0).sum())
    missing_prep = int((g["prep_done"][...] == 0).sum())
    assert 0 < missing_crust < 6, "the driver must be killed mid-sweep"
    assert (out / LOCK_NAME).exists()  # left behind by the killed driver
    report = run_sweep(cfg, out, client=client, progress=False, require_existing=True)
    assert report["crust_tasks"] == missing_crust and report["prep_tasks"] == missing_prep
    assert not (out / LOCK_NAME).exists()
    _assert_same(store_ref, out)
    st = sweep_status(out)
    assert st["complete"] and st["runs"] == 2
    assert sum(st["filter"].values()) == 6


def test_rerun_with_other_configuration_refuses_and_same_configuration_is_a_noop(reference, tmp_path, client):
    store, _ = reference
    cfg, _ = _config(tmp_path)
    report = run_sweep(cfg, store, client=client, progress=False)
    assert report["crust_tasks"] == 0 and report["prep_tasks"] == 0
    other = cfg.model_copy(deep=True)
    other.grid.T = [0.0, 2.0]
    with pytest.raises(ValueError, match=r"different configuration \(first difference: grid.T"):
        run_sweep(other, store, client=client, progress=False)


def test_cli_status_and_resume_of_a_complete_store(reference, capsys):
    from crustuq.sweep.cli import main

    store, _ = reference
    assert main(["sweep", "status", str(store)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["complete"] and out["completed_blocks_per_T"] == {"0": 3, "1": 3}
    assert main(["sweep", "status", str(store.parent / "nope.zarr")]) == 2
    assert "not found" in capsys.readouterr().err


def test_concurrent_store_io_equals_one_by_one_io(tmp_path):
    """read_arrays/write_arrays (concurrent, zarr's async API) and their fallback inside a running
    event loop (one array at a time) write and read the same chunks."""
    import asyncio

    import zarr

    from crustuq.sweep.store import read_arrays, write_arrays

    rng = np.random.default_rng(0)
    vals = {k: rng.normal(size=(4, 1, 5)) for k in ("a", "b", "c")}
    for where in ("plain", "in_loop"):
        path = tmp_path / f"{where}.zarr"
        g = zarr.open_group(str(path), mode="w", zarr_format=3)
        for k in vals:
            g.create_array(k, shape=(8, 2, 5), chunks=(4, 1, 5), dtype="f8", fill_value=np.nan,
                           dimension_names=("sample", "T", "n_B"))
        sel = (slice(4, 8), slice(1, 2), slice(None))
        writes = {k: (sel, v) for k, v in vals.items()}
        if where == "plain":
            write_arrays(path, writes)
            got = read_arrays(path, {k: sel for k in vals})
        else:
            async def inside():
                write_arrays(path, writes)
                return read_arrays(path, {k: sel for k in vals})
            got = asyncio.run(inside())
        for k, v in vals.items():
            assert np.array_equal(got[k], v)
            full = zarr.open_group(str(path), mode="r")[k][:]
            assert np.isnan(full[:4]).all() and np.isnan(full[4:, 0]).all()
    with pytest.raises(ValueError, match="'a'"):
        write_arrays(tmp_path / "plain.zarr", {"a": (sel, None)})
