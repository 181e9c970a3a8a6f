"""Nuclear-matter table loaders against published numbers.

BSk24 empirical parameters: Goriely, Chamel, Pearson, PRC 88, 024308 (2013), as tabulated in
NSEoS / nucleardatapy and quoted in shared/data/README.md sec. 2.3; chiral EFT: Drischler et
al., PRL 125, 202702 (2020).
"""

import numpy as np
import pytest

from crustuq.models.tables import matter_tables as mtt

BSK24_NSEOS = {  # shared/data/README.md sec. 2.3
    "n_sat": 0.1578, "E_sat": -16.048, "K_sat": 245.52, "Q_sat": -274.46, "Z_sat": 1184.15,
    "E_sym": 30.00, "L_sym": 46.40, "K_sym": -37.61, "Q_sym": 710.86, "Z_sym": -4031.3,
    "m_star_sat": 0.80, "dm_star": 0.20,
}


def test_nseos_bsk24_values():
    assert mtt.load_nseos_parameters("BSk24") == BSK24_NSEOS


def test_nseos_sets_and_case_insensitive():
    names = mtt.list_nseos_parameter_sets()
    assert len(names) == 19
    for n in ("BSk14", "BSk24", "SLy4", "SLy230a", "SkO", "NRAPR", "DDME2", "NL3", "TM1", "TW99"):
        assert n in names
    assert mtt.load_nseos_parameters("sly4") == mtt.load_nseos_parameters("SLY4")
    for n in names:
        p = mtt.load_nseos_parameters(n)
        assert set(p) == set(mtt.NSEOS_KEYS)
        assert 0.14 < p["n_sat"] < 0.17 and -16.5 < p["E_sat"] < -15.5 and 25 < p["E_sym"] < 40


def test_nseos_returns_fresh_dict():
    p = mtt.load_nseos_parameters("BSk24")
    p["n_sat"] = 1.0
    assert mtt.load_nseos_parameters("BSk24")["n_sat"] == 0.1578


def test_nseos_unknown_lists_known():
    with pytest.raises(ValueError, match="name") as exc:
        mtt.load_nseos_parameters("BSk99")
    assert "BSk24" in str(exc.value) and "SLy4" in str(exc.value)


def test_nep_eskyrme_bsk24():
    t = mtt.load_nep_table("NEPESkyrme")
    assert set(t) == {"BSk22", "BSk24", "BSk25", "BSk26", "BSk31", "BSk32", "BSkG3", "BSkG4"}
    p = t["BSk24"]
    ref = {"n_sat": 0.1578, "E_sat": -16.048, "K_sat": 245.5, "E_sym": 30.0, "L_sym": 46.4,
           "K_sym": -37.6, "m_star_sat": 0.80}
    for k, v in ref.items():
        assert p[k] == pytest.approx(v, abs=1e-12), k
    assert "kappas" not in p and "Z_sat" not in p
    # the same model in the NSEoS file, to the printed digits
    for k in ref:
        assert p[k] == pytest.approx(BSK24_NSEOS[k], abs=0.051)


def test_nep_skyrme_table():
    t = mtt.load_nep_table("nepskyrme")
    assert len(t) == 46
    sly4 = t["SLY4"]
    assert set(sly4) == {"n_sat", "E_sat", "K_sat", "Q_sat", "Z_sat", "E_sym", "L_sym", "K_sym",
                         "Q_sym", "Z_sym", "m_star_sat", "kappas", "kappav"}
    # SLy4: Chabanat et al. 1998 (n0 = 0.160, E0 = -15.97, K = 230, J = 32.0, L = 46, m*/m = 0.69)
    assert sly4["n_sat"] == pytest.approx(0.16, abs=0.001)
    assert sly4["E_sat"] == pytest.approx(-15.97, abs=0.01)
    assert sly4["K_sat"] == pytest.approx(230.0, abs=0.5)
    assert sly4["E_sym"] == pytest.approx(32.0, abs=0.05)
    assert sly4["L_sym"] == pytest.approx(46.0, abs=0.05)
    assert sly4["m_star_sat"] == pytest.approx(0.69, abs=0.01)
    assert all(p["E_sat"] < 0 for p in t.values())
    assert "SKM*" in t and "BSkG1" in t


