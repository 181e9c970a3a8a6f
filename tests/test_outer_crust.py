"""Outer crust at T = 0 (and cold nuclei in a hot electron gas): published sequence,
identities (Gibbs energy, Gibbs-Duhem, Maxwell construction, thermodynamic consistency)
and limits. Physics: models/crust/outer.py docstring (Eqs. O1-O8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from crustuq.models.constants import E2, HBARC, M_E, M_N, MADELUNG_BCC, MEV_FM3_TO_G_CM3
from crustuq.models.crust import lattice, outer
from crustuq.models.leptons.electrons import electron_gas
from crustuq.models.tables.mass_tables import atomic_to_nuclear_mass, load_mass_table, merge_tables

#: Pearson et al. 2018 (MNRAS 481, 2994) BSk24 outer-crust sequence (AME + HFB-24 masses)
PEARSON2018_BSK24 = ["56Fe", "62Ni", "64Ni", "66Ni", "86Kr", "84Se", "82Ge", "80Zn", "78Ni",
                     "124Mo", "122Zr", "121Y", "120Sr", "122Sr", "124Sr"]


@pytest.fixture(scope="module")
def crust():
    return outer.outer_crust()          # AME2020 measured + HFB-24


@pytest.fixture(scope="module")
def table():
    return outer.resolve_mass_table("AME2020+HFB-24")


def _nuclear_mass(table, Z, N):
    return atomic_to_nuclear_mass(Z, Z + N, table.lookup(Z, N))


def _is_subsequence(sub, seq):
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


# ---------------------------------------------------------------------------------------
# lattice
# ---------------------------------------------------------------------------------------
def test_lattice_structure_constant_chamel_fantina_2016():
    # Chamel & Fantina, PRD 93, 063001 (2016): bcc structure constant C = -1.444231
    assert lattice.LATTICE_C == pytest.approx(1.444231, abs=2e-6)


def test_lattice_energy_is_madelung_over_ion_sphere_radius():
    Z, n_e = 26.0, 3.7e-7
    a_N = lattice.ion_sphere_radius(n_e / Z)
    assert lattice.lattice_energy_per_nucleus(Z, n_e) == pytest.approx(-MADELUNG_BCC * Z**2 * E2 / a_N, rel=1e-13)
    assert lattice.lattice_energy_density(Z, n_e) == pytest.approx(n_e / Z * lattice.lattice_energy_per_nucleus(Z, n_e), rel=1e-13)
    # P_L = n^2 d(eps_L/n)/dn at fixed composition = eps_L / 3
    h = 1e-4
    e = lambda n: lattice.lattice_energy_density(Z, n) / n  # noqa: E731
    P_fd = n_e**2 * (e(n_e * (1 + h)) - e(n_e * (1 - h))) / (2 * h * n_e)
    assert lattice.lattice_pressure(Z, n_e) == pytest.approx(P_fd, rel=1e-7)


# ---------------------------------------------------------------------------------------
# the published sequence and the drip point
# ---------------------------------------------------------------------------------------
def test_pearson2018_bsk24_sequence_and_drip(crust):
    assert crust.status == outer.STATUS_OK, crust.message
    assert _is_subsequence(PEARSON2018_BSK24, crust.names), crust.names
    assert crust.names[0] == "56Fe" and crust.names[-1] == "124Sr"
    assert crust.drip is not None and crust.drip.name == "124Sr"
    assert 2.4e-4 <= crust.drip.n_B <= 2.8e-4
    assert crust.drip.mu_n == M_N


def test_first_layer_ends_near_bps_density(crust):
    # BPS (1971) Table: 56Fe up to rho = 8.1e6 g cm^-3 (older masses; no electron binding)
    first = crust.layers[0]
    assert first.name == "56Fe"
    rho = (first.n_B_max * first.mu_n_max - first.P_max) * MEV_FM3_TO_G_CM3      # eps = n g - P
    assert 7.6e6 < rho < 8.6e6


def test_first_transition_against_independent_calculation(crust, table):
    """56Fe -> 62Ni from an independent implementation of Eqs. (O2)-(O4) with the
    physics_reference.md section 4 electron formulas and scipy's brentq."""
    lam = HBARC / M_E
    pref = M_E / (8 * math.pi**2 * lam**3)

    def state(Z, A, M, P):
        def p_tot(x):
            s = math.sqrt(1 + x * x)
            n_e = x**3 / (3 * math.pi**2 * lam**3)
            P_e = pref * (x * (2 * x * x / 3 - 1) * s + math.asinh(x))
            return P_e - lattice.LATTICE_C * E2 * Z ** (2 / 3) * n_e ** (4 / 3) / 3 - P
        x = brentq(p_tot, 1e-3, 50.0, xtol=1e-15, rtol=1e-15)
        n_e = x**3 / (3 * math.pi**2 * lam**3)
        mu_e = M_E * math.sqrt(1 + x * x)
        g = (M + Z * mu_e - (4 / 3) * lattice.LATTICE_C * E2 * Z ** (5 / 3) * n_e ** (1 / 3)) / A
        return g, n_e * A / Z

    M_fe = _nuclear_mass(table, 26, 30)
    M_ni = _nuclear_mass(table, 28, 34)
    P_t = brentq(lambda P: state(26, 56, M_fe, P)[0] - state(28, 62, M_ni, P)[0], 1e-11, 1e-8, xtol=1e-22, rtol=1e-13)
    assert crust.layers[0].P_max == pytest.approx(P_t, rel=1e-8)
    assert crust.layers[0].n_B_max == pytest.approx(state(26, 56, M_fe, P_t)[1], rel=1e-8)
    assert crust.layers[1].n_B_min == pytest.approx(state(28, 62, M_ni, P_t)[1], rel=1e-8)


