"""Crust-core transition: clusterised CLDM matter versus homogeneous npe matter compared at
equal pressure and chemical potential (not at equal density).

Along the inner-crust solution of a sample, every converged point gives (P_cl, mu_cl) with
mu = mu_n = mu_B the Gibbs energy per baryon. Homogeneous beta-equilibrated matter at the same
pressure has mu_h(P_cl). The crust is stable while Delta = mu_cl - mu_h(P_cl) < 0; the
transition is where Delta changes sign. It is bracketed on the density grid (extended upward
beyond the grid if needed) and refined by bisection in ln n_B with fresh cell solves, so the
reported n_t (crust side), P_t and n_core (core-side density at P_t; the transition is weakly
first order) do not depend on the user's grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models.crust.cldm_cell import CellModel
from crustuq.models.crust.homogeneous import beta_equilibrium_at_pressure
from crustuq.models.crust.inner import InnerCrustResult, cell_outputs
from crustuq.models.crust.inner_solver import solve_cells
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED

#: largest density searched for the transition (fm^-3)
N_SEARCH_MAX = 0.16
#: bisection steps in ln n_B (bracket ratio shrinks by 2^-steps)
REFINE_STEPS = 12


@dataclass
class Transition:
    n_t: np.ndarray      # crust-side density at the transition (fm^-3); nan if not found
    P_t: np.ndarray      # MeV fm^-3
    mu_t: np.ndarray     # MeV (rest mass included)
    n_core: np.ndarray   # core-side density at P_t (fm^-3)
    status: np.ndarray   # CONVERGED, or NOT_CONVERGED if no transition found


def _delta(n_B, T, model: CellModel, x0, *, positrons=True):
    """Solve cells at n_B (warm start x0) and return (Delta, P, mu, x, ok, n_core)."""
    res = solve_cells(n_B, np.full(n_B.shape, T), model, x0)
    ok = res.status == CONVERGED
    out = cell_outputs(res.x, n_B, np.full(n_B.shape, T), model)
    P = np.where(ok, out["P"], np.nan)
    mu = np.where(ok, out["mu_n"], np.nan)
    hom = beta_equilibrium_at_pressure(np.where(ok, P, 1e-2), T, model.mm, n_B * 1.02, positrons=positrons)
    delta = np.where(ok & (hom.status == CONVERGED), mu - hom.mu_n, np.nan)
    return delta, P, mu, res.x, ok, hom.n_B


def find_transition(inner: InnerCrustResult, model: CellModel, *, positrons: bool = True) -> Transition:
    """Locate the crust-core transition for every sample of an inner-crust result."""
    S, N = inner.status.shape
    T = float(inner.T)
    n = inner.n_B
    conv = inner.status == CONVERGED
    P = np.where(conv, inner["P"], np.nan)
    mu = np.where(conv, inner["mu_n"], np.nan)
    hom = beta_equilibrium_at_pressure(np.where(conv, P, 1e-2), T, _rows(model.mm, S, N),
                                       np.broadcast_to(n * 1.02, (S, N)), positrons=positrons)
    delta = np.where(conv & (hom.status == CONVERGED), mu - hom.mu_n, np.nan)

    n_lo = np.full(S, np.nan)
    n_hi = np.full(S, np.nan)
    x_lo = np.full((S, 4), np.nan)
    found = np.zeros(S, dtype=bool)
    for s in range(S):
        d = delta[s]
        stable = np.isfinite(d) & (d < 0)
        idx = np.nonzero(stable)[0]
        if idx.size == 0:
            continue
        # first stable point, then walk up while stable
        j = idx[0]
        while j + 1 < N and stable[j + 1]:
            j += 1
        n_lo[s] = n[j]
        x_lo[s] = inner.x[s, j]
        if j + 1 < N and np.isfinite(d[j + 1]):
            n_hi[s] = n[j + 1]
            found[s] = True
    # extend beyond the grid for samples whose crust is stable up to the last point
    need = ~found & np.isfinite(n_lo)
    x_cur = x_lo.copy()
    n_cur = n_lo.copy()
    step = 1.08
    while np.any(need):
        rows = np.nonzero(need)[0]
        n_try = n_cur[rows] * step
        beyond = n_try > N_SEARCH_MAX
        d, _, _, x_new, ok, _ = _delta(n_try, T, model.take(rows), x_cur[rows], positrons=positrons)
        crossed = ok & (d >= 0)
        lost = ~ok | beyond  # cluster solution lost: transition at the last stable point
        still = ok & (d < 0) & ~beyond
        n_lo[rows[still]] = n_try[still]
        x_lo[rows[still]] = x_new[still]
        n_cur[rows[still]] = n_try[still]
        x_cur[rows[still]] = x_new[still]
        n_hi[rows[crossed]] = n_try[crossed]
        found[rows[crossed]] = True
        n_hi[rows[lost & ~crossed]] = n_try[lost & ~crossed]
        found[rows[lost & ~crossed]] = True
        need[rows[crossed | lost]] = False
    # bisection in ln n between n_lo (crust stable) and n_hi
    rows = np.nonzero(found)[0]
    n_a, n_b, x_a = n_lo[rows], n_hi[rows], x_lo[rows]
    sub = model.take(rows)
    for _ in range(REFINE_STEPS):
        n_mid = np.sqrt(n_a * n_b)
        d, _, _, x_new, ok, _ = _delta(n_mid, T, sub, x_a, positrons=positrons)
        stable = ok & (d < 0)
        n_a = np.where(stable, n_mid, n_a)
        x_a = np.where(stable[:, None], x_new, x_a)
        n_b = np.where(stable, n_b, n_mid)
    d, P_a, mu_a, _, ok, n_core = _delta(n_a, T, sub, x_a, positrons=positrons)
    out_n = np.full(S, np.nan)
    out_P = np.full(S, np.nan)
    out_mu = np.full(S, np.nan)
    out_core = np.full(S, np.nan)
    out_n[rows] = n_a
    out_P[rows] = P_a
    out_mu[rows] = mu_a
    out_core[rows] = n_core
    status = np.where(np.isfinite(out_n), CONVERGED, NOT_CONVERGED).astype(np.int8)
    return Transition(n_t=out_n, P_t=out_P, mu_t=out_mu, n_core=out_core, status=status)


def _rows(mm, S, N):
    """Meta-model broadcast to (S, N) points: one parameter row per sample."""
    return mm.expand(1)
