"""Integer proton number option of the CLDM inner crust.

The continuous-Z solution Z* of each point is replaced by the better (lower free-energy density
at the same n_B, T) of the two neighbouring integers floor(Z*) and ceil(Z*), with the rest of
the cell (I, n_i, n_g; r_N follows from Z = (4 pi/3) r_N^3 n_i y_p) re-minimised by the same
Newton solver on the reduced coordinates z = (I, ln n_i, ln n_g). This is how integer-Z
crust compositions are usually obtained from a CLDM (e.g. Carreau et al. 2020); it is not
thermodynamically smooth in n_B (Z jumps by one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from crustuq.models.crust.cldm_cell import CellEvaluation, CellModel, evaluate_cell
from crustuq.models.crust.inner import InnerCrustResult, cell_outputs
from crustuq.models.crust.inner_solver import solve_cells
from crustuq.models.crust.status import CONVERGED

_FOUR_PI_3 = 4.0 * np.pi / 3.0


@dataclass(frozen=True)
class FixedZModel:
    """A CellModel plus one fixed proton number per point (used by :func:`evaluate_fixed_z`)."""

    cell: CellModel
    Z: np.ndarray

    @property
    def options(self):
        return self.cell.options

    def take(self, index) -> "FixedZModel":
        return FixedZModel(self.cell.take(index), self.Z[index])


def full_coordinates(z: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """x = (ln r_N, I, ln n_i, ln n_g) from z = (I, ln n_i, ln n_g) at fixed Z."""
    I, ln_ni, ln_ng = z[..., 0], z[..., 1], z[..., 2]
    y = 0.5 * (1.0 - I)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_r = (np.log(Z / (_FOUR_PI_3 * y)) - ln_ni) / 3.0
    return np.stack([ln_r, I, ln_ni, ln_ng], axis=-1)


def evaluate_fixed_z(z, n_B, T, model: FixedZModel, *, hessian: bool = False, need_parts: bool = False):
    """f' and its derivatives with respect to z at fixed Z (chain rule through ln r_N(z))."""
    x = full_coordinates(z, model.Z)
    ev = evaluate_cell(x, n_B, T, model.cell, hessian=hessian, need_parts=need_parts)
    y = 0.5 * (1.0 - z[..., 0])
    # d ln r / dz = (1/(6y), -1/3, 0); d2 ln r / dI2 = 1/(12 y^2)
    rho = np.stack([1.0 / (6.0 * y), np.full_like(y, -1.0 / 3.0), np.zeros_like(y)], axis=-1)
    g4 = ev.grad
    grad = g4[..., 1:] + g4[..., :1] * rho
    hess = None
    if hessian:
        H = ev.hessian
        Hzz = H[..., 1:, 1:]
        Hzr = H[..., 1:, 0]
        hess = (Hzz + Hzr[..., :, None] * rho[..., None, :] + rho[..., :, None] * Hzr[..., None, :]
                + H[..., 0, 0][..., None, None] * rho[..., :, None] * rho[..., None, :])
        hess[..., 0, 0] += g4[..., 0] / (12.0 * y * y)
    return CellEvaluation(f=ev.f, grad=grad, mu_B=ev.mu_B, feasible=ev.feasible, parts=ev.parts, hessian=hess)


def integer_z_inner_crust(inner: InnerCrustResult, model: CellModel) -> InnerCrustResult:
    """Replace the continuous-Z solution by the best neighbouring integer Z at every point."""
    S, N = inner.status.shape
    T = float(inner.T)
    x = inner.x.reshape(-1, 4)
    nb = np.tile(inner.n_B, S)
    flat = model.take(np.repeat(np.arange(S), N))
    Zc = inner["Z"].reshape(-1)
    ok = np.isfinite(Zc) & (inner.status.reshape(-1) == CONVERGED)
    best_x = x.copy()
    best_f = np.full(x.shape[0], np.inf)
    best_status = inner.status.reshape(-1).copy()
    best_res = inner.residual.reshape(-1).copy()
    idx = np.nonzero(ok)[0]
    for Zi in (np.floor(Zc[idx]), np.ceil(Zc[idx])):
        Zi = np.maximum(Zi, 1.0)
        zmodel = FixedZModel(flat.take(idx), Zi)
        z0 = x[idx][:, 1:]
        res = solve_cells(nb[idx], np.full(idx.size, T), zmodel, z0, evaluator=evaluate_fixed_z,
                          max_step=np.array([0.08, 0.15, 1.5]), fd_step=np.array([1e-7, 1e-6, 1e-6]))
        f = evaluate_fixed_z(res.x, nb[idx], np.full(idx.size, T), zmodel).f
        better = (res.status == CONVERGED) & (f < best_f[idx])
        j = idx[better]
        best_f[j] = f[better]
        best_x[j] = full_coordinates(res.x[better], Zi[better])
        best_status[j] = CONVERGED
        best_res[j] = res.residual[better]
    # points where neither integer converged keep the continuous solution but are flagged
    lost = ok & ~np.isfinite(best_f)
    best_status[lost] = 1  # NOT_CONVERGED
    values = cell_outputs(best_x, nb, np.full(nb.size, T), flat)
    values = {k: v.reshape(S, N) for k, v in values.items()}
    return replace(inner, values=values, status=best_status.reshape(S, N),
                   residual=best_res.reshape(S, N), x=best_x.reshape(S, N, 4))
