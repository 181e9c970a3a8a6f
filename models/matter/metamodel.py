"""Finite-temperature meta-model of homogeneous nuclear matter (ELFc, order N = 4).

Margueron, Hoffmann Casali & Gulminelli, PRC 97, 025805 (2018) at T = 0, extended to finite
temperature as in Dinh Thi, Fantina & Gulminelli, A&A 672, A160 (2023) and Grams et al.,
Universe (2025) Eqs. (18)-(20): an exact Fermi-Dirac kinetic part with density-dependent
effective masses plus a temperature-independent potential part. All formulas are written out in
physics_reference.md sections 1-2; equation numbers below refer to that document.

Conventions
-----------
* Densities ``n_n``, ``n_p`` in fm^-3, temperature ``T`` in MeV (k_B = 1).
* ``f`` is the free-energy density in MeV fm^-3 **without** rest masses;
  ``mu_n``, ``mu_p`` are the chemical potentials in MeV **including** the rest masses
  m_n c^2, m_p c^2 (CODATA 2018, :mod:`crustuq.models.constants`), so that
  ``P = n_n mu_n + n_p mu_p - (f + n_n m_n + n_p m_p)``.
* The kinetic term uses one nucleon mass m = m_n for both species (NSEoS convention,
  physics_reference.md 1.3 and 2).
* At T > 0 a species with zero density has mu = -inf (the exact limit of T ln n).
* Every function takes arrays that broadcast against each other and against the parameter
  batch (an :class:`EmpiricalParameters` whose fields have a batch shape).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crustuq.models import constants as const
from crustuq.models.matter.parameters import EmpiricalParameters
from crustuq.models.special.fermi_dirac import fd_1h, fd_3h, fd_inv_1h, fd_m1h

#: hbar^2 / 2m with m = m_n (MeV fm^2)
HBAR2_2M = const.HBARC**2 / (2.0 * const.M_N)
#: (3 pi^2)^(2/3)
_C3PI2_23 = (3.0 * const.PI2) ** (2.0 / 3.0)
_TWO_PI2 = 2.0 * const.PI2
_FACTORIAL = [1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0]

VARIANTS = ("ELFc",)
#: temperatures at or below this (MeV) are evaluated with the exact T = 0 expressions
T_COLD = 1e-8


@dataclass(frozen=True, eq=False)
class MetaModel:
    """Coefficients of the meta-model for one parameter set or a batch of them.

    Attributes hold arrays of the parameter batch shape (``v_is``/``v_iv`` have a leading
    axis alpha = 0..N). Build with :meth:`from_parameters`; :meth:`take` gathers samples.
    """

    n_sat: np.ndarray
    b: np.ndarray
    kappa_sat: np.ndarray
    kappa_sym: np.ndarray
    t_fg_sat: np.ndarray
    v_is: np.ndarray  # (N+1, *batch)
    v_iv: np.ndarray  # (N+1, *batch)
    order: int = 4
    variant: str = "ELFc"

    @classmethod
    def from_parameters(cls, params: EmpiricalParameters, *, order: int = 4,
                        variant: str = "ELFc") -> "MetaModel":
        """Linear relations between the v_alpha and the empirical parameters, ELFc
        (physics_reference.md 1.5)."""
        if variant not in VARIANTS:
            raise ValueError(
                f"variant={variant!r}: allowed are {', '.join(VARIANTS)} (ELFd is not available: its "
                "definition could not be verified against Margueron et al. 2018, see docs/physics.md)"
            )
        if order not in (2, 3, 4):
            raise ValueError(f"order={order!r}: allowed are 2, 3, 4")
        n_sat = params.n_sat
        ks = params.kappa_sat
        kv = params.kappa_sym
        t = 0.3 * 2.0 * HBAR2_2M * (1.5 * const.PI2 * n_sat) ** (2.0 / 3.0)  # (3 hbar^2/10m) kF^2
        kbar = ks + 3.0 * kv
        v_is = np.stack([
            params.E_sat - t * (1.0 + ks),
            -t * (2.0 + 5.0 * ks),
            params.K_sat - 2.0 * t * (-1.0 + 5.0 * ks),
            params.Q_sat - 2.0 * t * (4.0 - 5.0 * ks),
            params.Z_sat - 8.0 * t * (-7.0 + 5.0 * ks),
        ])[: order + 1]
        v_iv = np.stack([
            params.E_sym - (5.0 / 9.0) * t * (1.0 + kbar),
            params.L_sym - (5.0 / 9.0) * t * (2.0 + 5.0 * kbar),
            params.K_sym - (10.0 / 9.0) * t * (-1.0 + 5.0 * kbar),
            params.Q_sym - (10.0 / 9.0) * t * (4.0 - 5.0 * kbar),
            params.Z_sym - (40.0 / 9.0) * t * (-7.0 + 5.0 * kbar),
        ])[: order + 1]
        return cls(n_sat=n_sat, b=params.b, kappa_sat=ks, kappa_sym=kv, t_fg_sat=t,
                   v_is=v_is, v_iv=v_iv, order=order, variant=variant)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return np.shape(self.n_sat)

    def take(self, index) -> "MetaModel":
        """Gather parameter samples along the (first) batch axis, e.g. one row per point."""
        return MetaModel(
            n_sat=self.n_sat[index], b=self.b[index], kappa_sat=self.kappa_sat[index],
            kappa_sym=self.kappa_sym[index], t_fg_sat=self.t_fg_sat[index],
            v_is=self.v_is[:, index], v_iv=self.v_iv[:, index], order=self.order,
            variant=self.variant,
        )

    def expand(self, ndim: int) -> "MetaModel":
        """Append ``ndim`` trailing singleton axes to the batch (for sample x point grids)."""
        ex = (Ellipsis,) + (None,) * ndim
        return MetaModel(
            n_sat=self.n_sat[ex], b=self.b[ex], kappa_sat=self.kappa_sat[ex],
            kappa_sym=self.kappa_sym[ex], t_fg_sat=self.t_fg_sat[ex],
            v_is=self.v_is[ex], v_iv=self.v_iv[ex], order=self.order, variant=self.variant,
        )

    # ------------------------------------------------------------------ potential part
    def potential(self, n: np.ndarray, delta: np.ndarray, *, second: bool = True):
        """Potential energy per nucleon e_pot(n, delta) and its partial derivatives
        (physics_reference.md 1.4; Grams et al. 2025 Eq. 20).

        Returns (e_pot, de/dx, de/d(delta^2), d2e/dx2, d2e/dx d(delta^2)) in MeV with
        x = (n - n_sat)/(3 n_sat); the second derivatives are None unless ``second``.

        Because x^a (-3x)^{N+1-a} = (-3)^{N+1-a} x^{N+1}, the sum over a of
        (v_a/a!) x^a u_a(x) equals a polynomial p(x) minus K e^{-b(1+3x)} x^{N+1} with
        K = sum_a (v_a/a!) (-3)^{N+1-a}; this is evaluated (Horner), not the term-by-term sum.
        """
        x = (n - self.n_sat) / (3.0 * self.n_sat)
        d2 = delta * delta
        N = self.order
        b = self.b
        ex = np.exp(-b * (1.0 + 3.0 * x))
        c_is = [self.v_is[a] / _FACTORIAL[a] for a in range(N + 1)]
        c_iv = [self.v_iv[a] / _FACTORIAL[a] for a in range(N + 1)]
        k_is = sum(c_is[a] * (-3.0) ** (N + 1 - a) for a in range(N + 1))
        k_iv = sum(c_iv[a] * (-3.0) ** (N + 1 - a) for a in range(N + 1))

        def horner(c):
            p = c[N]
            dp = 0.0
            d2p = 0.0
            for a in range(N - 1, -1, -1):
                if second:
                    d2p = d2p * x + 2.0 * dp
                dp = dp * x + p
                p = p * x + c[a]
            return p, dp, d2p

        p_is, dp_is, d2p_is = horner(c_is)
        p_iv, dp_iv, d2p_iv = horner(c_iv)
        xNm1 = np.ones_like(x)
        for _ in range(N - 1):
            xNm1 = xNm1 * x                                # x^(N-1)
        xN1 = xNm1 * x                                     # x^N
        g = ex * xN1 * x                                   # e^{-b(1+3x)} x^{N+1}
        dg = ex * xN1 * ((N + 1) - 3.0 * b * x)
        e_iv = p_iv - k_iv * g
        e = p_is - k_is * g + d2 * e_iv
        de_iv = dp_iv - k_iv * dg
        de = dp_is - k_is * dg + d2 * de_iv
        if not second:
            return e, de, e_iv, None, None
        d2g = ex * xNm1 * (N * (N + 1) - 6.0 * b * (N + 1) * x + 9.0 * b * b * x * x)
        d2e_iv = d2p_iv - k_iv * d2g
        d2e = d2p_is - k_is * d2g + d2 * d2e_iv
        return e, de, e_iv, d2e, de_iv

    # ------------------------------------------------------------------ full state
    def state(self, n_n, n_p, T, *, derivatives: bool = False) -> "MatterState":
        """Thermodynamic state of homogeneous n-p matter at (n_n, n_p, T).

        Implements physics_reference.md section 2 (kinetic part, exact Fermi-Dirac integrals
        for T > 0, closed Fermi-gas forms at T = 0) and section 1.4 (potential part).
        With ``derivatives=True`` also returns ``dmu_dn[..., q, q']`` = d mu_q / d n_q' at
        fixed T (MeV fm^3), analytic.
        """
        n_n = np.asarray(n_n, dtype=float)
        n_p = np.asarray(n_p, dtype=float)
        T = np.asarray(T, dtype=float)
        _check_nonneg("n_n", n_n, "fm^-3")
        _check_nonneg("n_p", n_p, "fm^-3")
        _check_nonneg("T", T, "MeV")
        shape = np.broadcast_shapes(n_n.shape, n_p.shape, T.shape, self.batch_shape)
        n_n = np.broadcast_to(n_n, shape)
        n_p = np.broadcast_to(n_p, shape)
        T = np.broadcast_to(T, shape)
        n = n_n + n_p
        if np.any(n <= 0.0):
            raise ValueError("n_n + n_p = 0: the total density must be > 0 fm^-3")

        n_sat = self.n_sat
        ks, kv = self.kappa_sat, self.kappa_sym
        # effective-mass coefficients B_q = hbar^2/2m*_q (section 2), linear in densities
        dBdn_same_n = HBAR2_2M * (ks + kv) / n_sat   # dB_q/dn_q
        dBdn_other = HBAR2_2M * (ks - kv) / n_sat    # dB_q/dn_q'
        B_n = HBAR2_2M * (1.0 + (ks * n + kv * (n_n - n_p)) / n_sat)
        B_p = HBAR2_2M * (1.0 + (ks * n - kv * (n_n - n_p)) / n_sat)
        if np.any(B_n <= 0.0) or np.any(B_p <= 0.0):
            raise ValueError("effective mass became negative (m/m* <= 0) at the requested densities")

        kin_n = _kinetic(n_n, B_n, T, derivatives)
        kin_p = _kinetic(n_p, B_p, T, derivatives)
        tau_n, tau_p = kin_n.tau, kin_p.tau

        delta = (n_n - n_p) / n
        e, de_dx, de_dd2, d2e_dx2, d2e_dxdd2 = self.potential(n, delta, second=derivatives)
        # d(n e_pot)/dn_q = e + n de/dx dx/dn + n de/d(d2) d(d2)/dn_q
        dx_dn = 1.0 / (3.0 * n_sat)
        dd2_dnn = 2.0 * delta * (1.0 - delta) / n
        dd2_dnp = -2.0 * delta * (1.0 + delta) / n
        v_n = e + n * de_dx * dx_dn + n * de_dd2 * dd2_dnn
        v_p = e + n * de_dx * dx_dn + n * de_dd2 * dd2_dnp

        # mu_q = mu~_q + sum_q' tau_q' dB_q'/dn_q + dV/dn_q  (section 2)
        mu_n = kin_n.mu_eff + tau_n * dBdn_same_n + tau_p * dBdn_other + v_n
        mu_p = kin_p.mu_eff + tau_p * dBdn_same_n + tau_n * dBdn_other + v_p
        f = kin_n.f + kin_p.f + n * e
        P = n_n * mu_n + n_p * mu_p - f
        s = kin_n.s + kin_p.s

        dmu = None
        if derivatives:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                dmu = self._dmu_dn(n_n, n_p, n, delta, T, B_n, B_p, kin_n, kin_p,
                                   e, de_dx, de_dd2, d2e_dx2, d2e_dxdd2, dBdn_same_n, dBdn_other)
        # a species absent at T > 0 has mu = -inf exactly
        mu_n = np.where((n_n == 0.0) & (T > T_COLD), -np.inf, mu_n)
        mu_p = np.where((n_p == 0.0) & (T > T_COLD), -np.inf, mu_p)
        return MatterState(
            n_n=n_n, n_p=n_p, T=T, f=f, s=s, P=P,
            mu_n=mu_n + const.M_N, mu_p=mu_p + const.M_P,
            m_eff_n=HBAR2_2M / B_n, m_eff_p=HBAR2_2M / B_p,
            eta_n=kin_n.eta, eta_p=kin_p.eta, dmu_dn=dmu,
        )

    def _dmu_dn(self, n_n, n_p, n, delta, T, B_n, B_p, kin_n, kin_p, e, de_dx, de_dd2,
                d2e_dx2, d2e_dxdd2, bs, bo):
        """Analytic d mu_q / d n_q' (fixed T). Kinetic part through d(mu~_q)/dn and dtau/dn
        from _kinetic; potential part from the second derivatives of n e_pot."""
        # dB_q/dn_q' matrix: dBn/dnn = bs, dBn/dnp = bo, dBp/dnn = bo, dBp/dnp = bs
        dB = {("n", "n"): bs, ("n", "p"): bo, ("p", "n"): bo, ("p", "p"): bs}
        kin = {"n": kin_n, "p": kin_p}
        # d mu~_q/dn_q' and d tau_q/dn_q' at fixed T: both through (n_q, B_q)
        dmut = {}
        dtau = {}
        for q in "np":
            k = kin[q]
            for qq in "np":
                dmut[q, qq] = (k.dmu_dn if q == qq else 0.0) + k.dmu_dB * dB[q, qq]
                dtau[q, qq] = (k.dtau_dn if q == qq else 0.0) + k.dtau_dB * dB[q, qq]
        # potential: V = n e(x, d2). d2 = delta^2
        n_sat = self.n_sat
        dx_dn = 1.0 / (3.0 * n_sat)
        dd2 = {"n": 2.0 * delta * (1.0 - delta) / n, "p": -2.0 * delta * (1.0 + delta) / n}
        # second derivatives of delta^2: d2(d2)/dn_q dn_q'
        # delta = (nn - np)/n; d delta/dnn = (1-delta)/n = 2 np/n^2 ; d delta/dnp = -2 nn/n^2
        ddel = {"n": 2.0 * n_p / n**2, "p": -2.0 * n_n / n**2}
        d2del = {("n", "n"): -4.0 * n_p / n**3, ("p", "p"): 4.0 * n_n / n**3,
                 ("n", "p"): 2.0 * (n_n - n_p) / n**3, ("p", "n"): 2.0 * (n_n - n_p) / n**3}
        # e is linear in d2: d2e/dd2^2 = 0
        out = np.empty(np.shape(n) + (2, 2))
        for i, q in enumerate("np"):
            for j, qq in enumerate("np"):
                d2d2 = 2.0 * (ddel[q] * ddel[qq] + delta * d2del[q, qq])
                # d/dn_qq of [e + n e_x x' + n e_d dd2_q]
                de_tot_qq = de_dx * dx_dn + de_dd2 * dd2[qq]
                dv = (de_tot_qq
                      + de_dx * dx_dn
                      + n * (d2e_dx2 * dx_dn + d2e_dxdd2 * dd2[qq]) * dx_dn
                      + de_dd2 * dd2[q]
                      + n * (d2e_dxdd2 * dx_dn) * dd2[q]
                      + n * de_dd2 * d2d2)
                # rearrangement sum_q' tau_q' dB_q'/dn_q is linear in tau
                dre = dtau["n", qq] * dB["n", q] + dtau["p", qq] * dB["p", q]
                out[..., i, j] = dmut[q, qq] + dre + dv
        return out

    # ------------------------------------------------------------------ T = 0 helpers
    def energy_per_nucleon(self, n, delta) -> np.ndarray:
        """E/A(n, delta) at T = 0 in MeV, without rest mass (physics_reference.md 1.3-1.4)."""
        n = np.asarray(n, dtype=float)
        delta = np.asarray(delta, dtype=float)
        u = n / self.n_sat
        ks, kv = self.kappa_sat, self.kappa_sym
        kin = 0.5 * self.t_fg_sat * u ** (2.0 / 3.0) * (
            (1.0 + (ks + kv * delta) * u) * (1.0 + delta) ** (5.0 / 3.0)
            + (1.0 + (ks - kv * delta) * u) * np.abs(1.0 - delta) ** (5.0 / 3.0)
        )
        return kin + self.potential(n, delta, second=False)[0]

    def symmetry_energy(self, n) -> np.ndarray:
        """E_sym(n) = (1/2) d^2(E/A)/d delta^2 at delta = 0, T = 0 (MeV): the kinetic delta^2
        coefficient (5/9) t u^{2/3} [1 + (kappa_sat + 3 kappa_sym) u] plus the isovector potential
        (physics_reference.md 1.5)."""
        n = np.asarray(n, dtype=float)
        u = n / self.n_sat
        kbar = self.kappa_sat + 3.0 * self.kappa_sym
        kin = (5.0 / 9.0) * self.t_fg_sat * u ** (2.0 / 3.0) * (1.0 + kbar * u)
        return kin + self.potential(n, np.zeros_like(n), second=False)[2]

    def symmetry_slope(self, n) -> np.ndarray:
        """L_sym(n) = 3 n dE_sym/dn (MeV)."""
        n = np.asarray(n, dtype=float)
        u = n / self.n_sat
        kbar = self.kappa_sat + 3.0 * self.kappa_sym
        # d/dn of (5/9) t u^{2/3}(1 + kbar u), times 3n
        dkin = (5.0 / 9.0) * self.t_fg_sat * ((2.0 / 3.0) * u ** (-1.0 / 3.0) * (1.0 + kbar * u)
                                              + u ** (2.0 / 3.0) * kbar) / self.n_sat
        dpot = self.potential(n, np.zeros_like(n))[4] / (3.0 * self.n_sat)
        return 3.0 * n * (dkin + dpot)


@dataclass(frozen=True, eq=False)
class MatterState:
    """Thermodynamic state of homogeneous nuclear matter (see module docstring for units).

    ``f`` free-energy density without rest masses (MeV fm^-3); ``s`` entropy density (fm^-3);
    ``P`` pressure (MeV fm^-3); ``mu_n``, ``mu_p`` chemical potentials including rest masses
    (MeV); ``m_eff_q`` = m*_q/m; ``eta_q`` kinetic degeneracy (mu~_q / T; +inf at T = 0);
    ``dmu_dn`` (optional) = d mu_q / d n_q' (MeV fm^3).
    """

    n_n: np.ndarray
    n_p: np.ndarray
    T: np.ndarray
    f: np.ndarray
    s: np.ndarray
    P: np.ndarray
    mu_n: np.ndarray
    mu_p: np.ndarray
    m_eff_n: np.ndarray
    m_eff_p: np.ndarray
    eta_n: np.ndarray
    eta_p: np.ndarray
    dmu_dn: np.ndarray | None = None

    @property
    def n(self) -> np.ndarray:
        return self.n_n + self.n_p

    @property
    def e(self) -> np.ndarray:
        """Internal energy density without rest masses, e = f + T s (MeV fm^-3)."""
        return self.f + self.T * self.s

    @property
    def F_per_A(self) -> np.ndarray:
        """Free energy per nucleon without rest mass (MeV)."""
        return self.f / self.n

    @property
    def S_per_A(self) -> np.ndarray:
        """Entropy per nucleon (k_B = 1)."""
        return self.s / self.n


@dataclass(frozen=True)
class _Kinetic:
    f: np.ndarray       # kinetic free-energy density
    tau: np.ndarray     # kinetic density tau_q (fm^-5)
    mu_eff: np.ndarray  # mu~_q = T eta_q (or B kF^2 at T = 0)
    s: np.ndarray
    eta: np.ndarray
    dmu_dn: np.ndarray | float = 0.0
    dmu_dB: np.ndarray | float = 0.0
    dtau_dn: np.ndarray | float = 0.0
    dtau_dB: np.ndarray | float = 0.0


def _kinetic(nq: np.ndarray, B: np.ndarray, T: np.ndarray, derivatives: bool) -> _Kinetic:
    """Kinetic part of one species (physics_reference.md section 2) at fixed B_q = hbar^2/2m*_q.

    T = 0: tau = (3/5)(3 pi^2)^{2/3} n^{5/3}, mu~ = B kF^2, f = B tau.
    T > 0: eta = F_{1/2}^{-1}(2 pi^2 n (B/T)^{3/2}), tau = (T/B)^{5/2} F_{3/2}(eta)/(2 pi^2),
    f = n T eta - (2/3) B tau, s = (5/3) B tau / T - n eta.
    Temperatures <= T_COLD use the T = 0 forms (the thermal corrections are < 1e-18 there).
    """
    cold = T <= T_COLD
    if not np.any(cold):
        return _kinetic_hot(nq, B, T, derivatives)
    if np.all(cold):
        return _kinetic_cold(nq, B, derivatives)
    hot = ~cold
    kc = _kinetic_cold(nq[cold], B[cold], derivatives)
    kh = _kinetic_hot(nq[hot], B[hot], T[hot], derivatives)
    out = {}
    for name in ("f", "tau", "mu_eff", "s", "eta") + (("dmu_dn", "dmu_dB", "dtau_dn", "dtau_dB") if derivatives else ()):
        arr = np.empty(nq.shape)
        arr[cold] = getattr(kc, name)
        arr[hot] = getattr(kh, name)
        out[name] = arr
    return _Kinetic(**out)


def _kinetic_cold(nq, B, derivatives):
    kf2 = _C3PI2_23 * np.cbrt(nq) ** 2
    tau = 0.6 * nq * kf2
    d = {}
    if derivatives:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = dict(dmu_dn=np.where(nq > 0, (2.0 / 3.0) * B * kf2 / nq, np.inf), dmu_dB=kf2,
                     dtau_dn=kf2, dtau_dB=np.zeros_like(kf2))
    return _Kinetic(f=B * tau, tau=tau, mu_eff=B * kf2, s=np.zeros_like(tau),
                    eta=np.full(nq.shape, np.inf), **d)


def _kinetic_hot(nq, B, T, derivatives):
    empty = nq <= 0.0
    any_empty = bool(np.any(empty))
    n_safe = np.where(empty, 1.0, nq) if any_empty else nq
    r = T / B  # (T/B), fm^-2
    r32 = r * np.sqrt(r)
    eta = fd_inv_1h(_TWO_PI2 * n_safe / r32)
    tau = r32 * r * fd_3h(eta) / _TWO_PI2
    mu = T * eta
    f = n_safe * mu - (2.0 / 3.0) * B * tau
    s = (5.0 / 3.0) * B * tau / T - n_safe * eta
    d = {}
    if derivatives:
        # n = r^{3/2} F_{1/2}(eta)/(2 pi^2), r = T/B. At fixed B: dn = r^{3/2} F_{-1/2}/(4 pi^2) deta;
        # at fixed n: F_{1/2}(eta) prop. B^{3/2} -> deta/dB = (3/2) F_{1/2} / (B F'_{1/2})
        fm1 = fd_m1h(eta)
        f12 = fd_1h(eta)
        deta_dn = 2.0 * _TWO_PI2 / (r32 * fm1)
        deta_dB = 3.0 * f12 / (B * fm1)
        # tau = r^{5/2} F_{3/2}(eta)/(2 pi^2); dF_{3/2}/deta = (3/2) F_{1/2}
        dtau_deta = r32 * r * 1.5 * f12 / _TWO_PI2
        d = dict(dmu_dn=T * deta_dn, dmu_dB=T * deta_dB, dtau_dn=dtau_deta * deta_dn,
                 dtau_dB=dtau_deta * deta_dB - 2.5 * tau / B)
    if any_empty:
        # an absent species: no kinetic contribution; mu~ -> -inf is set by the caller
        zero = lambda a: np.where(empty, 0.0, a)
        f, tau, mu, s = zero(f), zero(tau), zero(mu), zero(s)
        eta = np.where(empty, -np.inf, eta)
        if derivatives:
            d = dict(dmu_dn=np.where(empty, np.inf, d["dmu_dn"]), dmu_dB=zero(d["dmu_dB"]),
                     dtau_dn=zero(d["dtau_dn"]), dtau_dB=zero(d["dtau_dB"]))
    return _Kinetic(f=f, tau=tau, mu_eff=mu, s=s, eta=eta, **d)


def _check_nonneg(name: str, arr: np.ndarray, unit: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: non-finite value; must be a finite number >= 0 {unit}")
    if np.any(arr < 0.0):
        raise ValueError(f"{name}={float(arr[arr < 0].ravel()[0]):g} {unit}: must be >= 0")


def meta_model(params: EmpiricalParameters | str, *, order: int = 4, variant: str = "ELFc") -> MetaModel:
    """Convenience: a :class:`MetaModel` from a parameter set or its name."""
    if isinstance(params, str):
        params = EmpiricalParameters.named(params)
    return MetaModel.from_parameters(params, order=order, variant=variant)


def state_from_nb_delta(mm: MetaModel, n_B, delta, T, **kw) -> MatterState:
    """State at total density n_B (fm^-3) and asymmetry delta = (n_n - n_p)/n_B in [-1, 1]."""
    n_B = np.asarray(n_B, dtype=float)
    delta = np.asarray(delta, dtype=float)
    if np.any(~np.isfinite(n_B)) or np.any(n_B <= 0):
        bad = n_B[~(np.isfinite(n_B) & (n_B > 0))].ravel()[0]
        raise ValueError(f"n_B={bad:g} fm^-3: must be > 0")
    if np.any(~np.isfinite(delta)) or np.any(np.abs(delta) > 1.0):
        bad = delta[~(np.abs(delta) <= 1.0)].ravel()[0]
        raise ValueError(f"delta={bad:g}: must lie in [-1, 1]")
    return mm.state(0.5 * n_B * (1.0 + delta), 0.5 * n_B * (1.0 - delta), T, **kw)


__all__ = ["MetaModel", "MatterState", "meta_model", "state_from_nb_delta", "HBAR2_2M"]

_ = math  # keep the import for doc references
