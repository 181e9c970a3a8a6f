"""Surface-parameter least squares: Grams et al. 2025 Table 1 (rows 2 and 3), target sets checked
against the AME2020 file's own B/A column, batch fits (variable projection) against scipy, failures
as data."""

from __future__ import annotations

import numpy as np
import pytest

from crustuq.models.cldm.fit_targets import list_target_sets, target_set
from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES, SurfaceParameters
from crustuq.models.cldm.surface_fit import SurfaceModel, fit_surface, fit_surface_batch
from crustuq.models.cldm.vacuum_mass import vacuum_bulk_terms
from crustuq.models.matter.parameters import EmpiricalParameters
from crustuq.models.matter.priors import carreau2019_uniform_prior
from crustuq.models.tables.mass_tables import electron_binding_energy_MeV, load_mass_table, read_data_text

BSK24 = EmpiricalParameters.named("BSk24")
KEYS = ("sigma0", "sigma0c", "b_s", "beta")
# Grams et al. 2025, Table 1 (BSk24, p = 3)
ROW_ETF_TABLE = dict(sigma0=0.98636, sigma0c=0.09008, b_s=36.22714, beta=1.16310)
ROW_AME2020 = dict(sigma0=1.04971, sigma0c=0.12094, b_s=30.45764, beta=0.66720)


def _ame_file_binding_per_nucleon() -> dict:
    """(Z, N) -> B/A in MeV from the AME2020 file's BINDING ENERGY/A column (f13.5 keV at
    columns 55-67), measured values only -- read here independently of the package parser."""
    lines = read_data_text("masses/AME2020/mass.mas20").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("1N-Z")) + 2
    out = {}
    for ln in lines[start:]:
        if not ln.strip():
            continue
        N, Z = int(ln[4:9]), int(ln[9:14])
        field = ln[54:67].strip()
        if "#" in field or "*" in field or not field or "#" in ln[28:54]:
            continue
        out[(Z, N)] = float(field) * 1e-3
    return out


def test_ame2020_target_sets_selection_and_binding_convention():
    ame = load_mass_table("AME2020")
    ts = target_set("AME2020")
    ta = target_set("AME2020-atomic")
    assert len(ts) == len(ta) == 2457
    assert ts.Z.min() == 8 and ts.N.min() == 8
    idx = ame.index(ts.Z, ts.N)
    assert np.all(idx >= 0) and np.all(ame.measured[idx])          # estimated ('#') masses excluded
    n_expected = int(np.sum(ame.measured & (ame.Z >= 8) & (ame.N >= 8)))
    assert len(ts) == n_expected
    # AME-convention energies equal minus the file's tabulated B/A (rounded to 1e-4 keV)
    ba = _ame_file_binding_per_nucleon()
    ref = np.array([-ba[(z, n)] for z, n in zip(ta.Z, ta.N)])
    np.testing.assert_allclose(ta.energy_per_nucleon_MeV, ref, atol=2e-7)
    # nuclear convention: the electron binding B_el(Z) - Z*13.6 eV (Lunney et al. 2003) is removed;
    # the rest (< 0.1 eV per nucleon) is CODATA-2018 m_n, m_p, m_e vs the AME's own n and 1H excesses
    shift = (electron_binding_energy_MeV(ts.Z) - ts.Z * 13.6057e-6) / ts.A
    np.testing.assert_allclose(ts.energy_per_nucleon_MeV - ta.energy_per_nucleon_MeV, shift, rtol=0, atol=1e-7)
    # 208Pb: B/A = 7867.4530 keV in AME2020
    i = int(np.flatnonzero((ta.Z == 82) & (ta.N == 126))[0])
    assert ta.energy_per_nucleon_MeV[i] == pytest.approx(-7.8674530, abs=1e-7)


def test_etf_target_set_is_the_whole_table():
    ts = target_set("ETF-BSk24")
    assert len(ts) == 9896 and ts.Z.min() == 8 and ts.Z.max() == 122
    assert set(list_target_sets()) >= {"AME2020", "AME2020-atomic", "ETF-BSk24", "HFB-24"}


def test_fit_ame2020_atomic_reproduces_table1_row3_exactly():
    """AME convention (B as tabulated), measured, Z >= 8, N >= 8: every printed digit of row 3."""
    res = fit_surface(BSK24, target_set("AME2020-atomic"))
    assert res.success
    for k in KEYS:
        # half a unit of the last printed digit (5 decimals)
        assert res.values()[k] == pytest.approx(ROW_AME2020[k], abs=5e-6), k
    assert res.rms_MeV == pytest.approx(0.0406, abs=2e-4)
    assert res.values()["p"] == 3.0


def test_fit_ame2020_nuclear_within_issue_tolerances():
    res = fit_surface(BSK24, target_set("AME2020"))
    v = res.values()
    assert v["sigma0"] == pytest.approx(ROW_AME2020["sigma0"], rel=0.01)
    assert v["beta"] == pytest.approx(ROW_AME2020["beta"], rel=0.10)
    assert v["sigma0c"] == pytest.approx(ROW_AME2020["sigma0c"], rel=0.25)
    assert v["b_s"] == pytest.approx(ROW_AME2020["b_s"], rel=0.25)
    # the 1-sigma statistical errors are O(1e-3) MeV fm^-2 on sigma0: the fit is well defined
    assert 0 < res.stderr["sigma0"] < 0.005 and res.covariance.shape == (4, 4)