def test_layers_are_the_ground_state_of_the_whole_table(crust, table):
    """Brute force over every nuclide (Z >= 1) at the middle of each layer."""
    keep = table.Z >= 1
    Z, A = table.Z[keep], table.A[keep]
    M = atomic_to_nuclear_mass(Z, A, table.mass_excess_MeV[keep])
    for layer in crust.layers:
        P_mid = math.sqrt(layer.P_min * layer.P_max) if layer.P_min > 0 else 0.5 * layer.P_max
        st = outer.fixed_pressure_state(Z, A, M, P_mid)
        best = int(np.argmin(st.mu_n))
        assert (Z[best], A[best]) == (layer.Z, layer.A), layer.name


def test_transitions_are_exact_and_continuous_in_pressure(crust):
    L = crust.layers
    for lo, hi in zip(L[:-1], L[1:]):
        assert lo.P_max == hi.P_min
        assert hi.n_B_min > lo.n_B_max                     # density jumps up
        ga = outer.fixed_pressure_state(lo.Z, lo.A, lo.nuclear_mass_MeV, lo.P_max).mu_n
        gb = outer.fixed_pressure_state(hi.Z, hi.A, hi.nuclear_mass_MeV, hi.P_min).mu_n
        assert abs(ga - gb) < 1e-10                          # MeV: g_a(P_t) = g_b(P_t)
        assert lo.mu_n_max == pytest.approx(hi.mu_n_min, abs=1e-10)
    assert L[0].P_min == 0.0
    assert np.all(np.diff(crust.P_min) > 0) and np.all(crust.mu_n_max < M_N + 1e-10)


def test_drip_point_is_where_g_reaches_the_neutron_mass(crust):
    d = crust.drip
    top = crust.layers[-1]
    st = outer.fixed_pressure_state(d.Z, d.A, top.nuclear_mass_MeV, d.P)
    assert float(st.mu_n) == pytest.approx(M_N, abs=1e-10)
    assert float(st.n_B) == pytest.approx(d.n_B, rel=1e-12)
    below = outer.fixed_pressure_state(d.Z, d.A, top.nuclear_mass_MeV, d.P * (1 - 1e-6))
    assert float(below.mu_n) < M_N


def test_thin_layers_do_not_depend_on_the_grid(crust):
    coarse = outer.outer_crust(n_grid=40)                 # ~3.3 grid points per decade
    assert coarse.names == crust.names
    np.testing.assert_allclose(coarse.P_max, crust.P_max, rtol=1e-9)
    np.testing.assert_allclose(coarse.n_B_min, crust.n_B_min, rtol=1e-9)


