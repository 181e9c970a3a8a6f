"""Least-squares fits of the CLDM surface parameters to a target set of nuclear energies.

The model is the vacuum CLDM energy per nucleon of :mod:`crustuq.models.cldm.vacuum_mass`
(Grams et al. 2025 Eq. 27; physics_reference.md 5.7) and the residual of nucleus i is

    r_i = E_CLDM(A_i, Z_i)/A_i - E_target,i/A_i       [MeV per nucleon, unweighted]

(the NSEoS / Grams et al. choice; target sets in :mod:`crustuq.models.cldm.fit_targets`).

Structure exploited (Eqs. 24-25 rewritten, not new physics): with D_i(p) = y_i^-p + (1-y_i)^-p
and f_i(b_s, p) = (2^{p+1} + b_s)/(D_i + b_s) the unit-sigma0 surface tension,

    E_i/A_i = R0_i + f_i(b_s, p) [ sigma0 S_i + 5.5 sigma0c beta C_i - 5.5 sigma0c C_i y_i ]

where R0_i = e_bulk + e_coul (bulk only), S_i = 4 pi r0^2 A^{-1/3} and C_i = 8 pi r0 A^{-2/3}.
At fixed (b_s, p) the model is **linear** in c = (sigma0, sigma0c*beta, sigma0c). So

* :class:`SurfaceModel` evaluates the residuals of many walkers with a handful of array passes
  (the bulk part is computed once per bulk set);
* :func:`fit_surface_batch` solves the 4-parameter problem of every bulk sample by variable
  projection (Golub & Pereyra 1973): the three linear coefficients are eliminated by a 3x3
  linear solve, leaving a 1-d minimisation over b_s (grid bracketing + golden section), done
  for all samples at once. This is exact -- the minimum of the projected chi^2 is the minimum
  of the full one -- and has no starting-point dependence in the linear parameters;
* :func:`fit_surface` (one bulk set, any subset of free parameters including p) uses
  :func:`scipy.optimize.least_squares` from the variable-projection solution and returns the
  covariance s^2 (J^T J)^{-1} with s^2 = chi^2/(n - k).

Failures are data: a batch fit never raises for one bad sample; it returns a status code per
sample (:data:`BATCH_STATUS`) and the rms residual.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from crustuq.models.cldm.fit_targets import TargetSet
from crustuq.models.cldm.surface import ALPHA_CURV, SURFACE_PARAMETER_NAMES, SurfaceParameters
from crustuq.models.cldm.vacuum_mass import vacuum_bulk_terms
from crustuq.models.matter.metamodel import MetaModel
from crustuq.models.matter.parameters import EmpiricalParameters

__all__ = [
    "SurfaceModel",
    "SurfaceFitResult",
    "SurfaceFitBatch",
    "BATCH_STATUS",
    "fit_surface",
    "fit_surface_batch",
    "parameter_index",
]

#: default search range of b_s in the batch fit (b_s > -2^{p+1} is required for sigma_s > 0)
B_S_MAX = 2000.0

#: status codes of :func:`fit_surface_batch`
BATCH_STATUS: dict[int, str] = {
    0: "converged (interior minimum in b_s, golden-section bracket below tolerance)",
    1: "b_s at the edge of its search range: minimum not bracketed (parameters at the bound)",
    2: "invalid bulk sample: vacuum CLDM terms not finite (e.g. K_sat + K_sym I^2 <= 0 or n0 <= 0)",
    3: "degenerate or unphysical linear solution (singular normal matrix, sigma0 <= 0 or sigma0c = 0)",
}


def parameter_index(name: str) -> int:
    try:
        return SURFACE_PARAMETER_NAMES.index(name)
    except ValueError:
        raise ValueError(f"surface parameter {name!r}: allowed are {', '.join(SURFACE_PARAMETER_NAMES)}") from None


def _b_lower(p) -> np.ndarray:
    """b_s must exceed -2^{p+1} (sigma_s > 0 for all y_p; surface.py validation)."""
    return -(2.0 ** (np.asarray(p, dtype=float) + 1.0))


class SurfaceModel:
    """Residuals E_CLDM/A - E_target/A (MeV) of one bulk parameter set over one target set,
    vectorised over any number of surface-parameter vectors.

    ``theta`` arrays have a trailing axis of length 5 in the order
    ``SURFACE_PARAMETER_NAMES`` = (sigma0, sigma0c, b_s, beta, p). Points outside the
    allowed domain (sigma0 <= 0, p <= 0, b_s <= -2^{p+1}) give residuals of NaN and a chi^2 of
    +inf (the log-likelihood's -inf), never an exception.
    """

    def __init__(self, params: EmpiricalParameters, targets: TargetSet, *, p_ref: float = 3.0):
        if not isinstance(params, EmpiricalParameters) or params.batch_shape != ():
            raise ValueError("params: must be a single EmpiricalParameters set (batch_shape ())")
        if not isinstance(targets, TargetSet):
            raise ValueError(f"targets: must be a TargetSet, got {type(targets).__name__}")
        terms = vacuum_bulk_terms(params, targets.Z, targets.A)
        if not bool(terms.valid):
            raise ValueError(f"params {params.name!r}: vacuum CLDM bulk terms are not finite for target {targets.name}")
        self.params = params
        self.targets = targets
        self.n = len(targets)
        y = terms.y_p
        self.y = y
        self.log_y = np.log(y)
        self.log_1my = np.log1p(-y)
        self.R0 = (terms.e_bulk + terms.e_coul) - targets.energy_per_nucleon_MeV
        self.S = terms.area_per_nucleon
        self.C = ALPHA_CURV * terms.curvature_length
        self.Cy = self.C * y
        self.p_ref = float(p_ref)
        self.D_ref = self._D(self.p_ref)
        self._local = threading.local()

    def _D(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)[..., None]
        return np.exp(-p * self.log_y) + np.exp(-p * self.log_1my)

    def residuals(self, theta) -> np.ndarray:
        """r = E_CLDM/A - E_target/A in MeV, shape theta.shape[:-1] + (n,)."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape[-1:] != (5,):
            raise ValueError(f"theta: last axis must have length 5 ({', '.join(SURFACE_PARAMETER_NAMES)}), got {theta.shape}")
        s0, s0c, b, beta, p = (theta[..., i] for i in range(5))
        ok = (s0 > 0) & (p > 0) & (b > _b_lower(p)) & np.all(np.isfinite(theta), axis=-1)
        if np.all(p == self.p_ref):
            D = self.D_ref
        else:
            D = self._D(np.where(ok, p, self.p_ref))
        bb = np.where(ok, b, 0.0)[..., None]
        num = (2.0 ** (p + 1.0) + b)[..., None]
        k = s0c[..., None]
        u = s0[..., None] * self.S + (k * beta[..., None]) * self.C - k * self.Cy
        r = self.R0 + num * u / (D + bb)
        if not np.all(ok):
            r = np.where(ok[..., None], r, np.nan)
        return r

    def chi2(self, theta) -> np.ndarray:
        """Sum of squared residuals in MeV^2 (per-nucleon energies) for ``theta`` of shape
        (W, 5) (or (5,)); +inf outside the allowed domain.

        Fast path of :meth:`residuals` (same algebra, evaluated in place in reusable
        per-thread buffers, one pass per operation; ~0.4 ms for 32 walkers x 2457 nuclei).
        Element-wise only, so each row depends on its own theta alone: results are
        bit-identical however the walkers are batched.
        """
        theta = np.asarray(theta, dtype=float)
        single = theta.ndim == 1
        th = np.atleast_2d(theta)
        if th.ndim != 2 or th.shape[1] != 5:
            raise ValueError(f"theta: must have shape (W, 5), got {theta.shape}")
        s0, s0c, b, beta, p = th.T
        ok = (s0 > 0) & (p > 0) & (b > _b_lower(p)) & np.isfinite(th).all(axis=1)
        if not np.all(ok):
            s0, s0c, beta = (np.where(ok, x, 1.0) for x in (s0, s0c, beta))
            b, p = np.where(ok, b, 0.0), np.where(ok, p, self.p_ref)
        W = th.shape[0]
        bufs = getattr(self._local, "bufs", None)
        if bufs is None or bufs[0].shape[0] != W:
            bufs = (np.empty((W, self.n)), np.empty((W, self.n)))
            self._local.bufs = bufs
        a, v = bufs
        num = 2.0 ** (p + 1.0) + b
        np.multiply((s0 * num)[:, None], self.S, out=v)
        np.multiply((s0c * beta * num)[:, None], self.C, out=a)
        v += a
        np.multiply((s0c * num)[:, None], self.Cy, out=a)
        v -= a
        if np.all(p == self.p_ref):
            np.add(self.D_ref, b[:, None], out=a)
        else:
            np.multiply(-p[:, None], self.log_y, out=a)
            np.exp(a, out=a)
            a += b[:, None]
            a += np.exp(-p[:, None] * self.log_1my)
            same = p == self.p_ref
            if np.any(same):  # rows at p_ref use D_ref, as in the fast path (row-wise bit-identity)
                np.copyto(a, self.D_ref + b[:, None], where=same[:, None])
        v /= a
        v += self.R0
        c2 = np.einsum("ij,ij->i", v, v)
        c2 = np.where(ok & np.isfinite(c2), c2, np.inf)
        return c2[0] if single else c2


# ---------------------------------------------------------------------------------------
# single fit (scipy least_squares)
# ---------------------------------------------------------------------------------------
@dataclass
class SurfaceFitResult:
    """Best fit of the surface parameters for one bulk set.

    ``covariance`` (k x k) and ``stderr`` refer to the free parameters ``free`` (in that
    order); s^2 (J^T J)^{-1} with s^2 = chi2/(n - k), i.e. the model-error width is estimated
    from the residual scatter. ``rms_MeV`` is the rms of E/A residuals (MeV per nucleon).
    """

    surface: SurfaceParameters
    free: tuple[str, ...]
    covariance: np.ndarray
    rms_MeV: float
    chi2_MeV2: float
    n_nuclei: int
    residuals_MeV: np.ndarray
    success: bool
    status: int
    message: str
    nfev: int
    target: str
    params_name: str
    stderr: dict = field(default_factory=dict)

    def values(self) -> dict[str, float]:
        return {k: float(getattr(self.surface, k)) for k in SURFACE_PARAMETER_NAMES}

    def as_dict(self) -> dict:
        out = self.values()
        out.update(rms_MeV=self.rms_MeV, n_nuclei=self.n_nuclei, chi2_MeV2=self.chi2_MeV2,
                   free=list(self.free), stderr=dict(self.stderr),
                   covariance=np.asarray(self.covariance).tolist(), success=self.success,
                   status=self.status, message=self.message, target=self.target, params=self.params_name)
        return out


def _full_theta(x_free, free_idx, fixed_theta) -> np.ndarray:
    th = np.array(fixed_theta, dtype=float)
    th[list(free_idx)] = x_free
    return th


def fit_surface(params: EmpiricalParameters, targets: TargetSet, *,
                free: tuple[str, ...] = ("sigma0", "sigma0c", "b_s", "beta"),
                fixed: dict | None = None, x0: dict | None = None,
                model: SurfaceModel | None = None) -> SurfaceFitResult:
    """Least-squares fit of the free surface parameters of one bulk set to ``targets``.

    ``free``: names from (sigma0, sigma0c, b_s, beta, p); every other parameter is fixed at
    ``fixed[name]`` (default p = 3, the Grams et al. choice; other defaults: the
    BSk24-AME2020 row). ``x0``: optional starting values. With p fixed and the four others
    free the start is the exact variable-projection solution (:func:`fit_surface_batch`).
    """
    free = tuple(free)
    for k in free:
        parameter_index(k)
    if len(set(free)) != len(free) or not free:
        raise ValueError(f"free={free!r}: must be a non-empty list of distinct surface parameter names")
    fixed = dict(fixed or {})
    for k in fixed:
        parameter_index(k)
        if k in free:
            raise ValueError(f"fixed: parameter {k!r} is also listed as free")
    if len(targets) <= len(free):
        raise ValueError(f"--target={targets.name}: {len(targets)} nuclei for {len(free)} free parameters; "
                         "allowed: more nuclei than free parameters")
    model = model if model is not None else SurfaceModel(params, targets, p_ref=float(fixed.get("p", 3.0)))
    start = dict(SurfaceParameters.named("BSk24-AME2020").as_dict())
    start.update(fixed)
    if x0:
        start.update({k: float(v) for k, v in x0.items() if k in SURFACE_PARAMETER_NAMES})
    if set(free) == {"sigma0", "sigma0c", "b_s", "beta"} and not x0:
        vp = _vp_fit(model.R0[None], model.S[None], model.C[None], model.y, float(start["p"]))
        if vp["status"][0] in (0, 1):
            start.update(sigma0=vp["sigma0"][0], sigma0c=vp["sigma0c"][0], b_s=vp["b_s"][0], beta=vp["beta"][0])
    theta0 = np.array([start[k] for k in SURFACE_PARAMETER_NAMES], dtype=float)
    idx = [parameter_index(k) for k in free]
    lo = np.full(len(free), -np.inf)
    hi = np.full(len(free), np.inf)
    p_lo = 1.0
    for j, k in enumerate(free):
        if k == "sigma0":
            lo[j] = 1e-6
        elif k == "p":
            lo[j], hi[j] = p_lo, 10.0
        elif k == "b_s":
            lo[j] = (_b_lower(p_lo) if "p" in free else _b_lower(theta0[4])) + 1e-6
    x_start = np.clip(theta0[idx], lo + 1e-9, hi - 1e-9)

    from scipy.optimize import least_squares

    fun = lambda x: model.residuals(_full_theta(x, idx, theta0))  # noqa: E731
    res = least_squares(fun, x_start, jac="3-point", bounds=(lo, hi), method="trf", x_scale="jac",
                        xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    theta = _full_theta(res.x, idx, theta0)
    r = model.residuals(theta)
    chi2 = float(np.sum(r * r))
    n, k = model.n, len(free)
    J = np.asarray(res.jac, dtype=float)
    s2 = chi2 / (n - k)
    try:
        cov = s2 * np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    stderr = {name: float(np.sqrt(cov[j, j])) if cov[j, j] >= 0 else float("nan") for j, name in enumerate(free)}
    success = bool(res.success) and bool(np.all(np.isfinite(r)))
    return SurfaceFitResult(
        surface=SurfaceParameters.from_array(theta, name=f"fit:{params.name}/{targets.name}"),
        free=free, covariance=cov, rms_MeV=float(np.sqrt(chi2 / n)), chi2_MeV2=chi2, n_nuclei=n,
        residuals_MeV=r, success=success, status=int(res.status), message=str(res.message), nfev=int(res.nfev),
        target=targets.name, params_name=params.name, stderr=stderr)


# ---------------------------------------------------------------------------------------
# batch fit by variable projection
# ---------------------------------------------------------------------------------------
@dataclass
class SurfaceFitBatch:
    """Per-bulk-sample best fits (p fixed). Arrays of shape (n_samples,).

    ``status`` codes: :data:`BATCH_STATUS`; parameters of samples with status 2 (invalid
    bulk) or a singular linear problem are NaN -- flagged by the status, never silent.
    """

    sigma0: np.ndarray
    sigma0c: np.ndarray
    b_s: np.ndarray
    beta: np.ndarray
    p: np.ndarray
    rms_MeV: np.ndarray
    status: np.ndarray
    n_nuclei: int
    target: str

    @property
    def ok(self) -> np.ndarray:
        return self.status == 0

    def to_array(self) -> np.ndarray:
        """(n_samples, 5) in SURFACE_PARAMETER_NAMES order."""
        return np.stack([self.sigma0, self.sigma0c, self.b_s, self.beta, self.p], axis=-1)

    def surface_parameters(self, index=None) -> SurfaceParameters:
        """SurfaceParameters of the selected samples (default: all with status 0)."""
        index = self.ok if index is None else index
        return SurfaceParameters.from_array(self.to_array()[index], name=f"batch-fit/{self.target}")

    def status_counts(self) -> dict[int, int]:
        return {int(k): int(v) for k, v in zip(*np.unique(self.status, return_counts=True))}


def _vp_solve(f, H, R):
    """Linear coefficients c minimising |R + (f H) c|^2 per sample, and the chi^2.

    f: (s, n), H: (s, n, 3), R: (s, n). Returns c (s, 3), chi2 (s,), singular (s,) bool."""
    F = f[..., None] * H
    Ft = np.swapaxes(F, -1, -2)
    M = Ft @ F
    g = (Ft @ R[..., None])[..., 0]
    # scale to unit diagonal for conditioning
    d = np.sqrt(np.abs(np.einsum("sii->si", M)))
    d = np.where(d > 0, d, 1.0)
    Ms = M / (d[:, :, None] * d[:, None, :])
    gs = g / d
    cond_ok = np.isfinite(Ms).all(axis=(1, 2))
    Ms = np.where(cond_ok[:, None, None], Ms, np.eye(3))
    try:
        cs = -np.linalg.solve(Ms, gs[..., None])[..., 0]
        singular = ~cond_ok
    except np.linalg.LinAlgError:
        cs = np.empty_like(gs)
        singular = np.zeros(len(gs), dtype=bool)
        for i in range(len(gs)):
            try:
                cs[i] = -np.linalg.solve(Ms[i], gs[i])
            except np.linalg.LinAlgError:
                cs[i] = np.nan
                singular[i] = True
        singular |= ~cond_ok
    c = cs / d
    r = R + (F @ c[..., None])[..., 0]
    chi2 = np.einsum("sn,sn->s", r, r)
    chi2 = np.where(np.isfinite(chi2) & ~singular, chi2, np.inf)
    return c, chi2, singular


def _vp_fit(R, S, C, y, p: float, *, b_max: float = B_S_MAX, n_grid: int = 64, tol: float = 1e-9) -> dict:
    """Variable-projection fit for a stack of samples (module docstring). R, S, C: (s, n),
    C already multiplied by alpha = 5.5; y: (n,). Returns arrays sigma0, sigma0c, b_s, beta,
    chi2, status (s,)."""
    s, n = R.shape
    D = y ** (-p) + (1.0 - y) ** (-p)
    H = np.stack([S, C, -C * y], axis=-1)
    two = 2.0 ** (p + 1.0)
    # search variable t = ln(b_s + 2^{p+1})
    t_lo, t_hi = np.log(0.5), np.log(b_max + two)
    grid = np.linspace(t_lo, t_hi, n_grid)

    def chi2_at(t):
        b = np.exp(t) - two
        f = (two + b)[:, None] / (D + b[:, None])
        return _vp_solve(f, H, R)

    table = np.empty((n_grid, s))
    for j, tj in enumerate(grid):
        table[j] = chi2_at(np.full(s, tj))[1]
    kbest = np.argmin(table, axis=0)
    at_edge = (kbest == 0) | (kbest == n_grid - 1)
    k_in = np.clip(kbest, 1, n_grid - 2)
    a = grid[k_in - 1]
    bnd = grid[k_in + 1]
    gr = (np.sqrt(5.0) - 1.0) / 2.0
    x1 = bnd - gr * (bnd - a)
    x2 = a + gr * (bnd - a)
    f1 = chi2_at(x1)[1]
    f2 = chi2_at(x2)[1]
    for _ in range(200):
        # each sample stops at its own tolerance, so its result does not depend on the other
        # samples of the batch (bit-identical sweeps whatever the block size)
        act = bnd - a >= tol
        if not np.any(act):
            break
        left = f1 <= f2          # minimum in [a, x2]
        a_new = np.where(left, a, x1)
        b_new = np.where(left, x2, bnd)
        x1n = np.where(left, b_new - gr * (b_new - a_new), x2)
        x2n = np.where(left, x1, a_new + gr * (b_new - a_new))
        xnew = np.where(left, x1n, x2n)
        fnew = chi2_at(xnew)[1]
        f1n, f2n = np.where(left, fnew, f2), np.where(left, f1, fnew)
        x1, x2 = np.where(act, x1n, x1), np.where(act, x2n, x2)
        a, bnd = np.where(act, a_new, a), np.where(act, b_new, bnd)
        f1, f2 = np.where(act, f1n, f1), np.where(act, f2n, f2)
    t_best = np.where(at_edge, grid[kbest], 0.5 * (a + bnd))
    c, chi2, singular = chi2_at(t_best)
    b_best = np.exp(t_best) - two
    sigma0, gamma, sigma0c = c[:, 0], c[:, 1], c[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(sigma0c != 0, gamma / sigma0c, np.nan)
    status = np.where(at_edge, 1, 0)
    bad = singular | ~np.isfinite(chi2) | (sigma0 <= 0) | ~np.isfinite(beta)
    status = np.where(bad, 3, status)
    return dict(sigma0=sigma0, sigma0c=sigma0c, b_s=b_best, beta=beta, chi2=chi2, status=status)


def fit_surface_batch(bulk: EmpiricalParameters | np.ndarray, targets: TargetSet, *, p: float = 3.0,
                      chunk: int = 100, b_max: float = B_S_MAX) -> SurfaceFitBatch:
    """Fit (sigma0, sigma0c, b_s, beta) at fixed p for every bulk sample of ``bulk`` (an
    EmpiricalParameters batch of shape (n_samples,), or an (n_samples, 13) array), vectorised
    across samples by variable projection (module docstring). b_s is searched in
    (-2^{p+1}+0.5, b_max].

    Never raises for a bad sample: see :class:`SurfaceFitBatch` and :data:`BATCH_STATUS`.
    """
    if not isinstance(bulk, EmpiricalParameters):
        bulk = EmpiricalParameters.from_array(np.asarray(bulk, dtype=float))
    if bulk.batch_shape == ():
        bulk = bulk.broadcast_to((1,))
    if len(bulk.batch_shape) != 1:
        raise ValueError(f"bulk: batch shape must be (n_samples,), got {bulk.batch_shape}")
    if not (isinstance(p, (int, float)) and 0 < p <= 10):
        raise ValueError(f"p={p!r}: must be a number in (0, 10]")
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk={chunk!r}: must be a positive integer")
    if len(targets) <= 4:
        raise ValueError(f"--target={targets.name}: {len(targets)} nuclei for 4 free parameters; "
                         "allowed: more nuclei than free parameters")
    n_s = bulk.batch_shape[0]
    out = {k: np.full(n_s, np.nan) for k in ("sigma0", "sigma0c", "b_s", "beta", "chi2")}
    status = np.full(n_s, 2, dtype=np.int64)
    e_t = targets.energy_per_nucleon_MeV
    for start in range(0, n_s, chunk):
        sl = slice(start, min(start + chunk, n_s))
        bp = bulk[sl]
        terms = vacuum_bulk_terms(bp, targets.Z, targets.A, meta_model=MetaModel.from_parameters(bp))
        valid = np.asarray(terms.valid)
        if not np.any(valid):
            continue
        R = (terms.e_bulk + terms.e_coul)[valid] - e_t
        S = terms.area_per_nucleon[valid]
        C = ALPHA_CURV * terms.curvature_length[valid]
        res = _vp_fit(R, S, C, terms.y_p, float(p), b_max=b_max)
        idx = np.arange(sl.start, sl.stop)[valid]
        for k in out:
            out[k][idx] = res[k]
        status[idx] = res["status"]
    with np.errstate(invalid="ignore"):
        rms = np.sqrt(out["chi2"] / len(targets))
    return SurfaceFitBatch(sigma0=out["sigma0"], sigma0c=out["sigma0c"], b_s=out["b_s"], beta=out["beta"],
                           p=np.full(n_s, float(p)), rms_MeV=rms, status=status, n_nuclei=len(targets),
                           target=targets.name)
