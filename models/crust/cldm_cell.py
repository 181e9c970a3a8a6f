"""Free energy of a Wigner-Seitz cell of the inner crust in the compressible liquid-drop model.

One spherical cluster of radius r_N, density n_i and asymmetry I (proton fraction
y_p = (1 - I)/2) in a neutron gas of density n_g and a uniform electron gas (Grams et al.,
Universe 2025, Eqs. 15-25; Dinh Thi et al. 2023; physics_reference.md 5.1-5.5):

    f_WS = u f_B(n_i, I, T) + (1 - u) f_B(n_g, 1, T) + f_e(n_e, T) + f_surf+curv + f_Coul
           [+ f_trans]                                                          (Eq. 15)

with u = (n_B - n_g)/(n_i - n_g) (baryon conservation, Eq. 16) and n_e = u n_i y_p (charge
neutrality); f_B is the finite-T meta-model free-energy density, f_e the exact electron gas,
f_surf+curv = (3u/r_N)(sigma_s + 2 sigma_c / r_N) (Eq. 22, times h(T) if enabled) and f_Coul
of Eq. (21). Rest masses are included relative to the neutron mass: the module works with
f' = f_WS - n_B m_n c^2 and mu' = mu - m_n c^2 (exactly the "free energy per nucleon with the
neutron mass subtracted" of Grams et al. Fig. 1).

Internal variables (the minimisation coordinates), per point:
    x = (ln r_N [fm], I, ln n_i [fm^-3], ln n_g [fm^-3]).

:func:`evaluate_cell` returns f' and its analytic gradient with respect to x (the equilibrium
conditions), and the derived observables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models import constants as const
from crustuq.models.cldm.coulomb import coulomb_energy_density, coulomb_prefactor, eta3
from crustuq.models.cldm.surface import (
    SurfaceParameters,
    critical_temperature,
    curvature_tension,
    surface_tension,
    temperature_factor,
)
from crustuq.models.leptons.electrons import electron_gas
from crustuq.models.matter.metamodel import MetaModel

DM_PN = const.M_P - const.M_N
FOUR_PI_3 = 4.0 * np.pi / 3.0


@dataclass(frozen=True)
class CellOptions:
    """Model options of the CLDM cell.

    ``surface_temperature_factor``: multiply sigma_s, sigma_c by h(T) (Grams Eq. 26; off by
    default as in Grams et al. 2025). ``ion_translation``: add the translational free energy of
    the cluster, T[ln(n_I lambda_I^3) - 1] per cell (Dinh Thi et al. 2023; off by default).
    ``positrons``: include e+ in the electron gas (negligible in the inner crust).
    """

    surface_temperature_factor: bool = False
    ion_translation: bool = False
    positrons: bool = True


@dataclass(frozen=True)
class CellModel:
    """Everything that fixes the cell physics for a batch of points: a meta-model and surface
    parameters whose batch shape broadcasts with the point arrays, the bulk K_sat/n_sat (for the
    critical temperature) and the options."""

    mm: MetaModel
    sp: SurfaceParameters
    K_sat: np.ndarray
    options: CellOptions = CellOptions()

    def take(self, index) -> "CellModel":
        return CellModel(self.mm.take(index), self.sp.take(index), np.asarray(self.K_sat)[index], self.options)


@dataclass(frozen=True)
class CellEvaluation:
    f: np.ndarray          # f' = f_WS - n_B m_n (MeV fm^-3)
    grad: np.ndarray       # d f' / d x, shape (..., 4)
    mu_B: np.ndarray       # d f'/dn_B at fixed x (MeV, relative to m_n)
    feasible: np.ndarray   # bool
    parts: dict
    hessian: np.ndarray | None = None  # d2 f' / dx dx, shape (..., 4, 4)


def unpack(x: np.ndarray):
    return np.exp(x[..., 0]), x[..., 1], np.exp(x[..., 2]), np.exp(x[..., 3])


def analytic_hessian_available(options: CellOptions) -> bool:
    """The analytic Hessian covers the default model; the optional h(T) factor and ion
    translation terms fall back to differences of the analytic gradient."""
    return not (options.surface_temperature_factor or options.ion_translation)


def evaluate_cell(x: np.ndarray, n_B: np.ndarray, T: np.ndarray, model: CellModel, *,
                  need_parts: bool = False, hessian: bool = False) -> CellEvaluation:
    """f' and its gradient (and, with ``hessian=True``, its Hessian) with respect to
    x = (ln r_N, I, ln n_i, ln n_g) at fixed (n_B, T).

    Infeasible points (u outside (0, 1), y_p outside (0, 1)) get f' = +inf and a zero
    gradient; callers treat them as rejected steps.
    """
    r, I, n_i, n_g = unpack(x)
    y = 0.5 * (1.0 - I)
    D = n_i - n_g
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (n_B - n_g) / D
    feasible = (D > 0) & (u > 0) & (u < 1) & (y > 0) & (y < 1) & np.isfinite(r)
    # evaluate on safe values, mask afterwards
    u = np.where(feasible, u, 0.5)
    y = np.where(feasible, y, 0.25)
    I_s = 1.0 - 2.0 * y
    n_i = np.where(feasible, n_i, 0.1)
    n_g = np.where(feasible, n_g, 1e-6)
    r = np.where(feasible, r, 6.0)
    D = n_i - n_g

    mm, sp, opt = model.mm, model.sp, model.options
    if hessian and not analytic_hessian_available(opt):
        raise ValueError("hessian: not available with the h(T) or ion-translation options")
    nn_i = 0.5 * n_i * (1.0 + I_s)
    np_i = 0.5 * n_i * (1.0 - I_s)
    cl = mm.state(nn_i, np_i, T, derivatives=hessian)
    gas = mm.state(n_g, np.zeros_like(n_g), T, derivatives=hessian)
    # relative-to-m_n rest masses: f_i' = f_i + n_p (m_p - m_n); mu_n' = mu_n - m_n; mu_p' = mu_p - m_n
    f_i = cl.f + np_i * DM_PN
    mun_i = cl.mu_n - const.M_N
    mup_i = cl.mu_p - const.M_N
    f_g = gas.f
    mu_g = gas.mu_n - const.M_N
    n_e = u * n_i * y
    el = electron_gas(n_e, T, positrons=opt.positrons)
    mu_e = el.mu_e

    # ---- finite-size terms F(r, u, n_i, y) and their partial derivatives
    if hessian:
        sig, dsig, d2sig = surface_tension(y, sp, second=True)
        sgc, dsgc, d2sgc = curvature_tension(y, sp, second=True)
    else:
        sig, dsig = surface_tension(y, sp)
        sgc, dsgc = curvature_tension(y, sp)
    if opt.surface_temperature_factor:
        Tc = critical_temperature(y, model.K_sat, mm.n_sat)
        dTc = Tc * (1.0 - 2.0 * y) / (y * (1.0 - y))  # dT_c/dy
        h, dh_dT, dh_dTc = temperature_factor(T, Tc)
        dsig = dsig * h + sig * dh_dTc * dTc
        dsgc = dsgc * h + sgc * dh_dTc * dTc
        sig_T = sig * dh_dT
        sgc_T = sgc * dh_dT
        sig = sig * h
        sgc = sgc * h
    else:
        sig_T = sgc_T = 0.0
    r2, r3 = r * r, r * r * r
    f_sc = 3.0 * u * sig / r + 6.0 * u * sgc / r2
    Fr = -3.0 * u * sig / r2 - 12.0 * u * sgc / r3
    Fu = 3.0 * sig / r + 6.0 * sgc / r2
    Fy = 3.0 * u * dsig / r + 6.0 * u * dsgc / r2
    Fn = 0.0
    s_fs = -(3.0 * u * sig_T / r + 6.0 * u * sgc_T / r2)  # -d f_sc / dT
    fC, fC_r, fC_n, fC_y, fC_u = coulomb_energy_density(n_i, y, r, u)
    F = f_sc + fC
    Fr = Fr + fC_r
    Fu = Fu + fC_u
    Fy = Fy + fC_y
    Fn = Fn + fC_n
    if opt.ion_translation:
        ftr, tr_r, tr_u, tr_n, tr_y, s_tr = _translation(r, u, n_i, y, T)
        F = F + ftr
        Fr = Fr + tr_r
        Fu = Fu + tr_u
        Fn = Fn + tr_n
        Fy = Fy + tr_y
        s_fs = s_fs + s_tr

    f = u * f_i + (1.0 - u) * f_g + el.f_e + F
    # ---- derivatives of u and n_e with respect to (I, n_i, n_g)
    u_ni = -u / D
    u_ng = (u - 1.0) / D
    a_n = 0.5 * (1.0 + I_s)
    mubar = a_n * mun_i + y * mup_i
    fiI = 0.5 * n_i * (mun_i - mup_i)
    ne_I = -0.5 * u * n_i
    ne_n = -y * u * n_g / D
    ne_g = n_i * y * u_ng
    B = f_i - f_g + Fu
    g_r = Fr
    g_I = u * fiI + mu_e * ne_I - 0.5 * Fy
    g_n = u * mubar + B * u_ni + mu_e * ne_n + Fn
    g_g = (1.0 - u) * mu_g + B * u_ng + mu_e * ne_g
    scale = (r, 1.0, n_i, n_g)
    grad = np.stack([r * g_r, g_I, n_i * g_n, n_g * g_g], axis=-1)
    mu_B = (f_i - f_g + mu_e * n_i * y + Fu) / D

    hess = None
    if hessian:
        # second partials of F(r, u, n_i, y): surface+curvature, then Coulomb (Eq. 21)
        Frr = 6.0 * u * sig / r3 + 36.0 * u * sgc / (r2 * r2)
        Fru = -3.0 * sig / r2 - 12.0 * sgc / r3
        Fry = -3.0 * u * dsig / r2 - 12.0 * u * dsgc / r3
        Fuy = 3.0 * dsig / r + 6.0 * dsgc / r2
        Fyy = 3.0 * u * d2sig / r + 6.0 * u * d2sgc / r2
        eC, deC = eta3(u)
        aC = coulomb_prefactor(n_i, y, r)
        dC = aC * (eC + u * deC)  # dfC/du
        Frr = Frr + 2.0 * fC / r2
        Frn = 4.0 * fC / (r * n_i)
        Fry = Fry + 4.0 * fC / (r * y)
        Fru = Fru + 2.0 * dC / r
        Fnn = 2.0 * fC / (n_i * n_i)
        Fny = 4.0 * fC / (n_i * y)
        Fnu = 2.0 * dC / n_i
        Fyy = Fyy + 2.0 * fC / (y * y)
        Fuy = Fuy + 2.0 * dC / y
        Fuu = aC * (2.0 * deC + u * (2.0 / 3.0) / (u * np.cbrt(u) ** 2))
        # bulk cluster second derivatives from d mu_q / d n_q'
        M = cl.dmu_dn
        Mnn, Mnp, Mpn, Mpp = M[..., 0, 0], M[..., 0, 1], M[..., 1, 0], M[..., 1, 1]
        fi_nn = a_n * a_n * Mnn + a_n * y * (Mnp + Mpn) + y * y * Mpp
        fi_nI = 0.5 * (mun_i - mup_i) + 0.5 * n_i * (a_n * (Mnn - Mnp) + y * (Mpn - Mpp))
        fi_II = 0.25 * n_i * n_i * (Mnn - Mnp - Mpn + Mpp)
        mug_p = gas.dmu_dn[..., 0, 0]
        mue_p = el.dmu_dn
        D2 = D * D
        u_nn = 2.0 * u / D2
        u_ng2 = (1.0 - 2.0 * u) / D2
        u_gg = 2.0 * (u - 1.0) / D2
        ne_In = 0.5 * u * n_g / D
        ne_Ig = -0.5 * n_i * u_ng
        ne_nn = y * (2.0 * u_ni + n_i * u_nn)
        ne_ng = y * (u_ng + n_i * u_ng2)
        ne_gg = n_i * y * u_gg
        yI = -0.5
        H = np.empty(np.shape(f) + (4, 4))
        H[..., 0, 0] = Frr
        H[..., 0, 1] = Fry * yI
        H[..., 0, 2] = Frn + Fru * u_ni
        H[..., 0, 3] = Fru * u_ng
        H[..., 1, 1] = u * fi_II + mue_p * ne_I * ne_I + Fyy * yI * yI
        H[..., 1, 2] = (u_ni * fiI + u * fi_nI + mue_p * ne_I * ne_n + mu_e * ne_In
                        + yI * (Fuy * u_ni + Fny))
        H[..., 1, 3] = u_ng * fiI + mue_p * ne_I * ne_g + mu_e * ne_Ig + yI * Fuy * u_ng
        H[..., 2, 2] = (2.0 * u_ni * mubar + u * fi_nn + Fuu * u_ni * u_ni + 2.0 * Fnu * u_ni
                        + B * u_nn + mue_p * ne_n * ne_n + mu_e * ne_nn + Fnn)
        H[..., 2, 3] = (u_ng * mubar + (-mu_g + Fuu * u_ng) * u_ni + B * u_ng2
                        + mue_p * ne_n * ne_g + mu_e * ne_ng + Fnu * u_ng)
        H[..., 3, 3] = (-2.0 * u_ng * mu_g + (1.0 - u) * mug_p + Fuu * u_ng * u_ng + B * u_gg
                        + mue_p * ne_g * ne_g + mu_e * ne_gg)
        for i in range(4):
            for j in range(i):
                H[..., i, j] = H[..., j, i]
        # to the coordinates x: d/d ln a = a d/da
        sc = np.stack(np.broadcast_arrays(*scale), axis=-1)
        H = H * sc[..., :, None] * sc[..., None, :]
        for i, g_nat in ((0, g_r), (2, g_n), (3, g_g)):
            H[..., i, i] += sc[..., i] * g_nat
        hess = np.where(feasible[..., None, None], H, 0.0)

    f = np.where(feasible, f, np.inf)
    grad = np.where(feasible[..., None], grad, 0.0)
    parts = {}
    if need_parts:
        s = u * cl.s + (1.0 - u) * gas.s + el.s_e + s_fs
        A = FOUR_PI_3 * r**3 * n_i
        parts = dict(
            r_N=r, I=I_s, n_cl=n_i, n_g=n_g, u=u, y_p=y, n_e=n_e, Z=A * y, A_cl=A,
            A_cell=n_B * A / (u * n_i), r_WS=r / np.cbrt(u), Y_e=n_e / n_B,
            mu_e=mu_e, mu_n_cluster=mun_i, mu_p_cluster=mup_i, mu_g=mu_g, F_fs_y=Fy,
            s=s, P_e=el.P_e, P_g=gas.P, f_surf=f_sc, f_coul=fC,
        )
    return CellEvaluation(f=f, grad=grad, mu_B=mu_B, feasible=feasible, parts=parts, hessian=hess)


def _translation(r, u, n_i, y, T):
    """Translational free energy density of the clusters, n_I T [ln(n_I lambda^3) - 1] with
    n_I = 3u/(4 pi r^3) and lambda = (2 pi hbar^2 / (M_I T))^{1/2}, M_I = A[(1-y) m_n + y m_p]
    (Dinh Thi et al. 2023; physics_reference.md 5.5). Zero at T = 0. Returns the density and its
    partials (r, u, n_i, y) and the entropy density."""
    T = np.broadcast_to(np.asarray(T, dtype=float), np.shape(r))
    hot = T > 0
    Ts = np.where(hot, T, 1.0)
    nI = 3.0 * u / (4.0 * np.pi * r**3)
    A = FOUR_PI_3 * r**3 * n_i
    m1 = (1.0 - y) * const.M_N + y * const.M_P
    M = A * m1
    lam3 = (2.0 * np.pi * const.HBARC**2 / (M * Ts)) ** 1.5
    L = np.log(nI * lam3)
    f = nI * Ts * (L - 1.0)
    # d f / d ln nI at fixed M: nI T L ; d f / d ln M = -(3/2) nI T
    df_dlnnI = nI * Ts * L
    df_dlnM = -1.5 * nI * Ts
    dr = (df_dlnnI * (-3.0) + df_dlnM * 3.0) / r
    du = df_dlnnI / u
    dn = df_dlnM / n_i
    dy = df_dlnM * (const.M_P - const.M_N) / m1
    # entropy: -df/dT = -nI (L - 1) - nI T dL/dT, dL/dT = -3/(2T)
    s = -nI * (L - 1.0) + 1.5 * nI
    z = lambda a: np.where(hot, a, 0.0)
    return z(f), z(dr), z(du), z(dn), z(dy), z(s)