def test_free_neutron_row_of_the_table_is_ignored(crust, table):
    """The neutron (Z = 0) is handled explicitly via m_n c^2, whatever the table says."""
    me = table.mass_excess_MeV.copy()
    me[(table.Z == 0) & (table.N == 1)] = -100.0
    weird = type(table)(name="weird", source="test", Z=table.Z, N=table.N, A=table.A, mass_excess_MeV=me,
                        uncertainty_MeV=table.uncertainty_MeV, measured=table.measured, provenance=table.provenance)
    c = outer.outer_crust(weird)
    assert c.names == crust.names and c.drip.P == pytest.approx(crust.drip.P, rel=1e-12)


# ---------------------------------------------------------------------------------------
# identities at fixed pressure
# ---------------------------------------------------------------------------------------
def test_gibbs_energy_identity_and_gibbs_duhem(table):
    Z, N = np.array([26, 28, 36, 42, 38]), np.array([30, 34, 50, 82, 86])
    A = Z + N
    M = _nuclear_mass(table, Z, N)
    P = np.array([1e-10, 1e-8, 1e-6, 1e-4, 4e-4])
    st = outer.fixed_pressure_state(Z, A, M, P)
    assert np.all(st.converged)
    # epsilon assembled independently: n_N M' + eps_e + eps_L (Eq. O2); P from Eq. (O3)
    eg = electron_gas(st.n_e, 0.0)
    n_N = st.n_B / A
    eps = n_N * M + eg.f_e + lattice.lattice_energy_density(Z, st.n_e)
    np.testing.assert_allclose(eg.P_e + lattice.lattice_pressure(Z, st.n_e), P, rtol=1e-11)
    np.testing.assert_allclose((eps + P) / st.n_B, st.mu_n, rtol=1e-14, atol=0)
    # dg/dP = 1/n_B at fixed composition (Eq. O6)
    h = 1e-5
    gp = outer.fixed_pressure_state(Z, A, M, P * (1 + h)).mu_n
    gm = outer.fixed_pressure_state(Z, A, M, P * (1 - h)).mu_n
    np.testing.assert_allclose((gp - gm) / (2 * h * P), 1 / st.n_B, rtol=1e-5)


def test_zero_pressure_limit(table):
    """At P = 0 the electron pressure balances the (negative) lattice pressure."""
    M = _nuclear_mass(table, 26, 30)
    st = outer.fixed_pressure_state(26, 56, M, 0.0)
    eg = electron_gas(np.atleast_1d(st.n_e), 0.0)
    assert float(eg.P_e[0]) == pytest.approx(-float(lattice.lattice_pressure(26, st.n_e)), rel=1e-9)
    assert 1e-14 < float(st.n_B) < 1e-11


# ---------------------------------------------------------------------------------------
# fixed baryon density, T >= 0
# ---------------------------------------------------------------------------------------
def _pure_points(crust, per_layer=2):
    pts = []
    for l in crust.layers:
        lo = max(l.n_B_min, 1e-12)
        pts += list(np.geomspace(lo, l.n_B_max, per_layer + 2)[1:-1])
    return np.array(pts)


@pytest.mark.parametrize("T", [0.0, 0.01, 0.3])
def test_state_is_thermodynamically_consistent_in_pure_layers(crust, T):
    n = _pure_points(crust)
    s = outer.outer_crust_state(n, T, crust)
    assert np.all(s.status == 0)
    if T == 0:
        assert not np.any(s.coexistence)
    assert s.coexistence.mean() < 0.25          # at T > 0 boundaries move; thin layers may vanish
    n = n[~s.coexistence]
    s = outer.outer_crust_state(n, T, crust)
    h = 1e-5
    sp = outer.outer_crust_state(n * (1 + h), T, crust)
    sm = outer.outer_crust_state(n * (1 - h), T, crust)
    np.testing.assert_array_equal(sp.layer, s.layer)
    np.testing.assert_array_equal(sm.layer, s.layer)
    # P = n^2 d(F/A)/dn ;  mu_n = d[n (F/A + m_n)]/dn
    P_fd = n**2 * (sp.F_per_A - sm.F_per_A) / (2 * h * n)
    np.testing.assert_allclose(P_fd, s.P, rtol=2e-6)
    mu_fd = (n * (1 + h) * (sp.F_per_A + M_N) - n * (1 - h) * (sm.F_per_A + M_N)) / (2 * h * n)
    np.testing.assert_allclose(mu_fd, s.mu_n, rtol=1e-12, atol=1e-6)
    if T > 0:
        dT = 1e-4 * T
        Sfd = -(outer.outer_crust_state(n, T + dT, crust).F_per_A - outer.outer_crust_state(n, T - dT, crust).F_per_A) / (2 * dT)
        np.testing.assert_allclose(Sfd, s.S_per_A, rtol=1e-5, atol=1e-12)
        assert np.all(s.S_per_A > 0)
    else:
        assert np.all(s.S_per_A == 0)


