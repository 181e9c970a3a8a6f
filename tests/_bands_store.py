"""Synthetic sweep stores with known distributions for the bands / plots tests.

Everything the bands must get right is planted here and returned in ``truth`` so that the tests
can recompute the expected numbers with numpy alone:

* outputs drawn from known normal / uniform distributions (per T and n_B);
* P(n_B) = a n_B^gamma (1 + T/10), strictly increasing per sample, a log-normal, gamma uniform;
* samples failing the filter (their values are absurd, 1e6, so any leak shows);
* points not converged / invalid / unstable (absurd values too), NO_CLUSTER points with valid
  values, a core (BEYOND_TRANSITION) beyond a per-sample transition density where Z, A_cl,
  A_cell, I, n_cl, r_N, r_WS, u are NaN; a few NaN values at converged points;
* one block not done at one temperature, with garbage data and status 0 written into it
  (``done`` alone must decide), and one block done at one temperature only.
"""

from __future__ import annotations

import json

import numpy as np

from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES
from crustuq.models.crust.profile import OUTPUTS
from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters
from crustuq.sweep.store import StoreShape, create_store, open_group

CORE_NAN = ("Z", "A_cl", "A_cell", "I", "n_cl", "r_N", "r_WS", "u")
ABSURD = 1e6


def make_store(path, *, n_samples=61, block_size=16, T=(0.0, 0.5, 1.0), n_points=12, seed=0,
               done_pattern="default", l_sym_range=(48.9, 49.7)):
    rng = np.random.default_rng(seed)
    T = np.asarray(T, float)
    nB = np.geomspace(1e-4, 0.12, n_points)
    shape = StoreShape(n_samples=n_samples, T=T, n_B=nB, block_size=block_size)
    S, nT, N, nb = n_samples, T.size, n_points, shape.n_blocks
    create_store(path, shape, {"crustuq_config": json.dumps({"synthetic": True}), "config_hash": "test"},
                 filter_codes={0: "passed", 1: "chiral-EFT filter"})
    g = open_group(path, "r+")

    # per-sample inputs: BSk24 with L_sym spread near the chiral-EFT optimum
    base = EmpiricalParameters.named("BSk24").to_array()
    params = np.repeat(base[None], S, axis=0)
    params[:, PARAMETER_NAMES.index("L_sym")] = rng.uniform(*l_sym_range, S)
    params[:, PARAMETER_NAMES.index("K_sat")] += rng.normal(0, 5, S)
    surface = np.column_stack([rng.uniform(0.9, 1.2, S), rng.uniform(0.05, 0.2, S), rng.uniform(20, 40, S),
                               rng.uniform(0.5, 0.9, S), np.full(S, 3.0)])
    passed = rng.random(S) > 0.2
    passed[0] = True

    # outputs with known distributions
    values = {}
    tt = T[None, :, None]
    nn = nB[None, None, :]
    for i, k in enumerate(OUTPUTS):
        if i % 2:
            values[k] = (10.0 + i) * (1 + tt) * (1 + nn) + rng.normal(0.0, 1.0 + i * 0.1, (S, nT, N))
        else:
            values[k] = (5.0 + i) + tt + rng.uniform(-1.0 - i, 1.0 + i, (S, nT, N))
    a = np.exp(rng.normal(np.log(3.0), 0.3, S))[:, None, None]
    gam = rng.uniform(1.2, 1.6, S)[:, None, None]
    values["P"] = a * nn ** gam * (1 + tt / 10)
    status = np.zeros((S, nT, N), np.int8)
    # core beyond a per-sample transition density
    n_t = rng.uniform(0.05, 0.11, S)[:, None, None]
    core = np.broadcast_to(nn > n_t, (S, nT, N))
    status[core] = 3
    for k in CORE_NAN:
        values[k][core] = np.nan
    # failed points keep (absurd) numbers
    r = rng.random((S, nT, N))
    failed = (r < 0.08) & ~core
    status[failed] = rng.choice(np.array([1, 4, 5], np.int8), size=int(failed.sum()))
    for k in OUTPUTS:
        values[k][failed] = ABSURD
    nocl = (r > 0.95) & ~core
    status[nocl] = 2
    # NaN at a few converged points (undefined, not failed)
    undefined_ng = (rng.random((S, nT, N)) < 0.03) & (status == 0)
    values["n_g"][undefined_ng] = np.nan
    # a point computed but left at status -1 inside a done block
    status[0, 0, 3] = -1                  # sample 0 always passes the filter
    values["Y_e"][0, 0, 3] = ABSURD
    # filter failures: absurd everywhere
    for k in OUTPUTS:
        values[k][~passed] = ABSURD

    done = np.ones((nb, nT), np.uint8)
    if done_pattern == "default" and nb >= 3:
        done[1, nT - 1] = 0               # block 1 not done at the last T
        done[nb - 1, 1:] = 0              # last block done at the first T only
    elif done_pattern == "none":
        done[:] = 0
    elif done_pattern == "last T undone":
        done[:, -1] = 0
    for k in OUTPUTS:
        g[k][:] = values[k]
    g["status"][:] = status
    g["layer"][:] = np.where(core, 2, 1).astype(np.int8)
    g["residual"][:] = 0.0
    for i, k in enumerate(PARAMETER_NAMES):
        g[f"param_{k}"][:] = params[:, i]
    for i, k in enumerate(SURFACE_PARAMETER_NAMES):
        g[f"surface_{k}"][:] = surface[:, i]
    g["filter_passed"][:] = passed
    g["filter_code"][:] = np.where(passed, 0, 1).astype(np.int16)
    g["prep_done"][:] = 1
    g["done"][:] = done
    # garbage in not-done blocks (status 0!) -- only ``done`` may decide
    for b in range(nb):
        for t in range(nT):
            if not done[b, t]:
                sl = shape.block_slice(b)
                g["status"][sl, t, :] = 0
                for k in OUTPUTS:
                    g[k][sl, t, :] = -ABSURD if k != "P" else ABSURD
    block_of = np.arange(S) // block_size
    computed = done[block_of].astype(bool)                       # (S, nT)
    truth = dict(values=values, status=status, passed=passed, computed=computed, params=params,
                 surface=surface, T=T, n_B=nB, done=done, undefined_ng=undefined_ng, core=core)
    return truth


def included(truth, name):
    """(S, nT, N) bool: values that must enter the bands of output ``name``."""
    st = truth["status"]
    good = (st == 0) | (st == 2) | (st == 3)
    ok = truth["computed"][:, :, None] & truth["passed"][:, None, None]
    return ok & good & np.isfinite(truth["values"][name])