def test_nep_unknown():
    with pytest.raises(ValueError, match="NEPSkyrme"):
        mtt.load_nep_table("NEPGogny")


def test_chiral_eft_neutron_matter():
    b = mtt.load_chiral_eft_band("NM")
    assert len(b) == 59
    assert b.n_fm3[0] == pytest.approx(0.05) and b.n_fm3[-1] == pytest.approx(0.34)
    e01 = np.interp(0.1, b.n_fm3, b.e_per_particle_MeV)
    assert 10.0 < e01 < 12.0
    assert np.all(b.sigma_MeV > 0) and np.interp(0.1, b.n_fm3, b.sigma_MeV) < 1.0
    assert list(b.orders) == ["LO", "NLO", "N2LO", "N3LO"]
    assert b.orders["N3LO"][0] is b.e_per_particle_MeV
    # EFT convergence: truncation error shrinks order by order
    for lo, hi in (("NLO", "N2LO"), ("N2LO", "N3LO")):
        assert np.all(b.orders[hi][1] < b.orders[lo][1])
    assert np.all(np.diff(b.e_per_particle_MeV) > 0)      # PNM energy rises with density
    with pytest.raises(ValueError):
        b.n_fm3[0] = 0.0


def test_chiral_eft_symmetric_matter_saturates():
    b = mtt.load_chiral_eft_band("SM")
    i = int(np.argmin(b.e_per_particle_MeV))
    # Drischler et al. 2020: saturation near n = 0.17 fm^-3, E/A about -14 to -15 MeV
    assert 0.15 < b.n_fm3[i] < 0.19
    assert -16.0 < b.e_per_particle_MeV[i] < -13.0


def test_chiral_eft_bad_which():
    with pytest.raises(ValueError, match="which"):
        mtt.load_chiral_eft_band("PNM")


def test_skyrme_bsk24_curves():
    sm = mtt.load_skyrme_matter_curve("BSk24", "SM")
    nm = mtt.load_skyrme_matter_curve("bsk24", "nm")
    assert len(sm) == len(nm) == 1000
    # saturation of BSk24 (PRC 88, 024308): n_sat = 0.1578, E_sat = -16.048 MeV
    i = int(np.argmin(sm.e_per_nucleon_MeV))
    assert sm.n_fm3[i] == pytest.approx(0.1578, abs=0.001)
    assert sm.e_per_nucleon_MeV[i] == pytest.approx(-16.048, abs=0.001)
    # pressure vanishes at saturation
    assert np.interp(0.1578, sm.n_fm3, sm.pressure_MeV_fm3) == pytest.approx(0.0, abs=0.01)
    # thermodynamic identity P = n^2 d(E/A)/dn
    for c in (sm, nm):
        p_num = c.n_fm3**2 * np.gradient(c.e_per_nucleon_MeV, c.n_fm3)
        np.testing.assert_allclose(p_num[5:-5], c.pressure_MeV_fm3[5:-5], rtol=1e-2, atol=2e-3)
    # PNM at n_sat ~ E_sat + E_sym = 14.0 MeV (plus small higher-order terms)
    assert np.interp(0.1578, nm.n_fm3, nm.e_per_nucleon_MeV) == pytest.approx(14.0, abs=1.5)


def test_skyrme_unknown_model():
    with pytest.raises(ValueError, match="BSk24"):
        mtt.load_skyrme_matter_curve("SLy4", "NM")
    with pytest.raises(ValueError, match="matter"):
        mtt.load_skyrme_matter_curve("BSk24", "AM")