def test_state_at_T0_reproduces_the_layer_table(crust):
    L = crust.layers
    n = np.array([l.n_B_max for l in L])
    s = outer.outer_crust_state(n, 0.0, crust)
    np.testing.assert_allclose(s.P, crust.P_max, rtol=1e-10)
    np.testing.assert_allclose(s.mu_n, crust.mu_n_max, rtol=1e-14)
    np.testing.assert_array_equal(s.Z, crust.Z)
    np.testing.assert_allclose(s.Y_e, crust.Z / crust.A)
    n_N = n / crust.A
    np.testing.assert_allclose(s.r_WS, (3 / (4 * np.pi * n_N)) ** (1 / 3))
    np.testing.assert_array_equal(s.A_cell, s.A)


@pytest.mark.parametrize("T", [0.0, 0.05])
def test_coexistence_is_a_maxwell_construction(crust, T):
    L = crust.layers
    for k in range(len(L) - 1):
        n = np.linspace(L[k].n_B_max, L[k + 1].n_B_min, 7)[2:-2]     # inside the T = 0 gap
        s = outer.outer_crust_state(n, T, crust)
        if T == 0.0:
            assert np.all(s.coexistence)
            np.testing.assert_allclose(s.P, L[k].P_max, rtol=1e-14)
            np.testing.assert_allclose(s.mu_n, L[k].mu_n_max, rtol=1e-15)
            assert np.all((s.phase_fraction > 0) & (s.phase_fraction < 1))
        c = s.coexistence
        # f = mu n - P with constant P and mu (Eq. O8): F/A = mu - m_n - P/n
        np.testing.assert_allclose(s.F_per_A[c], s.mu_n[c] - M_N - s.P[c] / n[c], rtol=0, atol=1e-9)
        if c.sum() >= 2:
            assert np.ptp(s.P[c]) == 0 and np.ptp(s.mu_n[c]) == 0
        assert np.all(s.status == 0)


@pytest.mark.parametrize("T, n_min", [(0.0, 1e-12), (0.02, 1e-10), (0.4, 1e-8)])
def test_pressure_and_mu_are_continuous_and_monotone_across_the_crust(crust, T, n_min):
    n = np.geomspace(n_min, crust.n_B_end, 4000)
    s = outer.outer_crust_state(n, T, crust)
    assert np.all(s.status == 0)
    assert np.all(np.diff(s.P) >= -1e-15 * s.P[1:])
    assert np.all(np.diff(s.mu_n) >= -1e-12)
    # no jumps larger than what the grid step allows
    assert np.max(np.diff(s.P) / s.P[1:]) < 0.05
    # F/A is continuous and integrates dF/dln(n) = P/n across layers and coexistence regions
    dlnn = np.diff(np.log(n))
    trap = 0.5 * (s.P[1:] / n[1:] + s.P[:-1] / n[:-1]) * dlnn
    # (trapezoid error ~6e-4 relative where a step straddles a coexistence edge, a kink of P/n;
    # a discontinuity of F would be of order keV-MeV per nucleon)
    assert np.all(np.abs(np.diff(s.F_per_A) - trap) < 2e-3 * np.abs(trap) + 1e-9)


def test_drip_end_of_the_state_matches_the_sequence(crust):
    s = outer.outer_crust_state(crust.n_B_end, 0.0, crust)
    assert float(s.P) == pytest.approx(crust.drip.P, rel=1e-10)
    assert float(s.mu_n) == pytest.approx(M_N, abs=1e-9)
    assert int(s.Z) == 38 and int(s.A) == 124


