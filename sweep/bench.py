"""Benchmarks behind ``crustuq bench``. Each returns a JSON-able dict of figures.

Timings are the best of a few repetitions after a warm-up, on one core (numpy element-wise
work is single-threaded). Speed targets are recorded next to the figure; nothing here is a
test (timed tests are forbidden in this project: targets live here).
"""

from __future__ import annotations

import os
import platform
import time
from typing import Callable

import numpy as np

BENCHMARKS: dict[str, Callable[[bool], dict]] = {}


def benchmark(name: str):
    def deco(fn):
        BENCHMARKS[name] = fn
        return fn
    return deco


def _best_time(fn, repeat: int = 3) -> float:
    fn()  # warm-up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or "unknown", "cpu_count": os.cpu_count()}


@benchmark("metamodel")
def bench_metamodel(quick: bool = False) -> dict:
    """Meta-model evaluations per second: f, mu_n, mu_p, P (and s) at finite T for 10^6
    random points (n_B in [1e-3, 0.3] fm^-3, delta in [-1, 1], T in [0.1, 5] MeV), BSk24."""
    from crustuq.models.matter.metamodel import meta_model

    n = 10**5 if quick else 10**6
    rng = np.random.default_rng(0)
    nb = rng.uniform(1e-3, 0.3, n)
    d = rng.uniform(-1.0, 1.0, n)
    T = rng.uniform(0.1, 5.0, n)
    nn, npp = 0.5 * nb * (1 + d), 0.5 * nb * (1 - d)
    mm = meta_model("BSk24")
    t = _best_time(lambda: mm.state(nn, npp, T))
    return {"name": "metamodel", "figure": "meta-model evaluations per second (finite T)",
            "points": n, "seconds": t, "value": n / t, "unit": "points/s", "target": 2e6,
            "meets_target": bool(n / t >= 2e6)}


#: feature modules that define more benchmarks with ``@benchmark(name)``
BENCH_MODULES: tuple[str, ...] = (
    "crustuq.sweep.posterior.bench_surface",
    "crustuq.sweep.bench_sweep",
)


def run(only: list[str] | None = None, quick: bool = False) -> list[dict]:
    import importlib

    for mod in BENCH_MODULES:
        importlib.import_module(mod)
    names = list(BENCHMARKS) if not only else only
    unknown = [k for k in names if k not in BENCHMARKS]
    if unknown:
        raise ValueError(f"--only={unknown[0]!r}: known benchmarks are {', '.join(BENCHMARKS)}")
    out = []
    for name in names:
        res = BENCHMARKS[name](quick)
        res["machine"] = machine()
        out.append(res)
    return out


def _crust_batch(kind: str, S: int, N: int):
    """Bulk samples and per-sample surface fits for the crust benchmarks."""
    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.cldm.surface_fit import fit_surface_batch
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.models.matter.priors import margueron2018_gaussian_prior

    if kind == "bsk24-like":
        # BSk24 with the symmetry-energy slope and curvature spread (L_sym +- 5, K_sym +- 30 MeV)
        rng = np.random.default_rng(1)
        arr = np.repeat(EmpiricalParameters.named("BSk24").to_array()[None], S, 0)
        arr[:, 6] += rng.normal(0, 5, S)
        arr[:, 7] += rng.normal(0, 30, S)
    else:
        arr = margueron2018_gaussian_prior().sample(S, seed=1)
    params = EmpiricalParameters.from_array(arr)
    fit = fit_surface_batch(params, target_set("AME2020"))
    return params, fit.surface_parameters(np.ones(S, dtype=bool))


@benchmark("crust")
def bench_crust(quick: bool = False) -> dict:
    """CLDM inner crust, batch API: 100 samples x 100 densities (3e-4..0.08 fm^-3) at T = 0
    and T = 1 MeV (solve_inner_crust: continuation ladder + all grid points), and the whole
    crust (solve_crust: outer crust, inner crust, transition, core) on 1e-4..0.1 fm^-3, for
    BSk24-like samples and for samples of the Margueron et al. (2018) Gaussian prior, each with
    its own least-squares surface fit."""
    from crustuq.models.crust.cldm_cell import CellOptions
    from crustuq.models.crust.inner import cell_model, solve_inner_crust
    from crustuq.models.crust.profile import solve_crust

    S, N = (20, 50) if quick else (100, 100)
    out = {"name": "crust", "figure": "CLDM crust points per second (one core)", "samples": S,
           "densities": N, "target_inner_T0_s": 1.0, "target_inner_T1_s": 3.0}
    for kind in ("bsk24-like", "gaussian-prior"):
        params, surface = _crust_batch(kind, S, N)
        model = cell_model(params, surface, CellOptions())
        nb = np.geomspace(3e-4, 0.08, N)
        for T in (0.0, 1.0):
            t = _best_time(lambda: solve_inner_crust(nb, T, model), repeat=1)
            out[f"{kind}_inner_T{T:g}_s"] = t
            out[f"{kind}_inner_T{T:g}_points_per_s"] = S * N / t
        grid = np.geomspace(1e-4, 0.1, N)
        t = _best_time(lambda: solve_crust(grid, [0.0], params, surface), repeat=1)
        out[f"{kind}_full_crust_T0_s"] = t
        out[f"{kind}_full_crust_T0_points_per_s"] = S * N / t
    out["meets_target"] = bool(out["bsk24-like_inner_T0_s"] <= 1.0 and out["bsk24-like_inner_T1_s"] <= 3.0)
    return out
