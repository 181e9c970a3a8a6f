"""Ideal relativistic e-(e+) gas (models/leptons/electrons.py) against independent
references: mpmath momentum integrals, the T = 0 closed forms of physics_reference §4
evaluated in 50-digit arithmetic, the exact Bessel-function (Jüttner) series of the
non-degenerate gas, the massless pair-gas pressure, thermodynamic identities and finite
differences."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import kv

from crustuq.models.constants import HBARC, M_E
from crustuq.models.leptons import ElectronGas, electron_gas, electron_gas_from_mu

HC3 = HBARC**3
PI2 = math.pi**2


def ref_state(mu, T, positrons=True):
    """(n, P, e, s, dn/dmu) of the ideal gas at (mu, T) from momentum integrals
    n = ∫p²(f- - f+)dp/π², P = ∫p⁴/E (f- + f+)dp/3π², e = ∫p²E(f- + f+)dp/π² (ħc units),
    s = (e + P - mu n)/T, mpmath tanh-sinh at 30 digits."""
    with mp.workdps(30):
        m, mu, T = mp.mpf(M_E), mp.mpf(mu), mp.mpf(T)

        def fermi(u):
            return 1 / (1 + mp.exp(u))  # no overflow in mpmath

        def occ(p, sign):
            E = mp.sqrt(p * p + m * m)
            return fermi((E - sign * mu) / T)

        def fm(p):
            return occ(p, 1)

        def fp(p):
            return occ(p, -1) if positrons else mp.mpf(0)

        top = max(mu, m)
        epts = sorted({e for e in [m, mu - 30 * T, mu - 10 * T, mu - 3 * T, mu, mu + 3 * T, mu + 10 * T,
                                   top + 30 * T, top + 80 * T] if e >= m})
        pts = [mp.sqrt(e * e - m * m) for e in epts]
        if pts[0] != 0:
            pts = [mp.mpf(0)] + pts

        def E(p):
            return mp.sqrt(p * p + m * m)

        n = mp.quad(lambda p: p * p * (fm(p) - fp(p)), pts) / PI2
        P = mp.quad(lambda p: p**4 / E(p) * (fm(p) + fp(p)), pts) / (3 * PI2)
        e = mp.quad(lambda p: p * p * E(p) * (fm(p) + fp(p)), pts) / PI2
        dn = mp.quad(lambda p: p * p * (fm(p) * (1 - fm(p)) + fp(p) * (1 - fp(p))), pts) / (PI2 * T)
        s = (e + P - mu * n) / T
        return tuple(float(v) for v in (n / HC3, P / HC3, e / HC3, s / HC3, dn / HC3))


# (mu, T): non-degenerate (mu < m), pair dominated, mildly and strongly degenerate,
# both sides of the Sommerfeld switch (around eta = (mu - m)/T ~ 25-30), net positrons
REF_POINTS = [
    (0.3, 0.05), (0.6, 0.01), (1.0, 0.1), (0.0, 2.0), (0.2, 2.0), (-3.0, 1.0), (5.0, 2.0),
    (13.0, 1.0), (20.0, 1.0), (24.0, 1.0), (27.0, 1.0), (30.0, 1.0), (45.0, 2.0), (60.0, 2.0),
    (100.0, 1.0), (2.0, 0.02), (0.56, 0.001),
]


@pytest.fixture(scope="module")
def refs():
    return {pt: ref_state(*pt) for pt in REF_POINTS}


@pytest.mark.parametrize("pt", REF_POINTS)
def test_from_mu_vs_momentum_integrals(pt, refs):
    mu, T = pt
    n, P, e, s, dn = refs[pt]
    g = electron_gas_from_mu(mu, T)
    assert g.n_e == pytest.approx(n, rel=1e-12)
    assert g.P_e == pytest.approx(P, rel=1e-12)
    assert g.e_e == pytest.approx(e, rel=1e-12)
    assert g.s_e == pytest.approx(s, rel=1e-12)
    assert g.dmu_dn == pytest.approx(1 / dn, rel=1e-12)


@pytest.mark.parametrize("pt", [p for p in REF_POINTS if p[0] > 0])
def test_inversion_vs_momentum_integrals(pt, refs):
    mu, T = pt
    n, P, e, s, dn = refs[pt]
    g = electron_gas(n, T)
    # conditioning: d ln mu = (n/(mu dn/dmu)) d ln n, and n is only known to ~1e-15
    assert g.mu_e == pytest.approx(mu, rel=1e-12, abs=1e-13 * T)
    assert g.P_e == pytest.approx(P, rel=1e-12)
    assert g.s_e == pytest.approx(s, rel=1e-11)


def test_without_positrons_vs_momentum_integrals():
    for mu, T in [(0.3, 0.05), (0.6, 0.5), (5.0, 2.0), (20.0, 1.0)]:
        n, P, e, s, dn = ref_state(mu, T, positrons=False)
        g = electron_gas_from_mu(mu, T, positrons=False)
        np.testing.assert_allclose([g.n_e, g.P_e, g.e_e, g.s_e, 1 / g.dmu_dn], [n, P, e, s, dn], rtol=1e-12)
        assert electron_gas(n, T, positrons=False).mu_e == pytest.approx(mu, rel=1e-12)
    # with pairs the net density is lower at the same mu (positrons exist at T > 0)
    assert electron_gas_from_mu(0.6, 0.5).n_e < electron_gas_from_mu(0.6, 0.5, positrons=False).n_e


def test_t0_closed_forms_high_precision():
    # §4 closed forms evaluated in 50-digit arithmetic (the code uses a rearranged,
    # cancellation-free form; this checks it against the textbook expression)
    ns = np.geomspace(1e-14, 1e-1, 27)
    g = electron_gas(ns, 0.0)
    with mp.workdps(50):
        for i, n in enumerate(ns):
            k = mp.cbrt(3 * mp.pi**2 * mp.mpf(n))
            x = HBARC * k / mp.mpf(M_E)
            mu = M_E * mp.sqrt(1 + x * x)
            eps = mp.mpf(M_E) ** 4 / (8 * mp.pi**2 * mp.mpf(HBARC) ** 3) * (
                x * (2 * x * x + 1) * mp.sqrt(1 + x * x) - mp.asinh(x)
            )
            P = n * mu - eps
            assert g.mu_e[i] == pytest.approx(float(mu), rel=1e-14)
            assert g.f_e[i] == pytest.approx(float(eps), rel=1e-14)
            assert g.e_e[i] == pytest.approx(float(eps), rel=1e-14)
            assert g.P_e[i] == pytest.approx(float(P), rel=1e-12)
            dmudn = mp.mpf(HBARC) ** 2 * mp.pi**2 / (k * mu)
            assert g.dmu_dn[i] == pytest.approx(float(dmudn), rel=1e-13)
    assert np.all(g.s_e == 0)
    z = electron_gas(0.0, 0.0)
    assert (z.n_e, z.mu_e, z.P_e, z.f_e) == (0.0, M_E, 0.0, 0.0)


GRID_N = np.concatenate([np.geomspace(1e-9, 1e-6, 7), np.geomspace(1e-5, 5e-3, 9)])


@pytest.mark.parametrize("positrons", [True, False])
@pytest.mark.parametrize("T", [0.0, 0.05, 0.5, 1.0, 2.0])
def test_identities(T, positrons):
    g = electron_gas(GRID_N, T, positrons=positrons)
    np.testing.assert_allclose(g.n_e * g.mu_e - g.f_e, g.P_e, rtol=1e-12)
    np.testing.assert_allclose(g.f_e + T * g.s_e, g.e_e, rtol=1e-12)
    assert np.all(g.s_e >= 0) and np.all(g.P_e > 0) and np.all(g.dmu_dn > 0)
    back = electron_gas_from_mu(g.mu_e, T, positrons=positrons)
    np.testing.assert_allclose(back.n_e, GRID_N, rtol=1e-12)
    for a, b in zip(back[1:], g[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("positrons", [True, False])
@pytest.mark.parametrize("T", [0.05, 0.5, 1.0, 2.0])
def test_derivatives_finite_differences(T, positrons):
    n = GRID_N
    g = electron_gas(n, T, positrons=positrons)
    h = 1e-3  # truncation ~h^2/10; round-off of f (~ -P for a pair gas) ~1e-16 |f|/h
    fp = electron_gas(n * (1 + h), T, positrons=positrons)
    fm = electron_gas(n * (1 - h), T, positrons=positrons)
    np.testing.assert_allclose((fp.f_e - fm.f_e) / (2 * h * n), g.mu_e, rtol=1e-6)  # mu = df/dn
    np.testing.assert_allclose((fp.mu_e - fm.mu_e) / (2 * h * n), g.dmu_dn, rtol=1e-6)
    ht = 1e-4 * T
    tp = electron_gas(n, T + ht, positrons=positrons)
    tm = electron_gas(n, T - ht, positrons=positrons)
    np.testing.assert_allclose(-(tp.f_e - tm.f_e) / (2 * ht), g.s_e, rtol=1e-6)  # s = -df/dT


def test_t_to_zero_continuity():
    n = np.geomspace(1e-9, 5e-3, 12)
    g0 = electron_gas(n, 0.0)
    for T in (1e-6, 1e-5):
        g = electron_gas(n, T)
        # first corrections are O((T/(mu-m))^2)
        tol = 30 * (T / (g0.mu_e - M_E)) ** 2 + 1e-13
        assert np.all(np.abs(g.mu_e / g0.mu_e - 1) < tol)
        assert np.all(np.abs(g.P_e / g0.P_e - 1) < tol)
        assert np.all(np.abs(g.f_e / g0.f_e - 1) < tol)
        assert np.all(np.abs(g.dmu_dn / g0.dmu_dn - 1) < tol)
        # Sommerfeld: s = (pi^2/3) T dn/dmu|_{T=0}, dn/dmu = mu p/(pi^2 (hbar c)^3)
        p = np.sqrt(g0.mu_e**2 - M_E**2)
        np.testing.assert_allclose(g.s_e / T, g0.mu_e * p / (3 * HC3), rtol=1e-3)


def _bessel_series(mu, T, positrons=True, jmax=600):
    """Exact non-degenerate series (Jüttner): per species with chemical potential ±mu,
    n = (m²T/π²) Σ_j (-1)^{j+1} K_2(jm/T) e^{±j mu/T}/j, P = (m²T²/π²) Σ_j (-1)^{j+1} K_2 e^{..}/j²,
    e = (m²T/π²) Σ_j (-1)^{j+1} [3(T/j) K_2 + m K_1] e^{..}/j  (ħc units)."""
    m = M_E
    n = P = e = 0.0
    for j in range(1, jmax + 1):
        z = j * m / T
        sg = (-1) ** (j + 1)
        k2, k1 = kv(2, z), kv(1, z)
        em = math.exp(j * mu / T)
        ep = math.exp(-j * mu / T) if positrons else 0.0
        n += sg * m * m * T / (PI2 * j) * k2 * (em - ep)
        P += sg * m * m * T * T / (PI2 * j * j) * k2 * (em + ep)
        e += sg * m * m * T / (PI2 * j) * (3 * T / j * k2 + m * k1) * (em + ep)
    return n / HC3, P / HC3, e / HC3


@pytest.mark.parametrize("positrons", [True, False])
def test_outer_crust_nondegenerate_pairs(positrons):
    # outer-crust densities at T = 2 MeV: non-degenerate, pairs matter
    # (with pairs e^{eta} ~ e^{-m/T} = 0.77 already at n_e -> 0: the Bessel series is used
    # where e^eta < 0.9; the more degenerate points are checked against the momentum integrals)
    T = 2.0
    n = np.geomspace(1e-9, 1e-6, 7)
    g = electron_gas(n, T, positrons=positrons)
    nseries = 0
    for i in range(n.size):
        if math.exp((g.mu_e[i] - M_E) / T) < 0.9:
            nseries += 1
            nr, Pr, er = _bessel_series(g.mu_e[i], T, positrons)
            assert nr == pytest.approx(n[i], rel=1e-11)
            assert g.P_e[i] == pytest.approx(Pr, rel=1e-12)
            assert g.e_e[i] == pytest.approx(er, rel=1e-12)
        else:
            nr, Pr, er, sr, _ = ref_state(g.mu_e[i], T, positrons)
            np.testing.assert_allclose([nr, Pr, er, sr], [n[i], g.P_e[i], g.e_e[i], g.s_e[i]], rtol=1e-12)
    assert nseries >= 4
    if positrons:
        # thermal pairs: the pressure exceeds that of the net electrons alone
        assert np.all(g.P_e > electron_gas(n, T, positrons=False).P_e)


def test_boltzmann_nonrelativistic_limit():
    # T << m, n << n_Q: ideal classical gas P = n T, mu - m = T ln(n/n_Q (1 + 15/8 beta + ...))
    # (degeneracy corrections are O(e^eta) ~ 1e-7 here, relativistic ones O(beta^3))
    T = 1e-3
    n = np.geomspace(1e-24, 1e-20, 5)
    g = electron_gas(n, T)
    np.testing.assert_allclose(g.P_e, n * T, rtol=1e-6)
    beta = T / M_E
    nq = 2 * (M_E * T / (2 * math.pi)) ** 1.5 / HC3 * (1 + 15 / 8 * beta + 105 / 128 * beta**2)
    np.testing.assert_allclose((g.mu_e - M_E) / T, np.log(n / nq), rtol=0, atol=1e-6)
    np.testing.assert_allclose(g.dmu_dn, T / n, rtol=1e-6)


def test_massless_pair_limit():
    # mu >> m_e: P = mu^4/12pi^2 + mu^2 T^2/6 + 7 pi^2 T^4/180 - m^2 (mu^2/4pi^2 + T^2/12) + O(m^4 ln)
    m2 = M_E**2
    for mu, T in [(100.0, 1.0), (100.0, 10.0), (100.0, 30.0), (60.0, 2.0)]:
        g = electron_gas_from_mu(mu, T)
        P = (mu**4 / (12 * PI2) + mu**2 * T**2 / 6 + 7 * PI2 * T**4 / 180 - m2 * (mu**2 / (4 * PI2) + T**2 / 12)) / HC3
        n = (mu**3 / (3 * PI2) + mu * T**2 / 3 - m2 * mu / (2 * PI2)) / HC3
        s = (mu**2 * T / 3 + 7 * PI2 * T**3 / 45 - m2 * T / 6) / HC3
        tol = 20 * (M_E / mu) ** 4 * math.log(mu / M_E)
        assert g.P_e == pytest.approx(P, rel=tol)
        assert g.n_e == pytest.approx(n, rel=tol)
        assert g.s_e == pytest.approx(s, rel=50 * tol)


@pytest.mark.parametrize("T", [0.0, 1.0, 2.0])
def test_inner_crust_grid(T):
    n = np.geomspace(1e-5, 5e-3, 40)
    g = electron_gas(n, T)
    assert np.all(np.isfinite(np.stack(g)))
    assert np.all(np.diff(g.mu_e) > 0) and np.all(np.diff(g.P_e) > 0)
    np.testing.assert_allclose(g.n_e * g.mu_e - g.f_e, g.P_e, rtol=1e-12)
    # Sommerfeld shift of mu at fixed n: mu = mu0 - (pi^2 T^2/6)(p0^2 + mu0^2)/(mu0 p0^2) + O(T^4)
    g0 = electron_gas(n, 0.0)
    mu0 = g0.mu_e
    p02 = mu0**2 - M_E**2
    expect = mu0 - PI2 * T**2 / 6 * (p02 + mu0**2) / (mu0 * p02)
    np.testing.assert_allclose(g.mu_e, expect, rtol=0, atol=np.max(10 * T**4 / mu0**3) + 1e-12)


def test_continuity_across_fast_path_switch():
    # eta = (mu - m)/T from 15 to 45 at T = 1 and 2 MeV spans the switch between the
    # Sommerfeld path and the quadrature; both sides must agree with the exact integrals
    for T in (1.0, 2.0):
        for eta in (15.0, 22.0, 25.0, 27.0, 29.0, 32.0, 45.0):
            mu = M_E + eta * T
            n, P, e, s, dn = ref_state(mu, T)
            g = electron_gas_from_mu(mu, T)
            np.testing.assert_allclose([g.n_e, g.P_e, g.s_e, 1 / g.dmu_dn], [n, P, s, dn], rtol=1e-12)
    # and the state is smooth through it: n = dP/dmu by central differences on a fine grid
    mu = np.linspace(20.0, 40.0, 401)
    h = 1e-4
    g = electron_gas_from_mu(mu, 1.0)
    dP = (electron_gas_from_mu(mu + h, 1.0).P_e - electron_gas_from_mu(mu - h, 1.0).P_e) / (2 * h)
    np.testing.assert_allclose(dP, g.n_e, rtol=1e-8)


@settings(max_examples=150, deadline=None)
@given(
    st.floats(min_value=-12.0, max_value=-1.0),
    st.floats(min_value=0.0, max_value=5.0),
    st.booleans(),
)
def test_random_states_are_consistent(log10_n, T, positrons):
    n = 10.0**log10_n
    g = electron_gas(n, T, positrons=positrons)
    assert g.n_e * g.mu_e - g.f_e == pytest.approx(g.P_e, rel=1e-12)
    assert g.f_e + T * g.s_e == pytest.approx(g.e_e, rel=1e-12)
    assert g.dmu_dn > 0 and g.s_e >= 0
    back = electron_gas_from_mu(g.mu_e, T, positrons=positrons)
    # the net density of a pair-dominated gas is a difference of the pair densities
    n_pairs = electron_gas_from_mu(0.0, T).P_e / max(T, 1e-300) if (positrons and T > 0) else 0.0
    assert back.n_e == pytest.approx(n, rel=1e-12, abs=1e-15 * n_pairs)


def test_shapes_and_types():
    g = electron_gas(np.full((3, 1), 1e-4), np.array([0.0, 1.0]))
    assert isinstance(g, ElectronGas)
    assert all(np.shape(v) == (3, 2) for v in g)
    s = electron_gas(1e-4, 1.0)
    assert all(np.ndim(v) == 0 for v in s)
    assert electron_gas_from_mu(np.array([30.0, 40.0]), 1.0).n_e.shape == (2,)


def test_zero_density():
    g = electron_gas(0.0, 1.0)  # pairs only: mu = 0, P > 0
    assert g.mu_e == 0.0 and g.n_e == 0.0 and g.P_e > 0 and g.s_e > 0
    g = electron_gas(0.0, 1.0, positrons=False)
    assert g.P_e == 0.0 and g.mu_e == -np.inf


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: electron_gas(-1e-3, 1.0), "n_e = -0.001"),
        (lambda: electron_gas(np.array([1e-3, np.nan]), 1.0), "n_e = nan"),
        (lambda: electron_gas(1e-3, -1.0), "T = -1.0"),
        (lambda: electron_gas(1e-3, np.inf), "T = inf"),
        (lambda: electron_gas_from_mu(np.inf, 1.0), "mu_e = inf"),
        (lambda: electron_gas_from_mu(10.0, np.nan), "T = nan"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
