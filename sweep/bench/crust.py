"""CLDM crust benchmarks (``crustuq bench --only crust``); times are CPU seconds (wall beside)."""

from __future__ import annotations

import numpy as np

from crustuq.sweep.bench import benchmark, best_times


def crust_batch(kind: str, S: int, N: int):
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
        params, surface = crust_batch(kind, S, N)
        model = cell_model(params, surface, CellOptions())
        nb = np.geomspace(3e-4, 0.08, N)
        for T in (0.0, 1.0):
            t, wall = best_times(lambda: solve_inner_crust(nb, T, model), repeat=1)
            out[f"{kind}_inner_T{T:g}_s"] = t
            out[f"{kind}_inner_T{T:g}_wall_s"] = wall
            out[f"{kind}_inner_T{T:g}_points_per_s"] = S * N / t
        grid = np.geomspace(1e-4, 0.1, N)
        t, wall = best_times(lambda: solve_crust(grid, [0.0], params, surface), repeat=1)
        out[f"{kind}_full_crust_T0_s"] = t
        out[f"{kind}_full_crust_T0_wall_s"] = wall
        out[f"{kind}_full_crust_T0_points_per_s"] = S * N / t
    out["meets_target"] = bool(out["bsk24-like_inner_T0_s"] <= 1.0 and out["bsk24-like_inner_T1_s"] <= 3.0)
    return out
