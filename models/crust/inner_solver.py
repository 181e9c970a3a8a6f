"""Equilibrium of the CLDM Wigner-Seitz cell at fixed (n_B, T): batched Newton on the analytic
equilibrium conditions, and a direct-minimisation cross-check.

The equilibrium conditions are the four components of the analytic gradient of
f' = f_WS - n_B m_n with respect to x = (ln r_N, I, ln n_i, ln n_g)
(:func:`crustuq.models.crust.cldm_cell.evaluate_cell`): size equilibrium (virial theorem),
beta equilibrium with finite-size corrections, neutron chemical equilibrium and pressure
equilibrium between cluster and gas (physics_reference.md 5.6). They are solved by a damped
Newton method vectorised over points: the Jacobian of the conditions is the analytic Hessian
of f' (forward differences of the analytic gradient when the optional h(T) or ion-translation
terms are on), with a Levenberg safeguard when it is not positive definite, bounded steps and
an Armijo backtracking line search on f' (we look for minima, not saddles).

Every point ends with a status and its final residual, the largest equilibrium-condition
violation |d f'/d x_k| / n_B in MeV; nothing raises for a single bad point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from crustuq.models.crust.cldm_cell import CellModel, analytic_hessian_available, evaluate_cell
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED, NO_CLUSTER

#: largest accepted Newton step in each coordinate (ln r_N, I, ln n_i, ln n_g)
MAX_STEP = np.array([0.25, 0.08, 0.15, 5.0])
#: forward-difference steps for the Jacobian
FD_STEP = np.array([1e-6, 1e-7, 1e-6, 1e-6])
#: default convergence threshold on the residual (MeV)
TOLERANCE_MEV = 1e-9
#: give up on a point after this many iterations without halving its residual (it is then
#: retried from a neighbour by the batch driver, or reported NOT_CONVERGED with its residual)
STALL_LIMIT = 12
#: at failure, a volume fraction below U_DEGENERATE (cluster dissolved into the gas) or above
#: U_FILLED (a "spherical cluster" filling most of its cell) means no clusterised solution
U_DEGENERATE = 1e-6
U_FILLED = 0.5
MIN_ITER_BEFORE_STALL = 25


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
                tol: float = TOLERANCE_MEV, max_iter: int = 80, evaluator=evaluate_cell,
                max_step: np.ndarray = MAX_STEP, fd_step: np.ndarray = FD_STEP) -> SolveResult:
    """Newton solve of the equilibrium conditions for a flat batch of points.

    ``n_B``, ``T``: shape (N,); ``model``: batch shape (N,) (one parameter row per point);
    ``x0``: (N, 4) starting points. Returns the solution, status (CONVERGED, NOT_CONVERGED or
    NO_CLUSTER when the cell leaves the clusterised domain, u -> 1 or n_g -> n_B) and residual.
    ``evaluator`` (with ``max_step``/``fd_step`` per coordinate) lets a reduced problem reuse
    the solver (e.g. fixed integer Z, :mod:`.integer_z`); it must accept
    ``(x, n_B, T, model, hessian=...)`` and return a CellEvaluation.
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
    use_hessian = analytic_hessian_available(model.options)
    best = np.full(N, np.inf)       # best residual so far
    stall = np.zeros(N, dtype=np.int32)  # iterations without a 2x improvement

    for it in range(max_iter):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        sub = model.take(idx)
        xa, nb, Ta = x[idx], n_B[idx], T[idx]
        ev = evaluator(xa, nb, Ta, sub, hessian=use_hessian)
        bad = ~ev.feasible
        res = residual_mev(ev.grad, nb)
        residual[idx] = np.where(bad, np.inf, res)
        done = (res < tol) & ~bad
        status[idx[done]] = CONVERGED
        status[idx[bad]] = NO_CLUSTER
        iters[idx] = it
        improved = res < 0.5 * best[idx]
        best[idx] = np.where(improved, res, np.minimum(best[idx], res))
        stall[idx] = np.where(improved, 0, stall[idx] + 1)
        stalled = (stall[idx] > STALL_LIMIT) & (it >= MIN_ITER_BEFORE_STALL)
        keep = ~done & ~bad & ~stalled
        active[idx[~keep]] = False
        if not np.any(keep):
            break
        idx, xa, nb, Ta = idx[keep], xa[keep], nb[keep], Ta[keep]
        sub = model.take(idx)
        g = ev.grad[keep]
        f0 = ev.f[keep]
        if use_hessian:
            J = ev.hessian[keep]
        else:
            # Jacobian of the gradient by forward differences (4 extra analytic gradients)
            nv = xa.shape[1]
            J = np.empty((idx.size, nv, nv))
            for k in range(nv):
                xk = xa.copy()
                xk[:, k] += fd_step[k]
                gk = evaluator(xk, nb, Ta, sub).grad
                J[:, :, k] = (gk - g) / fd_step[k]
            J = 0.5 * (J + np.swapaxes(J, 1, 2))
        dx = _newton_direction(J, g, lam[idx])
        # bound the step
        scale = np.max(np.abs(dx) / max_step, axis=1)
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
            ft = evaluator(xt, nb[trial], Ta[trial], sub.take(np.nonzero(trial)[0])).f
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
        ev = evaluator(x[idx], n_B[idx], T[idx], model.take(idx))
        res = residual_mev(ev.grad, n_B[idx])
        residual[idx] = np.where(ev.feasible, res, np.inf)
        ok = (res < tol) & ev.feasible
        status[idx[ok]] = CONVERGED
        status[idx[~ev.feasible]] = NO_CLUSTER
        iters[idx] = max_iter
    # a point that did not converge while its cell degenerated into homogeneous matter
    # (cluster volume fraction u -> 0 or 1, or cluster density -> gas density) has no
    # clusterised solution
    if x.shape[1] == 4:
        n_i, n_g = np.exp(x[:, 2]), np.exp(x[:, 3])
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (n_B - n_g) / (n_i - n_g)
        degenerate = (u < U_DEGENERATE) | (u > U_FILLED) | (n_i < n_g * (1.0 + 1e-3))
        status[(status == NOT_CONVERGED) & degenerate] = NO_CLUSTER
    return SolveResult(x=x, status=status, residual=residual, iterations=iters)


