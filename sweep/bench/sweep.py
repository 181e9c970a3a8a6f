"""Sweep benchmarks (``crustuq bench --only sweep``): scaling of the realistic example on 1 and 2
workers, the overhead outside the crust solves, the driver's memory growth from 10^3 to 10^4
samples, and the throughput per worker. Slow (about 7 minutes on 2 cores); ``--quick`` shrinks it."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from crustuq.sweep.bench import benchmark

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _rss_mb() -> float:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def _warm_worker() -> float:
    """Import the crust code and solve one tiny crust in a worker (the one-off start-up cost:
    imports, numba cache loads); returns its seconds."""
    t0 = time.perf_counter()
    import numpy as np

    from crustuq.models.cldm.surface import SurfaceParameters
    from crustuq.models.crust.profile import solve_crust
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.sweep import tasks  # noqa: F401

    solve_crust(np.array([1e-3, 1e-2]), [0.0], EmpiricalParameters.named("BSk24"),
                SurfaceParameters.named("BSk24-AME2020"))
    return time.perf_counter() - t0


def _run(cfg, store, workers):
    from crustuq.sweep.cluster import open_client
    from crustuq.sweep.driver import run_sweep

    with open_client("local", workers=workers, wait_timeout=120) as client:
        warm = client.run(_warm_worker)
        t0 = time.perf_counter()
        rep = run_sweep(cfg, store, client=client, progress=False)
        rep["wall"] = time.perf_counter() - t0
    rep["warmup"] = max(warm.values())
    return rep


def _peak_rss_during(fn):
    peak = [_rss_mb()]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out = fn()
    finally:
        stop.set()
        th.join()
    return out, peak[0]


@benchmark("sweep")
def bench_sweep(quick: bool = False) -> dict:
    from crustuq.sweep.config import load_config, parse_config

    cfg = load_config(EXAMPLES / "realistic.toml")
    if quick:
        cfg.sweep.n_samples = 100
    out = {"name": "sweep", "figure": "sweep scaling, overhead, driver memory, throughput",
           "config": "examples/realistic.toml" + (" (100 samples, --quick)" if quick else ""),
           "samples": cfg.sweep.n_samples, "temperatures": len(cfg.grid.T),
           "densities": int(len(cfg.grid.densities()))}
    with tempfile.TemporaryDirectory() as tmp:
        r1 = _run(cfg, Path(tmp) / "w1.zarr", 1)
        r2 = _run(cfg, Path(tmp) / "w2.zarr", 2)
    out["wall_1_worker_s"] = r1["wall"]
    out["wall_2_workers_s"] = r2["wall"]
    out["parallel_efficiency"] = r1["wall"] / (2.0 * r2["wall"])
    for tag, r, w in (("1_worker", r1, 1), ("2_workers", r2, 2)):
        busy = r["wall"] * w
        # overhead = time outside the model computations (crust solves and, in the preparation
        # tasks, sampling + per-sample surface fits): scheduling, Zarr reads/writes, masks, idle
        # (steady state: the workers were warmed up first; the one-off warm-up is reported apart
        # and folded in by overhead_fraction_incl_warmup_*)
        model = r["solve_seconds"] + r["prep_model_seconds"]
        out[f"overhead_fraction_{tag}"] = 1.0 - model / busy
        out[f"worker_warmup_s_{tag}"] = r["warmup"]
        out[f"overhead_fraction_incl_warmup_{tag}"] = 1.0 - model / (busy + w * r["warmup"])
        out[f"surface_fit_fraction_{tag}"] = r["prep_model_seconds"] / busy
        out[f"points_per_s_per_worker_{tag}"] = r["crust_points"] / busy
    out["crust_points"] = r1["crust_points"]
    # driver memory: a cheap sweep (one named set, 2 densities) with 10^3 and 10^4 samples
    base = {"sweep": {"name": "mem", "n_samples": 1000, "seed": 1, "block_size": 100},
            "parameters": {"source": "named", "set": "BSk24"},
            "surface": {"treatment": "fixed"},
            "grid": {"T": [0.0], "n_B": [1e-3, 1e-2]}}
    mem = {}
    with tempfile.TemporaryDirectory() as tmp:
        from crustuq.sweep.cluster import open_client
        from crustuq.sweep.driver import run_sweep

        with open_client("local", workers=2, wait_timeout=120) as client:
            for n in ((1000, 3000) if quick else (1000, 10000)):
                base["sweep"]["n_samples"] = n
                c = parse_config(base)
                before = _rss_mb()
                _, peak = _peak_rss_during(lambda: run_sweep(c, Path(tmp) / f"m{n}.zarr", client=client,
                                                             progress=False))
                mem[n] = peak - before
    (n_small, d_small), (n_big, d_big) = sorted(mem.items())
    out["driver_rss_growth_MB"] = {str(n_small): d_small, str(n_big): d_big}
    out["driver_rss_growth_difference_MB"] = d_big - d_small
    out["targets"] = {"parallel_efficiency": ">= 0.85", "overhead_fraction": "<= 0.05",
                      "driver_memory_growth_1e3_to_1e4": "< 50 MB"}
    out["meets_target"] = bool(out["parallel_efficiency"] >= 0.85 and out["overhead_fraction_2_workers"] <= 0.05
                               and out["driver_rss_growth_difference_MB"] < 50)
    return out
