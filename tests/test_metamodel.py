"""Meta-model tests: empirical parameters recovered, published sanity numbers, thermodynamic
identities at T = 0 and T > 0 (checked against independent expressions and finite
differences), the T -> 0+ limit and the non-degenerate limit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from crustuq.models import constants as const
from crustuq.models.matter.metamodel import HBAR2_2M, MetaModel, meta_model, state_from_nb_delta
from crustuq.models.matter.parameters import EmpiricalParameters, list_parameter_sets
from crustuq.models.matter.priors import carreau2019_uniform_prior
from crustuq.models.special.fermi_dirac import fd_3h, fd_inv_1h

BSK24 = EmpiricalParameters.named("BSk24")
MM = MetaModel.from_parameters(BSK24)
REST = np.array([const.M_N, const.M_P])


def e_per_a(n, delta, mm=MM):
    return mm.energy_per_nucleon(n, delta)


def test_bsk24_coefficients_match_reference_values():
    # physics_reference.md 1.5 "BSk24 check values"
    assert MM.t_fg_sat == pytest.approx(21.8893, abs=1e-4)
    np.testing.assert_allclose(MM.v_is, [-43.4097, -71.1403, 234.5753, -394.8513, 2191.0593], atol=1e-4)
    np.testing.assert_allclose(MM.v_iv, [20.4130, 34.9474, 12.4492, 587.8363, -3247.3476], atol=1e-4)
    assert float(BSK24.kappa_sym) == pytest.approx(-0.153882, abs=1e-6)


def test_bsk24_returns_its_empirical_parameters():
    n0 = float(BSK24.n_sat)
    # E_sat
    assert float(e_per_a(n0, 0.0)) == pytest.approx(float(BSK24.E_sat), rel=1e-6)
    # n_sat as the zero of the SNM pressure
    pressure = lambda n: float(MM.state(n / 2, n / 2, 0.0).P)
    n_root = brentq(pressure, 0.12, 0.19, xtol=1e-14, rtol=1e-14)
    assert n_root == pytest.approx(n0, rel=1e-6)
    # K_sat = 9 dP/dn at saturation (P = n^2 dE/dn)
    h = 1e-5 * n0
    K = 9.0 * (pressure(n0 + h) - pressure(n0 - h)) / (2 * h)
    assert K == pytest.approx(float(BSK24.K_sat), rel=1e-6)
    # E_sym as the delta^2 curvature of the full state (independent of symmetry_energy())
    hd = 1e-3
    f = lambda d: float(state_from_nb_delta(MM, n0, d, 0.0).F_per_A)
    curv = [(f(k * hd) - 2 * f(0.0) + f(-k * hd)) / (2 * (k * hd) ** 2) for k in (1, 2)]
    esym_fd = (4 * curv[0] - curv[1]) / 3  # Richardson
    assert esym_fd == pytest.approx(float(BSK24.E_sym), rel=1e-6)
    assert float(MM.symmetry_energy(n0)) == pytest.approx(float(BSK24.E_sym), rel=1e-9)
    # L_sym and K_sym from derivatives of E_sym(n)
    hn = 1e-4 * n0
    es = lambda n: float(MM.symmetry_energy(n))
    L = 3 * n0 * (es(n0 + hn) - es(n0 - hn)) / (2 * hn)
    Ksym = 9 * n0**2 * (es(n0 + hn) - 2 * es(n0) + es(n0 - hn)) / hn**2
    assert L == pytest.approx(float(BSK24.L_sym), rel=1e-6)
    assert float(MM.symmetry_slope(n0)) == pytest.approx(float(BSK24.L_sym), rel=1e-9)
    assert Ksym == pytest.approx(float(BSK24.K_sym), rel=1e-5)


def test_bsk24_sanity_numbers_physics_reference_1_7():
    n = np.array([0.005, 0.01, 0.02, 0.04, 0.08, 0.1578, 0.30])
    snm = [-0.6969, -1.9217, -4.1333, -7.6338, -12.5079, -16.0480, -5.6780]
    pnm = [2.7616, 4.0113, 5.5459, 7.2073, 9.2804, 15.0903, 40.8584]
    np.testing.assert_allclose(e_per_a(n, 0.0), snm, atol=1e-4)
    np.testing.assert_allclose(e_per_a(n, 1.0), pnm, atol=1e-4)
    # the finite-T code at T = 0 gives the same numbers
    np.testing.assert_allclose(MM.state(n, 0.0, 0.0).F_per_A, pnm, atol=1e-4)


def test_bsk24_close_to_the_skyrme_functional_at_saturation():
    from crustuq.models.tables.matter_tables import load_skyrme_matter_curve

    for which, delta in (("SM", 0.0), ("NM", 1.0)):
        curve = load_skyrme_matter_curve("BSk24", which)
        n, ea = curve.n_fm3, curve.e_per_nucleon_MeV
        sel = (n > 0.08) & (n < 0.2)
        # the MM reproduces the functional near saturation (physics_reference 1.7: <= 0.3 MeV)
        assert np.max(np.abs(e_per_a(n[sel], delta) - ea[sel])) < 0.35


# ---------------------------------------------------------------------------- identities
def independent_pressure(mm: MetaModel, n_n, n_p, T):
    """P from the kinetic pressure, the effective-mass rearrangement and n^2 de_pot/dn,
    written without the chemical potentials (physics_reference.md section 2):
    P = sum_q [(2/3) B_q tau_q + tau_q (B_q - hbar^2/2m)] + n^2 de_pot/dn|_delta."""
    n = n_n + n_p
    ks, kv, n0 = mm.kappa_sat, mm.kappa_sym, mm.n_sat
    out = 0.0
    for nq, sign in ((n_n, 1.0), (n_p, -1.0)):
        B = HBAR2_2M * (1 + (ks * n + sign * kv * (n_n - n_p)) / n0)
        if np.all(T == 0):
            tau = 0.6 * (3 * math.pi**2) ** (2 / 3) * nq ** (5 / 3)
        else:
            eta = fd_inv_1h(2 * math.pi**2 * nq * (B / T) ** 1.5)
            tau = (T / B) ** 2.5 * fd_3h(eta) / (2 * math.pi**2)
        out = out + (2.0 / 3.0) * B * tau + tau * (B - HBAR2_2M)
    delta = (n_n - n_p) / n
    _, de_dx, *_ = mm.potential(n, delta)
    return out + n**2 * de_dx / (3 * n0)


prior_samples = carreau2019_uniform_prior().sample(64, seed=7)
state_points = st.tuples(
    st.floats(1e-4, 0.35), st.floats(-1.0, 1.0), st.sampled_from([0.0, 0.0]) | st.floats(0.05, 10.0),
    st.integers(0, len(prior_samples) - 1),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state_points)
def test_thermodynamic_identities_random_states_and_prior_sets(point):
    nb, delta, T, k = point
    delta = float(np.clip(delta, -0.999, 0.999))
    mm = MetaModel.from_parameters(EmpiricalParameters.from_array(prior_samples[k]))
    n_n, n_p = 0.5 * nb * (1 + delta), 0.5 * nb * (1 - delta)
    s = mm.state(n_n, n_p, T)
    # P = sum n_q mu_q - f (rest masses included in mu and added to f) vs an independent P;
    # relative to the size of the terms of the sum (P itself vanishes at saturation)
    mun, mup = s.mu_n - const.M_N, s.mu_p - const.M_P
    p_gibbs = n_n * mun + n_p * mup - s.f
    p_ind = independent_pressure(mm, n_n, n_p, T)
    scale = abs(n_n * mun) + abs(n_p * mup) + abs(s.f)
    assert abs(float(p_gibbs - p_ind)) <= 1e-10 * float(scale) + 1e-15 * 940 * nb
    # (subtracting m_q from mu_q costs ~1e-16 * 940 MeV of round-off per species)
    assert abs(float(s.P - p_gibbs)) <= 1e-12 * float(scale) + 1e-15 * 940 * nb
    # mu_q = df/dn_q (central differences, relative step 1e-6)
    for q, (a, b) in enumerate(((1, 0), (0, 1))):
        h = 1e-6 * (n_n if a else n_p)
        fp = mm.state(n_n + a * h, n_p + b * h, T).f
        fm = mm.state(n_n - a * h, n_p - b * h, T).f
        mu_fd = (fp - fm) / (2 * h) + REST[q]
        mu = s.mu_n if q == 0 else s.mu_p
        assert float(mu) == pytest.approx(float(mu_fd), rel=1e-6, abs=1e-6)
    # s = -df/dT
    if T > 0:
        # step 1e-3 T with Richardson extrapolation: truncation O(h^4), round-off of f
        # (~1e-15 relative at eta ~ 600) amplified only by 1/h
        def ds(h):
            return -(mm.state(n_n, n_p, T + h).f - mm.state(n_n, n_p, T - h).f) / (2 * h)
        hT = 1e-3 * T
        s_fd = (4 * ds(hT) - ds(2 * hT)) / 3
        assert float(s.s) == pytest.approx(float(s_fd), rel=1e-6, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 0.3), st.floats(-0.99, 0.99), st.floats(0.0, 5.0))
def test_analytic_dmu_dn_matches_finite_differences(nb, delta, T):
    n_n, n_p = 0.5 * nb * (1 + delta), 0.5 * nb * (1 - delta)
    s = MM.state(n_n, n_p, T, derivatives=True)
    for j, (a, b) in enumerate(((1, 0), (0, 1))):
        def d(h):  # central difference of (mu_n, mu_p) along n_j
            sp = MM.state(n_n + a * h, n_p + b * h, T)
            sm = MM.state(n_n - a * h, n_p - b * h, T)
            return (sp.mu_n - sm.mu_n) / (2 * h), (sp.mu_p - sm.mu_p) / (2 * h)
        h = 1e-4 * (n_n if a else n_p)
        (n1, p1), (n2, p2) = d(h), d(2 * h)
        fd_n, fd_p = (4 * n1 - n2) / 3, (4 * p1 - p2) / 3  # Richardson, O(h^4)
        np.testing.assert_allclose(s.dmu_dn[..., 0, j], fd_n, rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(s.dmu_dn[..., 1, j], fd_p, rtol=1e-6, atol=1e-4)


def test_continuity_as_T_goes_to_zero():
    nb = np.geomspace(1e-4, 0.3, 40)
    for delta in (0.0, 0.5, 0.95):
        s0 = state_from_nb_delta(MM, nb, delta, 0.0)
        # thermal corrections are O((T/E_F)^2) ~ 1e-11 at T = 1e-6 MeV, n = 1e-4 fm^-3
        s1 = state_from_nb_delta(MM, nb, delta, 1e-6)
        np.testing.assert_allclose(s1.f, s0.f, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(s1.mu_n, s0.mu_n, rtol=1e-12)
        np.testing.assert_allclose(s1.mu_p, s0.mu_p, rtol=1e-12)
        np.testing.assert_allclose(s1.P, s0.P, rtol=1e-8, atol=1e-15)
        assert np.all(s0.s == 0.0)


def test_dilute_neutron_gas_is_boltzmann_not_sommerfeld():
    """At T = 1 MeV and n = 1e-7 fm^-3 the neutron gas is non-degenerate: the kinetic
    chemical potential is T ln(n lambda^3 / 2) (lambda^2 = 4 pi B/T), far from a Fermi energy."""
    T, n = 1.0, 1e-7
    s = MM.state(n, 0.0, T)
    B = HBAR2_2M * (1 + (MM.kappa_sat + MM.kappa_sym) * n / MM.n_sat)
    lam3 = (4 * math.pi * B / T) ** 1.5
    y = n * lam3 / 2
    mu_boltz = T * (math.log(y) + y / 2 ** 1.5)  # first quantum correction
    assert float(s.eta_n * T) == pytest.approx(mu_boltz, abs=1e-9)
    # entropy per particle: Sackur-Tetrode 5/2 - ln y plus the first Fermi correction
    # s/n = (5/2) P/(nT) - eta with P/(nT) = 1 + y/2^(5/2)
    s_expected = 2.5 * (1 + y / 2**2.5) - math.log(y) - y / 2**1.5
    assert float(s.S_per_A) == pytest.approx(s_expected, rel=1e-7)


def test_batch_of_parameter_sets_broadcasts_against_points():
    samples = EmpiricalParameters.from_array(prior_samples[:5])
    mm = MetaModel.from_parameters(samples)
    nb = np.geomspace(1e-3, 0.2, 7)[:, None]
    s = state_from_nb_delta(mm, nb, 0.3, 1.0)
    assert s.f.shape == (7, 5)
    for k in range(5):
        single = MetaModel.from_parameters(EmpiricalParameters.from_array(prior_samples[k]))
        np.testing.assert_array_equal(state_from_nb_delta(single, nb[:, 0], 0.3, 1.0).f, s.f[:, k])


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_n=-0.01, n_p=0.01, T=0.0), "n_n=-0.01"),
        (dict(n_n=0.01, n_p=0.01, T=-1.0), "T=-1"),
        (dict(n_n=0.0, n_p=0.0, T=1.0), "total density"),
        (dict(n_n=np.nan, n_p=0.01, T=1.0), "n_n"),
    ],
)
def test_bad_state_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MM.state(**kwargs)


def test_bad_asymmetry_and_parameter_names():
    with pytest.raises(ValueError, match=r"delta=1.5.*\[-1, 1\]"):
        state_from_nb_delta(MM, 0.1, 1.5, 0.0)
    with pytest.raises(ValueError, match="known sets are .*BSk24"):
        EmpiricalParameters.named("BSk99")
    with pytest.raises(ValueError, match="unknown parameter 'Lsym'"):
        BSK24.with_overrides(Lsym=50)
    with pytest.raises(ValueError, match=r"m_star_sat=-0.5.*allowed range"):
        BSK24.with_overrides(m_star_sat=-0.5)


def test_named_sets_include_the_shipped_tables():
    names = list_parameter_sets()
    for expected in ("BSk22", "BSk24", "BSk25", "BSk26", "SLy4"):
        assert expected in names
    assert len(names) > 40  # NSEoS files + nucleardatapy Skyrme table
    for name in names:
        meta_model(name).energy_per_nucleon(0.16, 0.0)  # every named set evaluates


def test_overrides_change_only_the_named_parameter():
    p = BSK24.with_overrides(L_sym=60)
    assert float(p.L_sym) == 60.0
    assert float(MetaModel.from_parameters(p).symmetry_slope(p.n_sat)) == pytest.approx(60.0, rel=1e-9)
    for k in ("n_sat", "E_sym", "K_sat"):
        assert float(getattr(p, k)) == float(getattr(BSK24, k))