def _newton_direction(J: np.ndarray, g: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Modified Newton step: solve (J + mu D) dx = -g with D = diag|J| and mu >= lam chosen so
    that the diagonally scaled matrix D^-1/2 (J + mu D) D^-1/2 has all eigenvalues >= 0.05
    (a positive-definite model of f', hence a descent direction even where f' is not convex)."""
    nv = g.shape[1]
    d = np.abs(np.diagonal(J, axis1=1, axis2=2)) + 1e-300
    sq = np.sqrt(d)
    Js = J / (sq[:, :, None] * sq[:, None, :])
    Js = 0.5 * (Js + np.swapaxes(Js, 1, 2))
    ok = np.all(np.isfinite(Js), axis=(1, 2))
    emin = np.full(g.shape[0], -1.0)
    if np.any(ok):
        emin[ok] = np.linalg.eigvalsh(Js[ok])[:, 0]
    mu = np.maximum(lam, np.maximum(0.05 - emin, 0.0))
    A = Js + mu[:, None, None] * np.eye(nv)
    A[~ok] = np.eye(nv)
    rhs = -g / sq
    dx = np.linalg.solve(A, rhs[..., None])[..., 0] / sq
    bad = ~np.all(np.isfinite(dx), axis=1)
    if np.any(bad):
        dx[bad] = -g[bad] / d[bad]
    return dx


#: half-widths of the first coordinate-descent brackets (ln r_N, I, ln n_i, ln n_g)
DESCENT_HALF_WIDTH = np.array([0.3, 0.15, 0.2, 1.0])
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def coordinate_descent(x0: np.ndarray, n_B: np.ndarray, T: np.ndarray, model: CellModel, *,
                       sweeps: int = 3, iters: int = 20,
                       half_width: np.ndarray = DESCENT_HALF_WIDTH) -> np.ndarray:
    """Derivative-free start for Newton where f' is not convex: ``sweeps`` sweeps of golden-
    section line minimisations of f' along each coordinate of x (brackets x_k +- half_width_k,
    halved every sweep), vectorised over a flat batch of points (each point independently).
    Newton's modified step follows negative curvature out of the physical basin (towards
    I -> -1 for some wide-prior samples); one coordinate sweep moves into the convex basin
    around the nearby minimum instead, as Powell's method does (:func:`minimise_directly`)."""
    x = np.array(x0, dtype=float, copy=True)
    half = np.asarray(half_width, dtype=float).copy()

    def f_along(k, v):
        xx = x.copy()
        xx[:, k] = v
        return evaluate_cell(xx, n_B, T, model).f

    for _ in range(sweeps):
        for k in range(x.shape[1]):
            a, b = x[:, k] - half[k], x[:, k] + half[k]
            c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
            fc, fd = f_along(k, c), f_along(k, d)
            for _ in range(iters):
                left = fc < fd                      # the minimum is in [a, d]
                b, a = np.where(left, d, b), np.where(left, a, c)
                p = np.where(left, b - _GOLDEN * (b - a), a + _GOLDEN * (b - a))
                fp = f_along(k, p)
                c, d = np.where(left, p, d), np.where(left, c, p)
                fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
            best, fbest = np.where(fc < fd, c, d), np.minimum(fc, fd)
            x[:, k] = np.where(fbest < f_along(k, x[:, k]), best, x[:, k])
        half = half * 0.5
    return x


def minimise_directly(n_B: float, T: float, model: CellModel, x0: np.ndarray, *,
                      evaluator=evaluate_cell) -> np.ndarray:
    """Cross-check: minimise f' over x for ONE point with a derivative-free method (Powell's
    conjugate directions, scipy) -- no use of the equilibrium conditions or their Jacobian.
    ``model`` must have batch shape (1,)."""
    nb = np.array([n_B])
    Tt = np.array([T])

    def fun(x):
        return float(evaluator(x[None, :], nb, Tt, model).f[0])

    with np.errstate(invalid="ignore"):
        res = minimize(fun, np.asarray(x0, dtype=float), method="Powell",
                       options=dict(xtol=1e-10, ftol=1e-15, maxfev=20000))
    return res.x