def test_thin_layer_vanishes_at_finite_temperature(crust):
    """At T = 0.4 MeV the thin 58Fe layer (between 62Ni and 64Ni) lies above the common
    tangent of its neighbours: 62Ni and 64Ni coexist directly with equal P and mu_n."""
    L = crust.layers
    assert L[2].name == "58Fe"
    n = np.geomspace(0.5 * L[1].n_B_max, 2 * L[3].n_B_min, 400)
    s = outer.outer_crust_state(n, 0.4, crust)
    assert 2 not in s.layer and np.any(s.coexistence)
    c = s.coexistence
    assert set(s.Z[c]) <= {28} and np.ptp(s.P[c]) == 0 and np.ptp(s.mu_n[c]) == 0
    # the two phases at the ends of the coexistence region have that P and mu_n
    lo, hi = n[c].min(), n[c].max()
    ends = outer.outer_crust_state(np.array([lo * 0.999999, hi * 1.000001]), 0.4, crust)
    np.testing.assert_allclose(ends.P, s.P[c][0], rtol=1e-4)
    np.testing.assert_allclose(ends.mu_n, s.mu_n[c][0], rtol=1e-10)


def test_hot_dilute_matter_is_flagged_unstable(crust):
    s = outer.outer_crust_state(np.array([1e-12, 1.01e-12]), 0.5, crust)
    assert np.all(s.status & outer.STATE_UNSTABLE) and s.P[1] < s.P[0]
    assert np.all(s.Gamma < 1)


def test_below_zero_pressure_density_is_flagged(crust):
    s = outer.outer_crust_state(np.array([1e-15, 1e-10]), 0.0, crust)
    assert s.status[0] & outer.STATE_NEGATIVE_PRESSURE and s.P[0] < 0
    assert s.status[1] == 0 and s.P[1] > 0


# ---------------------------------------------------------------------------------------
# table selection
# ---------------------------------------------------------------------------------------
def test_table_specs(crust):
    merged = merge_tables(load_mass_table("AME2020"), load_mass_table("HFB-24"), primary_measured_only=True)
    assert outer.outer_crust(merged).names == crust.names
    assert outer.outer_crust("ame2020 + hfb-24").names == crust.names


def test_nuclear_mass_input_matches_table():
    """A NuclearMasses object (e.g. CLDM vacuum masses) is used through M' exactly."""
    t = load_mass_table("HFB-24")

    class Vacuum:
        name = "HFB-24 as nuclear masses"
        Z, N = t.Z, t.N
        nuclear_mass_MeV = atomic_to_nuclear_mass(t.Z, t.A, t.mass_excess_MeV)

    a = outer.outer_crust(Vacuum())
    b = outer.outer_crust("HFB-24")
    assert a.names == b.names
    np.testing.assert_allclose(a.P_max, b.P_max, rtol=1e-9)


@pytest.mark.parametrize("name", ["HFB-24", "FRDM2012", "HFB-21", "AME2020+FRDM2012"])
def test_other_tables_drip_at_the_usual_density(name):
    # every mass model puts neutron drip near rho ~ 4.3e11 g cm^-3 (n_B ~ 2.6e-4 fm^-3),
    # Pearson et al. 2018 Table 4; the outer crust starts with iron-group nuclei
    c = outer.outer_crust(name)
    assert c.status == outer.STATUS_OK
    assert 2.3e-4 < c.drip.n_B < 2.9e-4
    assert 24 <= c.layers[0].Z <= 28
    assert c.drip.Z in range(36, 41) and c.drip.N in (82, 84, 86, 88)


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(table="HFB-99"), "table"),
    (dict(table="AME2020+HFB-24+FRDM2012"), "table"),
    (dict(table=42), "table"),
    (dict(P_grid_min=-1.0), "P_grid_min"),
    (dict(P_grid_max=1e-20), "P_grid_max"),
    (dict(n_grid=3), "n_grid"),
])
def test_outer_crust_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        outer.outer_crust(**kwargs)


def test_state_and_pressure_bad_input(crust):
    with pytest.raises(ValueError, match="n_B"):
        outer.outer_crust_state(-1e-6, 0.0, crust)
    with pytest.raises(ValueError, match="n_B"):
        outer.outer_crust_state(1e-3, 0.0, crust)               # beyond neutron drip
    with pytest.raises(ValueError, match="T"):
        outer.outer_crust_state(1e-6, -0.1, crust)
    with pytest.raises(ValueError, match="P"):
        outer.fixed_pressure_state(26, 56, 52000.0, -1e-6)
