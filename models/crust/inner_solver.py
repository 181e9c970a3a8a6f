"""Equilibrium of the CLDM Wigner-Seitz cell at fixed (n_B, T): batched Newton on the analytic
equilibrium conditions, and a direct-minimisation cross-check.

The equilibrium conditions are the four components of the analytic gradient of
f' = f_WS - n_B m_n with respect to x = (ln r_N, I, ln n_i, ln n_g)
(:func:`crustuq.models.crust.cldm_cell.evaluate_cell`): size equilibrium (virial theorem),
beta equilibrium with finite-size corrections, neutron chemical equilibrium and pressure
equilibrium between cluster and gas (physics_reference.md 5.6). They are solved by a damped
Newton method vectorised over points: the Jacobian of the analytic gradient by forward
differences of the analytic gradient, a Levenberg safeguard when it is not positive definite,
bounded steps and an Armijo backtracking line search on f' (we look for minima, not saddles).

Every point ends with a status and its final residual, the largest equilibrium-condition
violation |d f'/d x_k| / n_B in MeV; nothing raises for a single bad point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from crustuq.models.crust.cldm_cell import CellModel, evaluate_cell
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED, NO_CLUSTER

#: largest accepted Newton step in each coordinate (ln r_N, I, ln n_i, ln n_g)
MAX_STEP = np.array([0.25, 0.08, 0.15, 1.5])
#: forward-difference steps for the Jacobian
FD_STEP = np.array([1e-6, 1e-7, 1e-6, 1e-6])
#: default convergence threshold on the residual (MeV)
TOLERANCE_MEV = 1e-9


@dataclass
class SolveResult:
    x: np.ndarray          # (..., 4) internal variables
    status: np.ndarray     # int
    residual: np.ndarray   # MeV
    iterations: np.ndarray


def residual_mev(grad: np.ndarray, n_B: np.ndarray) -> np.ndarray:
    """Largest equilibrium-condition violation, |d f'/d x_k| / n_B, in MeV."""
    return np.max(np.abs(grad), axis=-1) / n_B


def solve_cells(n_B: np.ndarray, T: np.ndarray, model: CellModel, x0: np.ndarray, *,
                tol: float = TOLERANCE_MEV, max_iter: int = 80) -> SolveResult:
    """Newton solve of the equilibrium conditions for a flat batch of points.

    ``n_B``, ``T``: shape (N,); ``model``: batch shape (N,) (one parameter row per point);
    ``x0``: (N, 4) starting points. Returns the solution, status (CONVERGED, NOT_CONVERGED or
    NO_CLUSTER when the cell leaves the clusterised domain, u -> 1 or n_g -> n_B) and residual.
    """
    n_B = np.asarray(n_B, dtype=float)
    T = np.broadcast_to(np.asarray(T, dtype=float), n_B.shape)
    x = np.array(x0, dtype=float, copy=True)
    N = n_B.shape[0]
    status = np.full(N, NOT_CONVERGED, dtype=np.int8)
    residual = np.full(N, np.inf)
    iters = np.zeros(N, dtype=np.int32)
    active = np.ones(N, dtype=bool)
    lam = np.zeros(N)  # Levenberg parameter

    for it in range(max_iter):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        sub = model.take(idx)
        xa, nb, Ta = x[idx], n_B[idx], T[idx]
        ev = evaluate_cell(xa, nb, Ta, sub)
        bad = ~ev.feasible
        res = residual_mev(ev.grad, nb)
        residual[idx] = np.where(bad, np.inf, res)
        done = (res < tol) & ~bad
        status[idx[done]] = CONVERGED
        status[idx[bad]] = NO_CLUSTER
        iters[idx] = it
        keep = ~done & ~bad
        active[idx[~keep]] = False
        if not np.any(keep):
            break
        idx, xa, nb, Ta = idx[keep], xa[keep], nb[keep], Ta[keep]
        sub = model.take(idx)
        g = ev.grad[keep]
        f0 = ev.f[keep]
        # Jacobian of the gradient by forward differences (4 extra analytic gradients)
        J = np.empty((idx.size, 4, 4))
        for k in range(4):
            xk = xa.copy()
            xk[:, k] += FD_STEP[k]
            gk = evaluate_cell(xk, nb, Ta, sub).grad
            J[:, :, k] = (gk - g) / FD_STEP[k]
        J = 0.5 * (J + np.swapaxes(J, 1, 2))
        dx = _newton_direction(J, g, lam[idx])
        # bound the step
        scale = np.max(np.abs(dx) / MAX_STEP, axis=1)
        dx = dx / np.maximum(scale, 1.0)[:, None]
        # Armijo backtracking on f'
        slope = np.einsum("ij,ij->i", g, dx)
        alpha = np.ones(idx.size)
        accepted = np.zeros(idx.size, dtype=bool)
        xnew = xa.copy()
        for _ in range(12):
            trial = ~accepted
            if not np.any(trial):
                break
            xt = xa[trial] + alpha[trial, None] * dx[trial]
            ft = evaluate_cell(xt, nb[trial], Ta[trial], sub.take(np.nonzero(trial)[0])).f
            ok = ft <= f0[trial] + 1e-4 * alpha[trial] * slope[trial] + 1e-13 * np.abs(f0[trial])
            tidx = np.nonzero(trial)[0]
            xnew[tidx[ok]] = xt[ok]
            accepted[tidx[ok]] = True
            alpha[tidx[~ok]] *= 0.5
        # points whose line search failed: raise the Levenberg damping, else relax it
        lam[idx] = np.where(accepted, lam[idx] * 0.3, np.maximum(lam[idx] * 10.0, 1e-3))
        x[idx] = xnew
    else:
        it = max_iter
    # final residual for points still active
    idx = np.nonzero(active)[0]
    if idx.size:
        ev = evaluate_cell(x[idx], n_B[idx], T[idx], model.take(idx))
        res = residual_mev(ev.grad, n_B[idx])
        residual[idx] = np.where(ev.feasible, res, np.inf)
        ok = (res < tol) & ev.feasible
        status[idx[ok]] = CONVERGED
        status[idx[~ev.feasible]] = NO_CLUSTER
        iters[idx] = max_iter
    return SolveResult(x=x, status=status, residual=residual, iterations=iters)


