"""Homogeneous npe matter in beta equilibrium (the core side of the crust-core transition).

Neutrons and protons from the finite-T meta-model, electrons from the exact relativistic
electron gas, charge neutrality n_e = n_p and beta equilibrium mu_n = mu_p + mu_e (rest masses
included). Muons are neglected: they appear only where mu_e > m_mu c^2 = 105.7 MeV, above the
densities of the crust-core transition (n ~ 0.08 fm^-3, mu_e ~ 80 MeV).

Both solvers are safeguarded Newton iterations with analytic derivatives (the meta-model's
d mu_q / d n_q' and the electron d mu_e / d n_e), vectorised over points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models import constants as const
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED
from crustuq.models.leptons.electrons import electron_gas
from crustuq.models.matter.metamodel import MetaModel

Y_MIN = 1e-10


@dataclass(frozen=True)
class HomogeneousState:
    n_B: np.ndarray
    T: np.ndarray
    y_p: np.ndarray       # = Y_e
    P: np.ndarray         # MeV fm^-3
    F_per_A: np.ndarray   # MeV, neutron rest mass subtracted
    mu_n: np.ndarray      # MeV, rest mass included
    mu_e: np.ndarray      # MeV, rest mass included
    S_per_A: np.ndarray
    status: np.ndarray
    residual: np.ndarray  # |mu_n - mu_p - mu_e| in MeV


def _evaluate(n_n, n_p, T, mm, positrons):
    st = mm.state(n_n, n_p, T, derivatives=True)
    el = electron_gas(n_p, T, positrons=positrons)
    return st, el


def _state(n_n, n_p, T, st, el, resid, status) -> HomogeneousState:
    n_B = n_n + n_p
    f = st.f + n_p * (const.M_P - const.M_N) + el.f_e  # relative to n_B m_n
    return HomogeneousState(n_B=n_B, T=T, y_p=n_p / n_B, P=st.P + el.P_e, F_per_A=f / n_B,
                            mu_n=st.mu_n, mu_e=el.mu_e, S_per_A=(st.s + el.s_e) / n_B,
                            status=status, residual=resid)


def beta_equilibrium(n_B, T, mm: MetaModel, *, positrons: bool = True, tol: float = 1e-10,
                     max_iter: int = 60) -> HomogeneousState:
    """npe matter in beta equilibrium at (n_B, T); n_B, T and the meta-model batch broadcast.

    g(y) = mu_n - mu_p - mu_e decreases monotonically with the proton fraction y on (0, 1/2):
    Newton steps are kept inside a shrinking bracket (bisection when they leave it)."""
    n_B = np.asarray(n_B, dtype=float)
    T = np.asarray(T, dtype=float)
    shape = np.broadcast_shapes(n_B.shape, T.shape, mm.batch_shape)
    n_B = np.broadcast_to(n_B, shape)
    T = np.broadcast_to(T, shape)
    lo = np.full(shape, Y_MIN)
    hi = np.full(shape, 0.5)
    y = np.full(shape, 0.03)
    st, el = _evaluate(n_B * (1 - Y_MIN), n_B * Y_MIN, T, mm, positrons)
    g_lo = st.mu_n - st.mu_p - el.mu_e
    zero_y = g_lo <= 0  # (T = 0) no protons at all in equilibrium
    for _ in range(max_iter):
        st, el = _evaluate(n_B * (1 - y), n_B * y, T, mm, positrons)
        g = st.mu_n - st.mu_p - el.mu_e
        d = st.dmu_dn
        dg = n_B * (-d[..., 0, 0] + d[..., 0, 1] + d[..., 1, 0] - d[..., 1, 1] - el.dmu_dn)
        lo = np.where(g > 0, y, lo)
        hi = np.where(g > 0, hi, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_new = y - g / dg
        outside = ~((y_new > lo) & (y_new < hi)) | ~np.isfinite(y_new)
        y_new = np.where(outside, 0.5 * (lo + hi), y_new)
        conv = np.abs(g) < tol * np.maximum(1.0, np.abs(st.mu_n - const.M_N))
        y = np.where(conv | zero_y, y, y_new)
        if np.all(conv | zero_y):
            break
    y = np.where(zero_y, Y_MIN, y)
    st, el = _evaluate(n_B * (1 - y), n_B * y, T, mm, positrons)
    resid = np.where(zero_y, 0.0, np.abs(st.mu_n - st.mu_p - el.mu_e))
    status = np.where(resid < 1e-8, CONVERGED, NOT_CONVERGED).astype(np.int8)
    return _state(n_B * (1 - y), n_B * y, T, st, el, resid, status)


def beta_equilibrium_at_pressure(P, T, mm: MetaModel, n_guess, *, positrons: bool = True,
                                 tol: float = 1e-11, max_iter: int = 50) -> HomogeneousState:
    """npe matter in beta equilibrium at pressure P (MeV fm^-3): Newton in (n_n, n_p) on
    mu_n - mu_p - mu_e = 0 and P(n_n, n_p) = P, with dP = sum_q n_q d mu_q (Gibbs-Duhem at
    fixed T). ``n_guess``: a starting baryon density (fm^-3)."""
    P = np.asarray(P, dtype=float)
    T = np.asarray(T, dtype=float)
    shape = np.broadcast_shapes(P.shape, T.shape, np.shape(n_guess), mm.batch_shape)
    P = np.broadcast_to(P, shape)
    T = np.broadcast_to(T, shape)
    start = beta_equilibrium(np.broadcast_to(n_guess, shape), T, mm, positrons=positrons)
    nn = start.n_B * (1 - start.y_p)
    npp = start.n_B * start.y_p
    for _ in range(max_iter):
        st, el = _evaluate(nn, npp, T, mm, positrons)
        d = st.dmu_dn
        F1 = st.mu_n - st.mu_p - el.mu_e
        F2 = st.P + el.P_e - P
        a11 = d[..., 0, 0] - d[..., 1, 0]
        a12 = d[..., 0, 1] - d[..., 1, 1] - el.dmu_dn
        a21 = nn * d[..., 0, 0] + npp * d[..., 1, 0]
        a22 = nn * d[..., 0, 1] + npp * d[..., 1, 1] + npp * el.dmu_dn
        det = a11 * a22 - a12 * a21
        dn = -(a22 * F1 - a12 * F2) / det
        dp = -(-a21 * F1 + a11 * F2) / det
        # keep densities positive (at most halve them per step); a converged point is frozen,
        # so its result does not depend on the other points of the batch
        conv = (np.abs(F1) < 1e-9) & (np.abs(F2) < tol * np.abs(P))
        if np.all(conv):
            break
        lim = np.maximum(np.maximum(-dn / (0.5 * nn), -dp / (0.5 * npp)), 1.0)
        nn = np.where(conv, nn, nn + dn / lim)
        npp = np.where(conv, npp, npp + dp / lim)
    st, el = _evaluate(nn, npp, T, mm, positrons)
    resid = np.abs(st.mu_n - st.mu_p - el.mu_e)
    ok = (resid < 1e-8) & (np.abs(st.P + el.P_e - P) < 1e-8 * np.abs(P))
    status = np.where(ok, CONVERGED, NOT_CONVERGED).astype(np.int8)
    return _state(nn, npp, T, st, el, resid, status)
