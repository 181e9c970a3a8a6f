"""Crust-core transition: clusterised CLDM matter versus homogeneous npe matter compared at
equal pressure and chemical potential (not at equal density).

Along the inner-crust solution of a sample, every converged point gives (P_cl, mu_cl) with
mu = mu_n = mu_B the Gibbs energy per baryon. Homogeneous beta-equilibrated matter at the same
pressure -- on its stable high-density branch (:class:`HomogeneousBranch`) -- has mu_h(P_cl).
The crust is stable while Delta = mu_cl - mu_h(P_cl) < 0; the transition is where Delta
changes sign. It is bracketed on a density grid (:func:`transition_bracket`; the continuation
ladder or the user's grid, extended upward if the crust is still stable at its top) and
refined (:func:`refine_transition`: false position in ln n_B, bisection where the cluster
solution is lost) with fresh cell solves, so the reported n_t (crust side), P_t and n_core
(core-side density at P_t: the transition is weakly first order) do not depend on the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models.crust.cldm_cell import CellModel
from crustuq.models.crust.homogeneous import beta_equilibrium, beta_equilibrium_at_pressure
from crustuq.models.crust.inner import InnerCrustResult, cell_outputs
from crustuq.models.crust.inner_solver import solve_cells
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED

#: largest density searched for the transition (fm^-3)
N_SEARCH_MAX = 0.16
#: at most this many refinement steps
REFINE_STEPS = 24
#: stop when the bracket in ln n_B is narrower than this
REFINE_TOL = 1e-4
#: step factor of the upward walk beyond the top of a grid
WALK_FACTOR = 1.08


@dataclass
class Transition:
    n_t: np.ndarray      # crust-side density at the transition (fm^-3); nan if not found
    P_t: np.ndarray      # MeV fm^-3
    mu_t: np.ndarray     # MeV (rest mass included)
    n_core: np.ndarray   # core-side density at P_t (fm^-3)
    status: np.ndarray   # CONVERGED, or NOT_CONVERGED if no transition found


@dataclass
class HomogeneousBranch:
    """Stable (dP/dn > 0) high-density branch of homogeneous npe matter, per sample. At low
    density npe matter has a spinodal region (dP/dn < 0, even P < 0) -- the reason the crust
    exists -- so the homogeneous phase to compare with at pressure P is the one on this
    branch; below its lowest pressure P_min there is none and the crust is stable."""

    ln_n: np.ndarray   # (S, K)
    P: np.ndarray      # (S, K)
    start: np.ndarray  # (S,) first index of the stable branch
    P_min: np.ndarray  # (S,)

    @classmethod
    def compute(cls, mm, T: float, *, positrons: bool = True) -> "HomogeneousBranch":
        n = np.geomspace(0.01, 1.5 * N_SEARCH_MAX, 80)
        h = beta_equilibrium(n[None, :], T, mm.expand(1), positrons=positrons)
        P = np.asarray(h.P)
        S, K = P.shape
        rising = np.diff(P, axis=1) > 0
        start = np.full(S, K - 1)
        for s in range(S):
            k = K - 1
            while k > 0 and rising[s, k - 1]:
                k -= 1
            start[s] = k
        return cls(ln_n=np.broadcast_to(np.log(n), (S, K)), P=P, start=start, P_min=P[np.arange(S), start])

    def density_guess(self, rows, P) -> np.ndarray:
        """Density on the branch at pressure P (interpolated), for rows (sample indices)."""
        rows = np.asarray(rows)
        P = np.asarray(P, dtype=float)
        out = np.empty(P.shape)
        for s in np.unique(rows):
            sel = rows == s
            k = self.start[s]
            out[sel] = np.exp(np.interp(P[sel], self.P[s, k:], self.ln_n[s, k:]))
        return out

    def delta(self, rows, P, mu, ok, T, mm, *, positrons=True):
        """Delta = mu_cl - mu_h(P) and the homogeneous density, for cluster states (P, mu)
        that converged (``ok``); -inf where P lies below the branch (crust stable), nan where
        the homogeneous solve failed."""
        rows = np.asarray(rows)
        below = ok & (P < self.P_min[rows])
        target = np.where(ok & ~below, P, self.P_min[rows] * 1.01)
        hom = beta_equilibrium_at_pressure(target, T, mm, self.density_guess(rows, target), positrons=positrons)
        d = np.where(ok & (hom.status == CONVERGED), mu - hom.mu_n, np.nan)
        return np.where(below, -np.inf, d), np.where(below | ~ok, np.nan, hom.n_B)


@dataclass
class Bracket:
    """Per sample: the last stable point (n_lo, Delta_lo, x_lo) and the next point n_hi where
    Delta >= 0 or the cluster solution is lost (Delta_hi = nan); ``found`` when both exist;
    ``stable_any`` when the crust is stable somewhere on the grid."""

    n_lo: np.ndarray
    d_lo: np.ndarray
    x_lo: np.ndarray
    n_hi: np.ndarray
    d_hi: np.ndarray
    found: np.ndarray
    stable_any: np.ndarray


def transition_bracket(result: InnerCrustResult, model: CellModel, branch: HomogeneousBranch, *,
                       positrons: bool = True, walk: bool = True) -> Bracket:
    """Bracket the transition on the density grid of ``result`` (one vectorised comparison
    with homogeneous matter); with ``walk``, walk upward beyond the top of the grid where the
    crust is still stable there."""
    S, N = result.status.shape
    T = float(result.T)
    n = result.n_B
    conv = result.status == CONVERGED
    rows = np.repeat(np.arange(S), N)
    P = np.where(conv, result["P"], np.nan).ravel()
    mu = np.where(conv, result["mu_n"], np.nan).ravel()
    mm = model.mm.take(rows)
    delta, _ = branch.delta(rows, P, mu, conv.ravel(), T, mm, positrons=positrons)
    delta = delta.reshape(S, N)
    b = Bracket(n_lo=np.full(S, np.nan), d_lo=np.full(S, np.nan), x_lo=np.full((S, 4), np.nan),
                n_hi=np.full(S, np.nan), d_hi=np.full(S, np.nan), found=np.zeros(S, dtype=bool),
                stable_any=np.zeros(S, dtype=bool))
    for s in range(S):
        d = delta[s]
        # the crust must be stable (Delta < 0) somewhere; from the first such point walk up while
        # the cell converges and Delta is not >= 0 (a failed homogeneous comparison, Delta = nan,
        # does not end the crust)
        idx = np.nonzero(conv[s] & (d < 0))[0]
        if idx.size == 0:
            continue
        b.stable_any[s] = True
        j = idx[0]
        while j + 1 < N and conv[s, j + 1] and not (d[j + 1] >= 0):
            j += 1
        b.n_lo[s] = n[j]
        b.d_lo[s] = d[j] if np.isfinite(d[j]) else -np.inf
        b.x_lo[s] = result.x[s, j]
        if j + 1 < N:
            b.n_hi[s] = n[j + 1]
            b.d_hi[s] = d[j + 1] if conv[s, j + 1] else np.nan
            b.found[s] = True
    # walk beyond the top of the grid where the crust is stable up to its last point
    need = b.stable_any & ~b.found & walk
    while np.any(need):
        rows = np.nonzero(need)[0]
        n_try = b.n_lo[rows] * WALK_FACTOR
        d, x_new, ok = _cells_delta(n_try, T, model.take(rows), b.x_lo[rows], branch, rows, positrons)
        beyond = n_try > N_SEARCH_MAX
        crossed = ok & (d >= 0)
        lost = ~ok | beyond
        still = ok & ~(d >= 0) & ~beyond
        r = rows[still]
        b.n_lo[r], b.d_lo[r], b.x_lo[r] = n_try[still], np.where(np.isfinite(d[still]), d[still], -np.inf), x_new[still]
        stop = crossed | lost
        r = rows[stop]
        b.n_hi[r] = n_try[stop]
        b.d_hi[r] = np.where(crossed[stop], d[stop], np.nan)
        b.found[r] = True
        need[r] = False
    return b


def _cells_delta(n_B, T, model, x0, branch, rows, positrons, max_iter=12):
    """Cells at n_B from nearby warm starts; a cell that does not converge within ``max_iter``
    Newton steps is treated as lost (the bracket shrinks from the unstable side)."""
    res = solve_cells(n_B, np.full(n_B.shape, T), model, x0, max_iter=max_iter)
    ok = res.status == CONVERGED
    out = cell_outputs(res.x, n_B, np.full(n_B.shape, T), model)
    d, _ = branch.delta(rows, out["P"], out["mu_n"], ok, T, model.mm, positrons=positrons)
    return d, res.x, ok


def refine_transition(b: Bracket, T: float, model: CellModel, branch: HomogeneousBranch, *,
                      positrons: bool = True, steps: int = REFINE_STEPS, tol: float = REFINE_TOL) -> Transition:
    """Solve Delta(ln n_B) = 0 inside each bracket: Illinois false position where both ends
    have a finite Delta, bisection otherwise; each sample stops at its own tolerance."""
    S = b.n_lo.shape[0]
    rows = np.nonzero(b.found)[0]
    a, c = np.log(b.n_lo[rows]), np.log(b.n_hi[rows])
    fa, fc = b.d_lo[rows].copy(), b.d_hi[rows].copy()
    x_a = b.x_lo[rows].copy()
    sub = model.take(rows)
    side = np.zeros(rows.size, dtype=np.int8)
    for _ in range(steps):
        active = (c - a) > tol
        if not np.any(active):
            break
        act = np.nonzero(active)[0]
        fp = np.isfinite(fa[act]) & np.isfinite(fc[act]) & (fc[act] > fa[act])
        w = c[act] - a[act]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(fp, a[act] + w * (-fa[act]) / (fc[act] - fa[act]), a[act] + 0.5 * w)
        t = np.clip(t, a[act] + 0.01 * w, c[act] - 0.01 * w)
        d, x_new, ok = _cells_delta(np.exp(t), T, sub.take(act), x_a[act], branch, rows[act], positrons)
        stable = ok & (d < 0)
        # Illinois: halve the retained end's Delta when the same end is kept twice in a row
        keep_c = stable & (side[act] == 1)
        keep_a = ~stable & (side[act] == -1)
        fc[act[keep_c]] *= 0.5
        fa[act[keep_a]] *= 0.5
        s_idx, u_idx = act[stable], act[~stable]
        a[s_idx], fa[s_idx], x_a[s_idx] = t[stable], d[stable], x_new[stable]
        c[u_idx] = t[~stable]
        fc[u_idx] = np.where(ok[~stable] & np.isfinite(d[~stable]), d[~stable], np.nan)
        side[s_idx], side[u_idx] = 1, -1
    n_a = np.exp(a)
    res = solve_cells(n_a, np.full(n_a.shape, T), sub, x_a, max_iter=20)
    ok = res.status == CONVERGED
    out_c = cell_outputs(res.x, n_a, np.full(n_a.shape, T), sub)
    _, n_core = branch.delta(rows, out_c["P"], out_c["mu_n"], ok, T, sub.mm, positrons=positrons)
    out = {k: np.full(S, np.nan) for k in ("n", "P", "mu", "core")}
    out["n"][rows] = np.where(ok, n_a, np.nan)
    out["P"][rows] = np.where(ok, out_c["P"], np.nan)
    out["mu"][rows] = np.where(ok, out_c["mu_n"], np.nan)
    out["core"][rows] = n_core
    status = np.where(np.isfinite(out["n"]), CONVERGED, NOT_CONVERGED).astype(np.int8)
    return Transition(n_t=out["n"], P_t=out["P"], mu_t=out["mu"], n_core=out["core"], status=status)


def merge_brackets(fine: Bracket, coarse: Bracket) -> Bracket:
    """Per sample, the bracket of the finer grid where it found one, else the coarse one."""
    use = fine.found
    pick = lambda f, c: np.where(use[:, None] if f.ndim == 2 else use, f, c)
    return Bracket(n_lo=pick(fine.n_lo, coarse.n_lo), d_lo=pick(fine.d_lo, coarse.d_lo),
                   x_lo=pick(fine.x_lo, coarse.x_lo), n_hi=pick(fine.n_hi, coarse.n_hi),
                   d_hi=pick(fine.d_hi, coarse.d_hi), found=fine.found | coarse.found,
                   stable_any=fine.stable_any | coarse.stable_any)


def find_transition(inner: InnerCrustResult, model: CellModel, *, positrons: bool = True,
                    branch: HomogeneousBranch | None = None) -> Transition:
    """Locate the crust-core transition for every sample of an inner-crust result."""
    if branch is None:
        branch = HomogeneousBranch.compute(model.mm, float(inner.T), positrons=positrons)
    b = transition_bracket(inner, model, branch, positrons=positrons)
    return refine_transition(b, float(inner.T), model, branch, positrons=positrons)
