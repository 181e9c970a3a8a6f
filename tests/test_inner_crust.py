"""The CLDM crust: thermodynamic consistency, equations vs direct minimisation, the BSk24 numbers
of Grams et al. (2025) and Pearson et al. (2018), temperature trends, the transition, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from reference.pearson2018_bsk24 import pressure as pearson_pressure

from crustuq.models import constants as const
from crustuq.models.cldm.surface import SurfaceParameters, parse_surface
from crustuq.models.crust import status as st
from crustuq.models.crust.cldm_cell import CellOptions, evaluate_cell
from crustuq.models.crust.inner import cell_model, solve_inner_crust
from crustuq.models.crust.inner_solver import minimise_directly
from crustuq.models.crust.profile import CrustOptions, solve_crust
from crustuq.models.matter.parameters import EmpiricalParameters

BSK24 = EmpiricalParameters.named("BSk24")
AME = SurfaceParameters.named("BSk24-AME2020")
TEMPS = (0.0, 1.0, 2.0)


@pytest.fixture(scope="module")
def crust():
    """BSk24 + BSk24-AME2020 surface at T = 0, 1, 2 MeV on a grid spanning the whole crust."""
    nb = np.unique(np.concatenate([
        np.geomspace(1e-6, 2.5e-4, 8), [3e-4, 5e-4], np.geomspace(1e-3, 0.06, 40), [0.065, 0.07, 0.075, 0.085],
    ]))
    return solve_crust(nb, TEMPS, BSK24, AME)


def _at(result, key, it, n):
    j = int(np.argmin(np.abs(result.n_B - n)))
    assert abs(result.n_B[j] / n - 1) < 1e-9, "grid point missing"
    return result[key][0, it, j]


# ------------------------------------------------------------------ thermodynamic consistency
@pytest.mark.parametrize("T", [0.0, 1.0, 2.0])
def test_pressure_and_mu_n_are_derivatives_of_the_free_energy(T):
    """P = n_B^2 d(F/n_B)/dn_B and mu_n = dF/dn_B (finite differences on a fine grid, 1e-4),
    beta equilibrium mu_n = mu_p + mu_e at every converged point."""
    model = cell_model(EmpiricalParameters.from_array(BSK24.to_array()[None]), AME, CellOptions())
    centres = np.geomspace(4e-4, 0.06, 14)
    h = 1e-4
    grid = np.sort(np.concatenate([centres * (1 - h), centres, centres * (1 + h)]))
    r = solve_inner_crust(grid, T, model)
    assert np.all(r.status == st.CONVERGED)
    F = (r["F_per_A"][0] + const.M_N) * grid  # free-energy density incl. rest mass, MeV fm^-3
    Fa = (F / grid)
    for k, c in enumerate(centres):
        i = 3 * k + 1
        dFa = (Fa[i + 1] - Fa[i - 1]) / (grid[i + 1] - grid[i - 1])
        dF = (F[i + 1] - F[i - 1]) / (grid[i + 1] - grid[i - 1])
        P = r["P"][0, i]
        assert c**2 * dFa == pytest.approx(P, rel=1e-4), f"P at n_B={c:.3e}"
        assert dF == pytest.approx(r["mu_n"][0, i], rel=1e-4), f"mu_n at n_B={c:.3e}"
    # beta equilibrium at every converged point (MeV)
    beta = r["mu_n"][0] - r["mu_p"][0] - r["mu_e"][0]
    assert np.max(np.abs(beta)) < 1e-6


def test_entropy_is_minus_dF_dT():
    model = cell_model(EmpiricalParameters.from_array(BSK24.to_array()[None]), AME, CellOptions())
    nb = np.array([1e-3, 1e-2, 4e-2])
    T, h = 1.0, 1e-4
    rp, r0, rm = (solve_inner_crust(nb, t, model) for t in (T + h, T, T - h))
    s_fd = -(rp["F_per_A"][0] - rm["F_per_A"][0]) / (2 * h)
    np.testing.assert_allclose(r0["S_per_A"][0], s_fd, rtol=1e-4)


# ------------------------------------------------------------------ equations vs direct minimisation
@pytest.mark.parametrize("T", [0.0, 2.0])
def test_equations_and_direct_minimisation_agree(T):
    model = cell_model(EmpiricalParameters.from_array(BSK24.to_array()[None]), AME, CellOptions())
    nb = np.geomspace(4e-4, 0.06, 12)
    r = solve_inner_crust(nb, T, model)
    assert np.all(r.status == st.CONVERGED)
    rng = np.random.default_rng(0)
    for j, n in enumerate(nb):
        # start the derivative-free minimiser from a perturbed cell
        x0 = r.x[0, j] + rng.normal(0, [0.03, 0.01, 0.02, 0.05])
        xd = minimise_directly(float(n), T, model, x0)
        Zd = evaluate_cell(xd[None], np.array([n]), np.array([T]), model, need_parts=True).parts["Z"][0]
        assert Zd == pytest.approx(r["Z"][0, j], rel=1e-6), f"Z at n_B={n:.3e}"


# ------------------------------------------------------------------ published BSk24 numbers
def test_bsk24_ame2020_composition_and_transition(crust):
    it = 0
    sel = (crust.n_B > 1e-3) & (crust.n_B < 0.05)
    Z = crust["Z"][0, it, sel]
    assert np.all((Z >= 36) & (Z <= 44)), Z
    assert 0.07 <= crust.n_t[0, it] <= 0.09
    # the layers: outer up to drip, inner up to n_t, core beyond
    lay = crust.layer[0, it]
    assert np.all(lay[crust.n_B <= crust.n_drip[0]] == st.LAYER_OUTER)
    assert np.all(lay[(crust.n_B > crust.n_drip[0]) & (crust.n_B <= crust.n_t[0, it])] == st.LAYER_INNER)
    assert np.all(lay[crust.n_B > crust.n_t[0, it]] == st.LAYER_CORE)
    assert np.all(crust.status[0, it][lay == st.LAYER_CORE] == st.BEYOND_TRANSITION)


def test_pressure_against_pearson_2018_bsk24(crust):
    n = crust.n_B
    P = crust["P"][0, 0]
    rel = P / pearson_pressure(n) - 1.0
    inner5 = (n > 1e-3) & (n < 0.04)
    inner8 = (n >= 0.04) & (n <= 0.06)
    assert np.max(np.abs(rel[inner5])) < 0.05, rel[inner5]
    assert np.max(np.abs(rel[inner8])) < 0.08, rel[inner8]


def test_inner_crust_joins_outer_crust_continuously_in_pressure(crust):
    """At T = 0 the pressure at the first inner-crust point just above neutron drip equals the
    outer-crust drip pressure within 2 %."""
    model = cell_model(EmpiricalParameters.from_array(BSK24.to_array()[None]), AME, CellOptions())
    r = solve_inner_crust(np.array([crust.n_drip[0] * (1 + 1e-3), 3e-4]), 0.0, model)
    assert r.status[0, 0] == st.CONVERGED
    assert r["P"][0, 0] == pytest.approx(crust.P_drip[0], rel=0.02)
    # and the outer crust reaches it from below
    j = np.nonzero(crust.n_B <= crust.n_drip[0])[0][-1]
    assert crust["P"][0, 0, j] <= crust.P_drip[0] * (1 + 1e-9)


# ------------------------------------------------------------------ temperature trends (Grams et al. 2025)
def test_electron_fraction_decreases_with_temperature(crust):
    """Y_e(T=0) > Y_e(1) > Y_e(2) by more than 0.5 % for 3e-4 <= n_B <= 0.01 fm^-3; within 3 %
    of each other above 0.02 fm^-3 ("almost identical")."""
    for n in (3e-4, 5e-4, crust.n_B[(crust.n_B > 1e-3)][0], 0.01):
        y = [_near(crust, "Y_e", it, n) for it in range(3)]
        assert y[0] > y[1] * 1.005 and y[1] > y[2] * 1.005, (n, y)
    high = crust.n_B[(crust.n_B > 0.02) & (crust.n_B < 0.06)]
    for n in high:
        y = np.array([_near(crust, "Y_e", it, n) for it in range(3)])
        assert np.ptp(y) / y[0] < 0.03


def test_wigner_seitz_radius_grows_with_T_at_low_density_only(crust):
    """r_WS(2) > r_WS(1) > r_WS(0) by more than 1 % below 3e-3 fm^-3; |r_WS(T) - r_WS(0)| < 3 % of
    r_WS(0) above 0.01 fm^-3."""
    for n in crust.n_B[(crust.n_B >= 3e-4) & (crust.n_B <= 3e-3)]:
        r = [_near(crust, "r_WS", it, n) for it in range(3)]
        assert r[2] > r[1] * 1.01 and r[1] > r[0] * 1.01, (n, r)
    for n in crust.n_B[(crust.n_B >= 0.01) & (crust.n_B <= 0.06)]:
        r = np.array([_near(crust, "r_WS", it, n) for it in range(3)])
        assert np.max(np.abs(r - r[0])) / r[0] < 0.03, (n, r)


def test_proton_number_decreases_with_T_at_low_and_increases_at_high_density(crust):
    """Z(0) > Z(1) > Z(2) (by > 0.05) below 2e-3 fm^-3; Z(2) > Z(1) > Z(0) (by > 0.05) between
    0.01 and 0.05 fm^-3."""
    for n in crust.n_B[(crust.n_B >= 3e-4) & (crust.n_B <= 2e-3)]:
        Z = [_near(crust, "Z", it, n) for it in range(3)]
        assert Z[0] > Z[1] + 0.05 and Z[1] > Z[2] + 0.05, (n, Z)
    for n in crust.n_B[(crust.n_B >= 0.01) & (crust.n_B <= 0.05)]:
        Z = [_near(crust, "Z", it, n) for it in range(3)]
        assert Z[2] > Z[1] + 0.05 and Z[1] > Z[0] + 0.05, (n, Z)


def _near(result, key, it, n):
    j = int(np.argmin(np.abs(np.log(result.n_B / n))))
    return result[key][0, it, j]


# ------------------------------------------------------------------ batch behaviour and bad input
def test_batch_of_samples_matches_single_solves():
    rng = np.random.default_rng(3)
    arr = np.repeat(BSK24.to_array()[None], 3, 0)
    arr[:, 6] += rng.normal(0, 4, 3)
    params = EmpiricalParameters.from_array(arr)
    nb = np.geomspace(5e-4, 0.05, 9)
    batch = solve_crust(nb, [0.0], params, AME)
    for s in range(3):
        single = solve_crust(nb, [0.0], params[s], AME)
        np.testing.assert_allclose(batch["Z"][s], single["Z"][0], rtol=1e-7)
        np.testing.assert_array_equal(batch.status[s], single.status[0])


def test_hot_matter_without_clusters_is_reported_homogeneous():
    r = solve_crust(np.geomspace(1e-3, 0.06, 6), [20.0], BSK24, AME)
    assert np.all(r.layer[0, 0] == st.LAYER_CORE)
    assert np.all(r.status[0, 0] == st.NO_CLUSTER)
    assert np.all(np.isfinite(r["P"][0, 0])) and np.all(np.isfinite(r["mu_n"][0, 0]))


def test_integer_z_option_gives_integers_and_higher_free_energy():
    nb = np.geomspace(5e-4, 0.04, 6)
    cont = solve_crust(nb, [0.0], BSK24, AME)
    intz = solve_crust(nb, [0.0], BSK24, AME, CrustOptions(integer_Z=True))
    inner = cont.layer[0, 0] == st.LAYER_INNER
    Zi = intz["Z"][0, 0, inner]
    np.testing.assert_allclose(Zi, np.round(Zi), atol=1e-8)
    assert np.all(np.abs(Zi - cont["Z"][0, 0, inner]) <= 1.0)
    assert np.all(intz["F_per_A"][0, 0, inner] >= cont["F_per_A"][0, 0, inner] - 1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: solve_crust([1e-3, 0.5], [0.0], BSK24, AME), r"n_B=0.5 fm\^-3: the crust model covers"),
        (lambda: solve_crust([1e-3, 1e-2], [-1.0], BSK24, AME), r"T=-1 MeV"),
        (lambda: solve_crust([1e-2, 1e-3], [0.0], BSK24, AME), "strictly increasing"),
        (lambda: parse_surface("sigma0=-1.0,sigma0c=0.1,b_s=30,beta=0.7,p=3"), r"sigma0=-1 .*must be > 0"),
        (lambda: parse_surface("sigma0=1.0,sigma0c=0.1,b_s=-40,beta=0.7,p=3"), r"b_s=-40.*sigma_s negative"),
        (lambda: SurfaceParameters.named("BSk24-XYZ"), "known sets are BSk24-ETF-medium"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("options", [CellOptions(ion_translation=True), CellOptions(surface_temperature_factor=True)],
                         ids=["ion-translation", "surface-h(T)"])
def test_optional_terms_keep_the_thermodynamics_consistent(options):
    """The optional Dinh Thi et al. (2023) translational free energy and the Lattimer-Swesty h(T)
    factor (solved with differences of the analytic gradient): converged cells, P and mu_n equal
    the derivatives of F, beta equilibrium; and they change the result (they are switched on)."""
    params = EmpiricalParameters.from_array(BSK24.to_array()[None])
    model = cell_model(params, AME, options)
    plain = cell_model(params, AME, CellOptions())
    centres = np.array([1e-3, 5e-3, 2e-2])
    h = 1e-4
    grid = np.sort(np.concatenate([centres * (1 - h), centres, centres * (1 + h)]))
    T = 1.5
    r = solve_inner_crust(grid, T, model)
    assert np.all(r.status == st.CONVERGED)
    F = (r["F_per_A"][0] + const.M_N) * grid
    for k, c in enumerate(centres):
        i = 3 * k + 1
        dFa = (F[i + 1] / grid[i + 1] - F[i - 1] / grid[i - 1]) / (grid[i + 1] - grid[i - 1])
        assert c**2 * dFa == pytest.approx(r["P"][0, i], rel=1e-4)
        assert (F[i + 1] - F[i - 1]) / (grid[i + 1] - grid[i - 1]) == pytest.approx(r["mu_n"][0, i], rel=1e-4)
    assert np.max(np.abs(r["mu_n"][0] - r["mu_p"][0] - r["mu_e"][0])) < 1e-6
    r0 = solve_inner_crust(grid, T, plain)
    assert np.max(np.abs(r["Z"][0] / r0["Z"][0] - 1)) > 1e-3


def test_wide_prior_sample_has_no_holes_and_its_cells_are_true_minima():
    """A Margueron-2018 Gaussian-prior sample (seed 1, #56) whose grid points between 0.005 and
    0.007 fm^-3 start where f' is not convex (Newton alone ran off to I -> -1 there): every point
    between two converged points converges, and each of those cells is the minimum that direct
    minimisation finds from a start 3 grid points below (Z to 1e-5, the Powell tolerance from that
    far) with a free energy below homogeneous npe matter."""
    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.cldm.surface_fit import fit_surface_batch
    from crustuq.models.crust.homogeneous import beta_equilibrium
    from crustuq.models.matter.metamodel import MetaModel
    from crustuq.models.matter.priors import margueron2018_gaussian_prior

    bulk = EmpiricalParameters.from_array(margueron2018_gaussian_prior().sample(100, seed=1)[56:57])
    fit = fit_surface_batch(bulk, target_set("AME2020"))
    model = cell_model(bulk, fit.surface_parameters(np.ones(1, dtype=bool)), CellOptions())
    nb = np.geomspace(3e-4, 0.08, 100)
    res = solve_inner_crust(nb, 0.0, model)
    conv = res.status[0] == st.CONVERGED
    first, last = np.nonzero(conv)[0][[0, -1]]
    assert conv[first:last + 1].all(), np.nonzero(~conv[first:last + 1])[0] + first
    assert nb[last] > 0.03
    hom = beta_equilibrium(nb, 0.0, MetaModel.from_parameters(bulk))
    for j in (50, 52, 54, 56):
        x, start = res.x[0, j], res.x[0, j - 3]   # Powell starts from the cell 3 grid points below
        xd = minimise_directly(nb[j], 0.0, model, start)
        ev = evaluate_cell(np.stack([x, xd, start]), np.full(3, nb[j]), np.zeros(3),
                           model.take(np.zeros(3, dtype=int)), need_parts=True)
        assert ev.feasible.all()
        Z = ev.parts["Z"]
        assert Z[0] == pytest.approx(Z[1], rel=1e-5) and abs(Z[2] - Z[0]) > 1e-3  # Powell: ~1e-6
        assert ev.f[0] < nb[j] * hom.F_per_A[j]
