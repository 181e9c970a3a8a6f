"""Benchmarks of the surface-parameter fits (``crustuq bench --only surface_logprob`` ...).

Registered with :func:`crustuq.sweep.bench.benchmark` (listed in ``BENCH_MODULES``). Targets (issue 4):

* ``surface_logprob``: one vectorised log-probability call, 32 walkers, full AME2020 target
  set (2457 nuclei), p fixed: <= 1 ms;
* ``surface_emcee``: 32 walkers x 5000 steps into a Zarr store (incl. the writes and the
  least-squares start): <= 30 s;
* ``surface_lsq_batch``: per-bulk-sample least-squares fits of 1000 Carreau et al. (2019)
  prior samples to AME2020: <= 60 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from crustuq.sweep.bench import benchmark, best_time


def _config(nwalkers=32, seed=1):
    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.sweep.posterior.surface_posterior import make_config

    return make_config(EmpiricalParameters.named("BSk24"), target_set("AME2020"), nwalkers=nwalkers, seed=seed)


@benchmark("surface_logprob")
def bench_surface_logprob(quick: bool = False) -> dict:
    """One log-probability call for 32 walkers over the AME2020 target set (p fixed, sigma_model free)."""
    from crustuq.sweep.posterior.surface_posterior import SurfaceLogProb, initial_walkers

    cfg = _config()
    lp = SurfaceLogProb(cfg)
    x = initial_walkers(cfg, lp)
    reps = 200 if quick else 2000

    def run():
        for _ in range(reps):
            lp(x)

    t = best_time(run) / reps
    return {"name": "surface_logprob", "figure": "seconds per vectorised log-probability call (32 walkers, "
            f"{lp.n} nuclei)", "walkers": 32, "nuclei": lp.n, "seconds": t, "value": t * 1e3, "unit": "ms",
            "target": 1.0, "meets_target": bool(t * 1e3 <= 1.0)}


@benchmark("surface_emcee")
def bench_surface_emcee(quick: bool = False) -> dict:
    """32 walkers x 5000 steps (500 with --quick) of the AME2020 surface posterior into Zarr."""
    from crustuq.sweep.posterior.surface_posterior import run_surface_posterior

    steps = 500 if quick else 5000
    cfg = _config()
    tmp = Path(tempfile.mkdtemp(prefix="crustuq-bench-"))
    try:
        t0 = time.perf_counter()
        be = run_surface_posterior(cfg, tmp / "chain.zarr", steps)
        t = time.perf_counter() - t0
        s = be.group.attrs["summary"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    target = 30.0 * steps / 5000
    return {"name": "surface_emcee", "figure": f"seconds for 32 walkers x {steps} steps incl. Zarr writes",
            "steps": steps, "walkers": 32, "seconds": t, "value": t, "unit": "s", "target": target,
            "meets_target": bool(t <= target), "max_autocorr_time": max(s["autocorr_time"]),
            "converged": s["converged"]}


@benchmark("surface_lsq_batch")
def bench_surface_lsq_batch(quick: bool = False) -> dict:
    """Per-bulk-sample least-squares surface fits (variable projection) of 1000 prior samples."""
    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.cldm.surface_fit import fit_surface_batch
    from crustuq.models.matter.priors import carreau2019_uniform_prior

    n = 100 if quick else 1000
    X = carreau2019_uniform_prior().sample(n, 7)
    ts = target_set("AME2020")
    t0 = time.perf_counter()
    res = fit_surface_batch(X, ts)
    t = time.perf_counter() - t0
    target = 60.0 * n / 1000
    return {"name": "surface_lsq_batch", "figure": f"seconds for {n} per-sample surface fits ({len(ts)} nuclei)",
            "samples": n, "seconds": t, "value": t, "unit": "s", "target": target, "meets_target": bool(t <= target),
            "status_counts": res.status_counts(), "median_rms_MeV": float(np.nanmedian(res.rms_MeV))}
