r"""Ideal relativistic electron gas (with e+e- pairs) at any degeneracy and temperature.

Units: densities fm^-3, energies/chemical potentials MeV (rest mass included), pressures
and energy densities MeV fm^-3, entropy density fm^-3, T in MeV (k_B = 1).  Constants
HBARC, M_E from :mod:`crustuq.models.constants` (CODATA 2018).

Physics
-------
* T = 0 (physics_reference §4): x = ħc k_e/m_e, k_e = (3π² n_e)^{1/3},
  μ_e = m_e sqrt(1+x²), ε_e = (m_e⁴/8π²(ħc)³)[x(2x²+1)sqrt(1+x²) - asinh x],
  P_e = n_e μ_e - ε_e.  Evaluated through θ = asinh x as
  P_e = (m_e⁴/24π²(ħc)³)[sinh(4θ)/4 - 2 sinh(2θ) + 3θ] with its Taylor series
  Σ_{n odd ≥ 5} (4^{n-1} - 2^{n+1}) θ^n/n! for θ < 0.5 (the closed form cancels like
  x^5 there), and ε_e = n_e μ_e - P_e.
* T > 0, exact: one species with kinetic degeneracy η = (μ - m)/T, β = T/m (standard
  form, e.g. Timmes & Arnett 1999, ApJS 125, 277; re-derived here from
  p² = 2mTx(1+βx/2), E - m = Tx):
      n = √2 m³/(π²(ħc)³) β^{3/2} [F_{1/2}(η,β) + β F_{3/2}(η,β)],
      P = 2√2 m⁴/(3π²(ħc)³) β^{5/2} [F_{3/2}(η,β) + (β/2) F_{5/2}(η,β)],
      E_kin = √2 m⁴/(π²(ħc)³) β^{5/2} [F_{3/2}(η,β) + β F_{5/2}(η,β)],
  with the generalised FD integrals of :mod:`crustuq.models.special.fermi_dirac`.
  Positrons are the same species at η₊ = -(μ + m)/T (μ₊ = -μ); for η₊ < -13 they use the
  convergent series F_k = Σ_{j≤3} (-1)^{j+1} e^{jη} L_k^{(j)}(β) whose Laplace integrals
  L are computed once per temperature (4th term < e^{-52}).  Totals:
  n_e = n₋ - n₊ (net), P = P₋ + P₊, e = E₋ + E₊ + m(n₋ + n₊),
  T s = Σ_species (E_kin + P - Tη n) (Euler relation with the kinetic η: no rest-mass
  cancellation), f = μ n_e - P (so P = n μ - f exactly), ∂n_e/∂μ = (n₋' + n₊')/T
  (' = ∂/∂η at fixed β).
* Fast exact path for degenerate matter (Sommerfeld).  The pair gas is exactly the T = 0
  gas smeared by -∂f/∂μ, P(μ,T) = ∫ P₀(μ') (-∂f/∂μ)(μ - μ') dμ' [D], so
      P = P₀(μ) + Σ_{k≥1} c_k T^{2k} P₀^{(2k)}(μ),   c_k = 2(1 - 2^{1-2k}) ζ(2k),
  and n, ∂n/∂μ, s = ∂P/∂T follow term by term (s without any cancellation).  The
  derivatives of P₀' = N₀ = (μ²-m²)^{3/2}/(3π²(ħc)³) come from the exact recurrence for
  the scaled derivatives b_j = T^j g^{(j)}(μ) of g = (μ²-m²)^{3/2} (from (μ²-m²) g' = 3μg):
      b_{j+1} = [(3-2j) T μ b_j + (4-j) j T² b_{j-1}] / (μ²-m²).
  For m → 0 the series terminates (the massless pair result, exact).  For m > 0 it is
  asymptotic; its remainder comes from the threshold μ' = m and is below
  R = e^{-η}(2mT)^{3/2}/(T p μ) relative (p = sqrt(μ²-m²); measured 20-100x below R).
  **Switch**: the Sommerfeld path is used where R < 1e-13, η >= 8 and the series has
  converged (last term < 1e-16 of the sum) within 20 terms; elsewhere the exact
  quadrature.  The switch is at μ_e ≈ 3.8, 15.1, 27.6, 49.8 MeV (n_e ≈ 2.4e-7, 1.5e-5,
  9.2e-5, 5.4e-4 fm^-3) for T = 0.1, 0.5, 1, 2 MeV.  Both paths agree with momentum-space mpmath integrals to
  1e-12 on both sides of the switch (tests/test_electrons.py).
* Inversion n_e → μ_e at T > 0: Newton on the Sommerfeld form when it is valid, started
  from the T = 0 μ₀ corrected to O(T⁸) by perturbation (usually one step).  Otherwise a
  bracketed Newton on ln n(μ) with the quadrature (bracket [0 or -∞, μ₀]: n(μ,T) >= N₀(μ)
  because N₀ is convex), started from the (inaccurate but close) Sommerfeld root or the
  Boltzmann (Jüttner) estimate, and finished by a first-order update (P += n δμ,
  s += (∂n/∂T)_μ δμ, ∂n/∂μ += (∂²n/∂μ²) δμ) once |δμ| < 1e-7 T (error O(δμ²) < 1e-14).
* T < 1e-100 MeV is treated as T = 0 plus the leading entropy s = (π²/3) T ∂n/∂μ.

Conditioning: with pairs, n_e = n₋ - n₊ is a difference; when thermal pairs dominate
(n_e ≪ n_pairs, e.g. T >~ 5 MeV at n_e < 1e-9 fm^-3) n_e(μ_e) is accurate to
~1e-16 n_pairs absolute (μ_e to ~1e-16 T), not relatively.  At T = 0 and n_e <~ 1e-25
fm^-3, μ_e - m_e is below a few ulp of μ_e, so electron_gas_from_mu cannot recover n_e.

Speed (numba kernels, one thread, CPU time, ``benchmark()``, this machine): electron_gas
on n_e log-uniform in [1e-5, 5e-3] fm^-3 gives 1.16e6 states/s at T = 1 MeV (10^4 and
10^6 points alike; ~0.3 us on the Sommerfeld path, ~2.5 us on the quadrature path, which
is ~36% of these points), 6.8e5 states/s at T = 2 MeV, 5.8e6 states/s at T = 0.
First call in a fresh environment compiles the kernels (~8 s; cached in __pycache__).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.special import zeta

from crustuq.models.constants import HBARC, M_E
from crustuq.models.special.fermi_dirac import generalized_fd_point

__all__ = ["ElectronGas", "electron_gas", "electron_gas_from_mu", "benchmark"]

_PI2 = math.pi**2
_HC3 = HBARC**3
_M = M_E
#: N0 = K3 p^3, n in fm^-3 with p in MeV
_K3 = 1.0 / (3.0 * _PI2 * _HC3)
_CN = math.sqrt(2.0) * _M**3 / (_PI2 * _HC3)
_CP = 2.0 * math.sqrt(2.0) * _M**4 / (3.0 * _PI2 * _HC3)
_CE = math.sqrt(2.0) * _M**4 / (_PI2 * _HC3)
_CP0 = _M**4 / (24.0 * _PI2 * _HC3)  # T = 0 pressure prefactor

_KMAX = 20
#: Sommerfeld coefficients c_k = 2 (1 - 2^{1-2k}) zeta(2k), c_0 = 1
_SOMM_C = np.array([1.0] + [2.0 * (1.0 - 2.0 ** (1 - 2 * k)) * float(zeta(2 * k)) for k in range(1, _KMAX + 2)])
#: Taylor coefficients (4^{n-1} - 2^{n+1})/n! of sinh(4θ)/4 - 2 sinh(2θ) + 3θ, n = 5, 7, ..., 27
_P0_SER = np.array([(4.0 ** (n - 1) - 2.0 ** (n + 1)) / math.factorial(n) for n in range(5, 29, 2)])
_SOMM_RTOL = 1e-13
_TERM_TOL = 1e-16
_NEWTON_LIN = 1e-7  # |dmu| < this * T: finish with the first-order update


class ElectronGas(NamedTuple):
    """State of the ideal e-(e+) gas.  All arrays broadcast to the input shape.

    n_e [fm^-3] net electron density n- - n+;  mu_e [MeV] incl. rest mass;
    P_e [MeV fm^-3];  f_e [MeV fm^-3] free-energy density incl. rest mass (= mu_e n_e - P_e);
    s_e [fm^-3] entropy density;  e_e [MeV fm^-3] internal energy density incl. rest mass;
    dmu_dn [MeV fm^3] dmu_e/dn_e at fixed T.
    """

    n_e: np.ndarray
    mu_e: np.ndarray
    P_e: np.ndarray
    f_e: np.ndarray
    s_e: np.ndarray
    e_e: np.ndarray
    dmu_dn: np.ndarray


# ----------------------------------------------------------------------------------
# T = 0 closed forms (physics_reference §4)
# ----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _p0(mu, p0ser):  # pragma: no cover - compiled
    """T = 0 pressure [MeV fm^-3] at chemical potential |mu| (0 for |mu| <= m)."""
    amu = abs(mu)
    if amu <= _M:
        return 0.0
    x = math.sqrt((amu - _M) * (amu + _M)) / _M
    th = math.asinh(x)
    if th < 0.5:
        t2 = th * th
        s = p0ser[p0ser.shape[0] - 1]
        for i in range(p0ser.shape[0] - 2, -1, -1):
            s = s * t2 + p0ser[i]
        return _CP0 * s * t2 * t2 * th
    return _CP0 * (0.25 * math.sinh(4.0 * th) - 2.0 * math.sinh(2.0 * th) + 3.0 * th)


@njit(cache=True, error_model="numpy")
def _t0_from_n(n, p0ser, out):  # pragma: no cover - compiled
    k = (3.0 * _PI2 * n) ** (1.0 / 3.0)  # fm^-1
    pk = HBARC * k
    mu = math.sqrt(pk * pk + _M * _M)
    P = _p0(mu, p0ser) if n > 0.0 else 0.0
    out[0] = n
    out[1] = mu
    out[2] = P
    out[3] = n * mu - P
    out[4] = 0.0
    out[5] = n * mu - P
    out[6] = HBARC * HBARC * _PI2 / (k * mu) if n > 0.0 else np.inf


@njit(cache=True, error_model="numpy")
def _t0_from_mu(mu, pos, p0ser, out):  # pragma: no cover - compiled
    amu = abs(mu)
    if amu <= _M or (mu < 0.0 and not pos):
        out[0] = 0.0
        out[1] = mu
        out[2] = 0.0
        out[3] = 0.0
        out[4] = 0.0
        out[5] = 0.0
        out[6] = np.inf
        return
    p = math.sqrt((amu - _M) * (amu + _M))
    n = _K3 * p * p * p
    P = _p0(mu, p0ser)
    sg = 1.0 if mu > 0.0 else -1.0
    out[0] = sg * n
    out[1] = mu
    out[2] = P
    out[3] = mu * sg * n - P
    out[4] = 0.0
    out[5] = mu * sg * n - P
    out[6] = 1.0 / (amu * p / (_PI2 * _HC3))


#: below this T [MeV] the state is the T = 0 one plus the leading Sommerfeld entropy
#: s = (pi^2/3) T dn/dmu (all other corrections are O(T^2) < 1e-200 relative)
_T_TINY = 1e-100


@njit(cache=True, error_model="numpy")
def _add_tiny_t(T, out):  # pragma: no cover - compiled
    if T > 0.0 and out[0] != 0.0 and math.isfinite(out[6]):
        out[4] = _PI2 / 3.0 * T / out[6]
        out[5] = out[3] + T * out[4]


# ----------------------------------------------------------------------------------
# Sommerfeld (exact-to-round-off where valid) path
# ----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _somm(mu, T, c, p0ser, res, strict, need_p=True):  # pragma: no cover - compiled
    """res = (n, dn/dmu, P, s) of the pair gas from the Sommerfeld series.
    strict: return True only if valid (remainder estimate < _SOMM_RTOL and series
    converged); not strict: partial sums up to the smallest term (starting values only)."""
    if mu <= _M:
        return False
    p2 = (mu - _M) * (mu + _M)
    p = math.sqrt(p2)
    eta = (mu - _M) / T
    if strict:
        # threshold remainder estimate e^{-eta} (2 m T)^{3/2} / (T p mu)
        if eta < 8.0:
            return False
        tm = 2.0 * _M * T
        est = math.exp(-eta) * tm * math.sqrt(tm) / (T * p * mu)
        if est > _SOMM_RTOL:
            return False
    P0 = _p0(mu, p0ser) if need_p else 1.0
    ip2 = 1.0 / p2
    tmu = T * mu * ip2
    tt = T * T * ip2
    bm1 = 0.0
    b0 = p2 * p
    n_sum = b0
    dn_sum = 0.0
    P_sum = 0.0
    s_sum = 0.0
    ok = False
    tn_prev = 0.0
    j = 0
    bj = b0
    k = 0
    for k in range(1, _KMAX + 1):
        # b_{2k-1}, b_{2k} from b_{j+1} = (3-2j) T mu b_j/p^2 + (4-j) j T^2 b_{j-1}/p^2
        b_odd = (3.0 - 2.0 * j) * tmu * bj + (4.0 - j) * j * tt * bm1
        j += 1
        b_even = (3.0 - 2.0 * j) * tmu * b_odd + (4.0 - j) * j * tt * bj
        j += 1
        bm1 = b_odd
        bj = b_even
        tn = c[k] * b_even
        tdn = c[k - 1] * b_odd
        ts = 2.0 * k * c[k] * b_odd
        if not strict and k > 1 and abs(tn) > abs(tn_prev):
            break  # asymptotic series: stop at the smallest term
        tn_prev = tn
        P_sum += c[k] * b_odd
        s_sum += ts
        dn_sum += tdn
        n_sum += tn
        if abs(tn) <= _TERM_TOL * abs(n_sum) and abs(tdn) <= _TERM_TOL * abs(dn_sum):
            if not need_p:
                ok = True
                break
            if abs(ts) <= _TERM_TOL * abs(s_sum) and abs(_K3 * T * c[k] * b_odd) <= _TERM_TOL * P0:
                ok = True
                break
    if strict and not ok:
        return False
    # the last dn term needs b_{2k+1} with c_k
    b_next = (3.0 - 2.0 * j) * tmu * bj + (4.0 - j) * j * tt * bm1
    dn_sum += c[k] * b_next
    res[0] = _K3 * n_sum
    res[1] = _K3 * dn_sum / T
    res[2] = P0 + _K3 * T * P_sum
    res[3] = _K3 * s_sum
    return True


@njit(cache=True, error_model="numpy")
def _somm_solve(n, T, c, p0ser, res):  # pragma: no cover - compiled
    """mu with n_Sommerfeld(mu, T) = n; returns mu or -1 if the path is not valid."""
    k = (3.0 * _PI2 * n) ** (1.0 / 3.0)
    pk = HBARC * k
    mu0 = math.sqrt(pk * pk + _M * _M)
    if mu0 - _M < 8.0 * T:
        return -1.0
    # starting value to O(T^8): solve N0(mu0 + d) + c1 T^2 N0''(mu0 + d) + c2 T^4 N0''''(mu0)
    # = N0(mu0) by three orders of perturbation, with b_j = T^j g^(j)(mu0), g = p^3
    p2 = pk * pk
    b0 = p2 * pk
    tmu = T * mu0 / p2
    tt = T * T / p2
    b1 = 3.0 * tmu * b0
    b2 = tmu * b1 + 3.0 * tt * b0
    b3 = -tmu * b2 + 4.0 * tt * b1
    b4 = -3.0 * tmu * b3 + 3.0 * tt * b2
    b5 = -5.0 * tmu * b4
    b6 = -7.0 * tmu * b5 - 5.0 * tt * b4
    e1 = -c[1] * b2 / b1
    e2 = -(0.5 * b2 * e1 * e1 + c[1] * b3 * e1 + c[2] * b4) / b1
    e3 = -(b2 * e1 * e2 + b3 * e1**3 / 6.0 + c[1] * (b3 * e2 + 0.5 * b4 * e1 * e1) + c[2] * b5 * e1 + c[3] * b6) / b1
    mu = mu0 + T * (e1 + e2 + e3)
    for _ in range(30):
        if not _somm(mu, T, c, p0ser, res, True, False):
            return -1.0
        d = (n - res[0]) / res[1]
        mu += d
        # quadratic convergence: after a step < 1e-8 mu the error is < 1e-16 mu
        if abs(d) <= 1e-8 * mu:
            if not _somm(mu, T, c, p0ser, res, True, True):
                return -1.0
            return mu
    return -1.0


# ----------------------------------------------------------------------------------
# quadrature (exact, any degeneracy) path
# ----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _species_acc(eta, beta, T, w, acc):  # pragma: no cover - compiled
    """acc = (n, dn/deta, d2n/deta2, T dn/dT|mu, P, E_kin, T s) of one species from
    w[0:9] = (F_k, dF_k/deta, d2F_k/deta2), k = 1/2, 3/2, 5/2 (module docstring)."""
    b15 = beta * math.sqrt(beta)
    b25 = b15 * beta
    acc[0] = _CN * b15 * (w[0] + beta * w[1])
    acc[1] = _CN * b15 * (w[3] + beta * w[4])
    acc[2] = _CN * b15 * (w[6] + beta * w[7])
    acc[3] = _CN * b15 * ((w[4] + beta * w[5]) - eta * (w[3] + beta * w[4]))
    acc[4] = _CP * b25 * (w[1] + 0.5 * beta * w[2])
    acc[5] = _CE * b25 * (w[1] + beta * w[2])
    # T s of the species = E_kin + P - (T eta) n  (kinetic chemical potential: no
    # rest-mass cancellation in the Euler relation)
    acc[6] = acc[5] + acc[4] - eta * T * acc[0]


#: below this eta the positrons use the 3-term series in e^eta (4th term < e^{-52})
_ETA_SERIES = -13.0
_ETA_REF = -60.0


@njit(cache=True, error_model="numpy")
def _nondegenerate_series(eta, beta, w):  # pragma: no cover - compiled
    """w[0:9] for a strongly non-degenerate species from
    F_k(eta, beta) = sum_j (-1)^{j+1} e^{j eta} L_k^{(j)}(beta), j = 1..3, with
    L_k^{(j)}(beta) = int x^k sqrt(1+beta x/2) e^{-j x} dx = j^{-k-1} L_k^{(1)}(beta/j)
    (§8 series, generalised).  L^{(1)}(beta') = e^{60} F_k(-60, beta') (relative error
    e^{-60}); the nine L values are cached in w[10:19] for w[9] == beta (a batch
    usually has one temperature)."""
    if w[9] != beta:
        tmp = np.empty(9)
        for j in range(1, 4):
            generalized_fd_point(_ETA_REF, beta / j, tmp)
            for q in range(3):
                w[10 + 3 * (j - 1) + q] = tmp[q] * math.exp(-_ETA_REF) * float(j) ** (-(q + 1.5))
        w[9] = beta
    for q in range(9):
        w[q] = 0.0
    z = math.exp(eta)
    zj = 1.0
    for j in range(1, 4):
        zj *= z
        sg = 1.0 if j % 2 == 1 else -1.0
        for q in range(3):
            v = sg * zj * w[10 + 3 * (j - 1) + q]
            w[q] += v
            w[3 + q] += j * v
            w[6 + q] += j * j * v


@njit(cache=True, error_model="numpy")
def _species(eta, beta, T, w, acc):  # pragma: no cover - compiled
    """acc for one species at (eta, beta): exact quadrature, or the convergent
    non-degenerate series for eta < _ETA_SERIES."""
    if eta < _ETA_SERIES:
        _nondegenerate_series(eta, beta, w)
    else:
        generalized_fd_point(eta, beta, w)
    _species_acc(eta, beta, T, w, acc)


@njit(cache=True, error_model="numpy")
def _quad(mu, T, pos, w, am, ap, r):  # pragma: no cover - compiled
    """r = (n, dn/dmu, d2n/dmu2, dn/dT|mu, P, e_incl_rest, s) of the gas at (mu, T), exact."""
    beta = T / _M
    etam = (mu - _M) / T
    etap = -(mu + _M) / T
    _species(etam, beta, T, w, am)
    # positrons: skipped only when below e^{-40} of the electrons
    if pos and not (etap < -40.0 and etap < etam - 40.0):
        _species(etap, beta, T, w, ap)
    else:
        for q in range(7):
            ap[q] = 0.0
    r[0] = am[0] - ap[0]
    r[1] = (am[1] + ap[1]) / T
    r[2] = (am[2] - ap[2]) / (T * T)
    r[3] = (am[3] - ap[3]) / T
    r[4] = am[4] + ap[4]
    r[5] = am[5] + ap[5] + _M * (am[0] + ap[0])
    r[6] = (am[6] + ap[6]) / T


@njit(cache=True, error_model="numpy")
def _boltzmann_mu(n, T, pos):  # pragma: no cover - compiled
    """Jüttner-type estimate of mu (starting value only): n- ≈ A e^{eta}, with
    A = C_n β^{3/2} Σ Γ(k+1) sqrt(1 + β(k+1)/2) (k = 1/2, 3/2 weights)."""
    beta = T / _M
    A = _CN * beta * math.sqrt(beta) * (
        0.886226925452758 * math.sqrt(1.0 + 0.75 * beta) + beta * 1.329340388179137 * math.sqrt(1.0 + 1.25 * beta)
    )
    if not pos:
        return _M + T * math.log(n / A)
    # n ≈ 2 A e^{-1/β} sinh(mu/T)
    L = math.log(n / (2.0 * A)) + 1.0 / beta
    if L > 20.0:
        return T * (L + math.log(2.0))
    return T * math.asinh(math.exp(L))


@njit(cache=True, error_model="numpy")
def _state_from_n(n, T, pos, c, p0ser, w, am, ap, r, sres, out):  # pragma: no cover - compiled
    """out = (n, mu, P, f, s, e, dmu_dn); returns 0 on success, 1 if not converged."""
    if T < _T_TINY:
        _t0_from_n(n, p0ser, out)
        _add_tiny_t(T, out)
        return 0
    if n == 0.0:
        if pos:
            mu = 0.0
            _quad(mu, T, pos, w, am, ap, r)
            out[0] = 0.0
            out[1] = 0.0
            out[2] = r[4]
            out[3] = -r[4]
            out[4] = r[6]
            out[5] = r[5]
            out[6] = 1.0 / r[1]
        else:
            out[0] = 0.0
            out[1] = -np.inf
            for q in range(2, 6):
                out[q] = 0.0
            out[6] = np.inf
        return 0
    mu = _somm_solve(n, T, c, p0ser, sres)
    if mu > 0.0:
        P = sres[2]
        s = sres[3]
        out[0] = n
        out[1] = mu
        out[2] = P
        out[3] = mu * n - P
        out[4] = s
        out[5] = mu * n - P + T * s
        out[6] = 1.0 / sres[1]
        return 0
    # quadrature: bracketed Newton on ln n(mu)
    kf = (3.0 * _PI2 * n) ** (1.0 / 3.0)
    pk = HBARC * kf
    mu_hi = math.sqrt(pk * pk + _M * _M)
    mu_lo = 0.0 if pos else -np.inf
    # starting value: the (possibly inaccurate) Sommerfeld root, else Boltzmann
    mu = -1.0
    if mu_hi - _M > 3.0 * T:
        mu = mu_hi - _PI2 * T * T / 6.0 * (pk * pk + mu_hi * mu_hi) / (mu_hi * pk * pk)
        for _ in range(20):
            if mu <= _M:
                mu = -1.0
                break
            if not _somm(mu, T, c, p0ser, sres, False) or not (sres[1] > 0.0):
                mu = -1.0
                break
            d = (n - sres[0]) / sres[1]
            mu += d
            if abs(d) < 1e-10 * mu:
                break
    if not (mu > mu_lo and mu < mu_hi):
        mu = _boltzmann_mu(n, T, pos)
        if not (mu > mu_lo and mu < mu_hi):
            mu = mu_hi - T if mu_lo == -np.inf else 0.5 * (mu_lo + mu_hi)
    for _ in range(200):
        _quad(mu, T, pos, w, am, ap, r)
        nn = r[0]
        if nn > n:
            mu_hi = min(mu_hi, mu)
        else:
            mu_lo = max(mu_lo, mu)
        dlin = (n - nn) / r[1]
        if abs(dlin) <= _NEWTON_LIN * T:
            d = dlin
            mu1 = mu + d
            P = r[4] + nn * d + 0.5 * r[1] * d * d
            s = r[6] + r[3] * d
            dndmu = r[1] + r[2] * d
            out[0] = n
            out[1] = mu1
            out[2] = P
            out[3] = mu1 * n - P
            out[4] = s
            out[5] = mu1 * n - P + T * s
            out[6] = 1.0 / dndmu
            return 0
        if nn > 0.0:
            d = -math.log(nn / n) * nn / r[1]
        else:
            d = dlin
        mu_new = mu + d
        if not (mu_new > mu_lo and mu_new < mu_hi):
            if mu_lo == -np.inf:
                mu_new = mu - 20.0 * T
            else:
                mu_new = 0.5 * (mu_lo + mu_hi)
        mu = mu_new
    return 1


@njit(cache=True, error_model="numpy")
def _state_from_mu(mu, T, pos, c, p0ser, w, am, ap, r, sres, out):  # pragma: no cover - compiled
    if T < _T_TINY:
        _t0_from_mu(mu, pos, p0ser, out)
        _add_tiny_t(T, out)
        return 0
    if _somm(mu, T, c, p0ser, sres, True):
        n = sres[0]
        P = sres[2]
        out[0] = n
        out[1] = mu
        out[2] = P
        out[3] = mu * n - P
        out[4] = sres[3]
        out[5] = mu * n - P + T * sres[3]
        out[6] = 1.0 / sres[1]
        return 0
    _quad(mu, T, pos, w, am, ap, r)
    n = r[0]
    out[0] = n
    out[1] = mu
    out[2] = r[4]
    out[3] = mu * n - r[4]
    out[4] = r[6]
    out[5] = r[5]
    out[6] = 1.0 / r[1]
    return 0


@njit(cache=True, error_model="numpy")
def _kernel(x, T, pos, from_mu, c, p0ser, out):  # pragma: no cover - compiled
    w = np.empty(19)
    w[9] = -1.0  # no cached beta yet
    am = np.empty(7)
    ap = np.empty(7)
    r = np.empty(7)
    sres = np.empty(4)
    o = np.empty(7)
    nfail = 0
    first = -1
    for i in range(x.shape[0]):
        if from_mu:
            st = _state_from_mu(x[i], T[i], pos, c, p0ser, w, am, ap, r, sres, o)
        else:
            st = _state_from_n(x[i], T[i], pos, c, p0ser, w, am, ap, r, sres, o)
        if st != 0:
            nfail += 1
            if first < 0:
                first = i
        for q in range(7):
            out[q, i] = o[q]
    return first


# ----------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------
def _check(name, v, allow_negative=False):
    a = np.asarray(v, dtype=np.float64)
    bad = ~np.isfinite(a) if allow_negative else ~(np.isfinite(a) & (a >= 0))
    if bad.any():
        what = "finite" if allow_negative else "finite and >= 0"
        raise ValueError(f"{name} = {a[bad].flat[0]} is not allowed: {name} must be {what}")
    return a


def _run(x, T, positrons, from_mu):
    x, T = np.broadcast_arrays(x, T)
    xf = np.array(x, dtype=np.float64).reshape(-1)  # writeable contiguous copies
    tf = np.array(T, dtype=np.float64).reshape(-1)
    out = np.empty((7, xf.shape[0]))
    first = _kernel(xf, tf, bool(positrons), bool(from_mu), _SOMM_C, _P0_SER, out)
    if first >= 0:
        raise RuntimeError(
            f"electron gas: mu(n_e) inversion did not converge at n_e = {xf[first]}, T = {tf[first]}"
        )
    # documented non-finite values: dmu_dn = +inf (n -> 0 limits), mu_e = -inf (n_e = 0
    # without positrons at T > 0); anything else is a bug, never returned silently
    okv = np.isfinite(out)
    okv[6] |= out[6] == np.inf
    okv[1] |= out[1] == -np.inf
    if not okv.all():
        i = int(np.nonzero(~okv.all(axis=0))[0][0])
        name = "mu_e" if from_mu else "n_e"
        raise RuntimeError(f"electron gas: non-finite state at {name} = {xf[i]}, T = {tf[i]}")
    shape = x.shape
    return ElectronGas(*(o.reshape(shape)[()] if shape == () else o.reshape(shape) for o in out))


def electron_gas(n_e, T, *, positrons: bool = True) -> ElectronGas:
    """Ideal relativistic electron gas at net density n_e [fm^-3] and temperature T [MeV].

    T = 0: closed forms of physics_reference §4.  T > 0: exact generalised-FD
    thermodynamics with e+e- pairs (``positrons=False`` drops the positrons), mu_e from
    a Newton inversion of n_e(mu_e); see the module docstring.  n_e, T broadcast.
    """
    n = _check("n_e", n_e)
    t = _check("T", T)
    return _run(n, t, positrons, False)


def electron_gas_from_mu(mu_e, T, *, positrons: bool = True) -> ElectronGas:
    """Same as :func:`electron_gas` at given chemical potential mu_e [MeV, incl. rest mass]
    (no inversion).  mu_e may be negative with pairs (net positrons, n_e < 0)."""
    mu = _check("mu_e", mu_e, allow_negative=True)
    t = _check("T", T)
    return _run(mu, t, positrons, True)


def benchmark(n_points=(10_000, 1_000_000), T: float = 1.0, seed: int = 0, repeat: int = 3) -> dict[str, float]:
    """States/s of electron_gas at temperature T on inner-crust densities, n_e log-uniform
    in [1e-5, 5e-3] fm^-3; one thread, CPU time (process_time), best of ``repeat``."""
    import time

    rng = np.random.default_rng(seed)
    electron_gas(np.array([1e-4, 1e-6]), T)
    res = {}
    for npt in n_points:
        n = 10.0 ** rng.uniform(-5.0, math.log10(5e-3), npt)
        best = np.inf
        for _ in range(repeat):
            t0 = time.process_time()
            electron_gas(n, T)
            best = min(best, time.process_time() - t0)
        res[f"states/s (N={npt}, T={T})"] = npt / best
    return res