def _newton_direction(J: np.ndarray, g: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Solve (J + lam diag|J|) dx = -g; if the direction is not a descent direction (J not
    positive definite), increase the damping until it is (falls back to scaled steepest
    descent)."""
    n = g.shape[0]
    diag = np.abs(np.diagonal(J, axis1=1, axis2=2)) + 1e-30
    dx = np.empty_like(g)
    todo = np.ones(n, dtype=bool)
    lam = lam.copy()
    for _ in range(8):
        if not np.any(todo):
            break
        Jd = J[todo] + lam[todo, None, None] * np.einsum("ij,jk->ijk", diag[todo], np.eye(4))
        try:
            d = np.linalg.solve(Jd, -g[todo][..., None])[..., 0]
        except np.linalg.LinAlgError:
            d = np.full_like(g[todo], np.nan)
        good = np.all(np.isfinite(d), axis=1) & (np.einsum("ij,ij->i", d, g[todo]) < 0)
        t = np.nonzero(todo)[0]
        dx[t[good]] = d[good]
        todo[t[good]] = False
        lam[t[~good]] = np.maximum(lam[t[~good]] * 10.0, 1e-2)
    if np.any(todo):
        dx[todo] = -g[todo] / diag[todo]
    return dx


def minimise_directly(n_B: float, T: float, model: CellModel, x0: np.ndarray, *,
                      method: str = "Nelder-Mead") -> np.ndarray:
    """Cross-check: minimise f' over x for ONE point with a derivative-free scipy method
    (no use of the equilibrium conditions). ``model`` must have batch shape (1,)."""
    nb = np.array([n_B])
    Tt = np.array([T])

    def fun(x):
        return float(evaluate_cell(x[None, :], nb, Tt, model).f[0])

    x = np.asarray(x0, dtype=float)
    for _ in range(4):  # restarts let Nelder-Mead converge tightly
        res = minimize(fun, x, method=method,
                       options=dict(xatol=1e-11, fatol=1e-17, maxiter=40000, maxfev=40000, adaptive=True))
        x = res.x
    return x