def test_fit_etf_table_moves_to_table1_row2():
    ame = fit_surface(BSK24, target_set("AME2020")).values()
    etf = fit_surface(BSK24, target_set("ETF-BSk24")).values()
    for k in KEYS:
        assert etf[k] == pytest.approx(ROW_ETF_TABLE[k], rel=1e-5, abs=1e-5), k
        # every parameter moves from the AME row toward the ETF row
        assert abs(etf[k] - ROW_ETF_TABLE[k]) < abs(ame[k] - ROW_ETF_TABLE[k])


def test_fit_with_free_p_lowers_chi2():
    ts = target_set("AME2020")
    fixed = fit_surface(BSK24, ts)
    free = fit_surface(BSK24, ts, free=("sigma0", "sigma0c", "b_s", "beta", "p"))
    assert free.chi2_MeV2 <= fixed.chi2_MeV2 * (1 + 1e-12)
    assert 1.0 <= free.values()["p"] <= 10.0 and free.covariance.shape == (5, 5)


def test_fast_model_matches_reference_path():
    """SurfaceModel (rewritten Eqs. 24-25) vs vacuum_bulk_terms + surface.py tensions."""
    ts = target_set("AME2020")
    m = SurfaceModel(BSK24, ts)
    rng = np.random.default_rng(5)
    th = SurfaceParameters.named("BSk24-AME2020").to_array() * (1 + 0.05 * rng.standard_normal((7, 5)))
    th[:3, 4] = 3.0
    ref = vacuum_bulk_terms(BSK24, ts.Z, ts.A).energy_per_nucleon(SurfaceParameters.from_array(th)) \
        - ts.energy_per_nucleon_MeV
    np.testing.assert_allclose(m.residuals(th), ref, atol=1e-13)
    np.testing.assert_allclose(m.chi2(th), np.sum(ref**2, axis=1), rtol=1e-12)
    # rows are independent of the batching (bit-identical)
    full = m.chi2(th)
    assert all(m.chi2(th[i:i + 1])[0] == full[i] for i in range(7))
    # outside the domain: +inf, never an exception or NaN
    bad = th[:3].copy()
    bad[0, 0] = -1.0         # sigma0 < 0
    bad[1, 2] = -17.0        # b_s < -2^{p+1}
    bad[2, 4] = np.nan
    assert np.all(np.isinf(m.chi2(bad)))


def test_batch_fit_matches_scipy_least_squares():
    ts = target_set("AME2020")
    X = carreau2019_uniform_prior().sample(6, 11)
    batch = fit_surface_batch(X, ts)
    assert batch.status.tolist() == [0] * 6
    P = EmpiricalParameters.from_array(X)
    for i in range(6):
        ref = fit_surface(P[i], ts)
        np.testing.assert_allclose(batch.to_array()[i, :4], [ref.values()[k] for k in KEYS], rtol=2e-6, atol=1e-7)
        assert batch.rms_MeV[i] == pytest.approx(ref.rms_MeV, rel=1e-9)


def test_batch_fit_failures_are_data():
    ts = target_set("AME2020")
    good = BSK24.to_array()
    bad = good.copy()
    bad[2], bad[7] = 10.0, -2000.0          # no vacuum solution for I > 0.07
    res = fit_surface_batch(np.stack([good, bad, good]), ts)
    assert res.status.tolist() == [0, 2, 0]
    assert np.isnan(res.rms_MeV[1]) and np.all(np.isnan(res.to_array()[1, :4]))
    np.testing.assert_allclose(res.to_array()[0, :4], res.to_array()[2, :4], rtol=0)
    sp = res.surface_parameters()
    assert sp.batch_shape == (2,)
    # a b_s search range that excludes the optimum: status 1 (at the bound), values still reported
    edge = fit_surface_batch(good, ts, b_max=10.0)
    assert edge.status.tolist() == [1] and edge.b_s[0] == pytest.approx(10.0)


@pytest.mark.parametrize("kw,match", [
    (dict(name="AME2030"), "unknown target set"),
    (dict(name="AME2020", z_min=200), "no nucleus left"),
    (dict(name="ETF-BSk24", measured_only=True), "only AME"),
    (dict(name="AME2020", z_min=-3), "z_min"),
])
def test_bad_target_sets(kw, match):
    name = kw.pop("name")
    with pytest.raises(ValueError, match=match):
        target_set(name, **kw)


def test_too_few_nuclei_for_the_free_parameters():
    ts = target_set("AME2020", z_min=110)
    assert len(ts) <= 4
    with pytest.raises(ValueError, match="more nuclei than free parameters"):
        fit_surface(BSK24, ts)


def test_names_order():
    assert SURFACE_PARAMETER_NAMES == ("sigma0", "sigma0c", "b_s", "beta", "p")
