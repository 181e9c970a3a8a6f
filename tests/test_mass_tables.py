"""Mass-table loaders against published numbers.

Reference values: AME2020 (Huang et al. / Wang et al., Chin. Phys. C 45 (2021)) and the
published theory tables, as quoted (to the printed digits) in shared/data/README.md sec. 3;
particle masses from CODATA 2018.
"""

import hashlib
from importlib import resources

import numpy as np
import pytest

from crustuq.models.tables import mass_tables as mt

# name: (nuclides, ME(56Fe), ME(208Pb), ME(120Sn), decimals printed) -- shared/data/README.md sec. 3
PUBLISHED = {
    "AME2020": (3558, -60.607163, -21.748519, -91.097741, 6),
    "HFB-24": (8392, -60.29, -21.94, -91.42, 2),
    "HFB-21": (8387, -60.41, -22.06, -91.27, 2),
    "HFB-22": (8392, -60.12, -21.66, -91.27, 2),
    "HFB-25": (9484, -60.45, -22.68, -91.26, 2),
    "HFB-26": (9511, -60.03, -22.32, -91.15, 2),
    "FRDM2012": (9318, -60.53, -20.92, -91.10, 2),
    "FRDM1995": (8979, -60.72, -21.15, -90.92, 2),
    "DZ28": (9210, -60.27, -22.29, -91.00, 2),
}
# (Z, N) of 56Fe, 208Pb, 120Sn
FE56, PB208, SN120 = (26, 30), (82, 126), (50, 70)


def test_list_mass_tables_names():
    assert set(mt.list_mass_tables()) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_table_counts_and_published_mass_excesses(name):
    n, fe, pb, sn, dec = PUBLISHED[name]
    t = mt.load_mass_table(name)
    assert len(t) == n
    got = t.lookup([FE56[0], PB208[0], SN120[0]], [FE56[1], PB208[1], SN120[1]])
    np.testing.assert_allclose(got, [fe, pb, sn], rtol=0, atol=0.5 * 10.0**-dec + 1e-9)
    assert np.all(t.A == t.Z + t.N)
    # sorted by (Z, N), no duplicates
    key = t.Z * 10000 + t.N
    assert np.all(np.diff(key) > 0)
    if name != "AME2020":
        assert not t.measured.any()
        assert np.isnan(t.uncertainty_MeV).all()
        assert set(t.provenance) == {name}


def test_ame2020_measured_and_estimated():
    t = mt.load_mass_table("AME2020")
    assert int(t.measured.sum()) == 2550
    assert int((~t.measured).sum()) == 1008
    i = t.index(*FE56)
    assert t.measured[i]
    assert t.uncertainty_MeV[i] == pytest.approx(0.000268, abs=5e-10)  # 0.268 keV
    # 56Zn: AME2020 "-25390#  400#" (estimated from systematics)
    j = t.index(30, 26)
    assert not t.measured[j]
    assert t.mass_excess_MeV[j] == pytest.approx(-25.390, abs=1e-9)
    assert t.uncertainty_MeV[j] == pytest.approx(0.400, abs=1e-9)
    # free neutron and 1H (published AME2020 values, keV)
    assert t.lookup(0, 1) == pytest.approx(8.07131806, abs=1e-11)
    assert t.lookup(1, 0) == pytest.approx(7.288971064, abs=1e-12)


def test_table_names_case_insensitive_and_cached():
    assert mt.load_mass_table("hfb-24") is mt.load_mass_table("HFB-24")


def test_unknown_table_lists_known_names():
    with pytest.raises(ValueError, match="name") as exc:
        mt.load_mass_table("HFB-99")
    msg = str(exc.value)
    assert "HFB-99" in msg and "\n" not in msg
    for known in PUBLISHED:
        assert known in msg
    with pytest.raises(ValueError, match="ETF-BSk24"):
        mt.load_etf_table("BSk27")


def test_arrays_read_only():
    t = mt.load_mass_table("AME2020")
    for arr in (t.Z, t.N, t.A, t.mass_excess_MeV, t.uncertainty_MeV, t.measured, t.provenance):
        with pytest.raises(ValueError):
            arr[0] = arr[1]
    with pytest.raises(Exception):
        t.name = "x"


def test_lookup_vectorised_missing_is_nan_and_select():
    t = mt.load_mass_table("HFB-24")
    Z = np.array([[26, 1], [200, 82]])
    N = np.array([[30, 1], [5, 126]])
    got = t.lookup(Z, N)
    assert got.shape == (2, 2)
    assert got[0, 0] == pytest.approx(-60.29, abs=5e-3)
    assert np.isnan(got[0, 1]) and np.isnan(got[1, 0])       # HFB-24 starts at Z = 8
    assert np.array_equal(t.contains(Z, N), [[True, False], [False, True]])
    assert isinstance(t.lookup(82, 126), float)
    sub = t.select(t.Z == 50)
    assert len(sub) == int((t.Z == 50).sum()) and set(sub.Z) == {50}
    assert sub.lookup(*SN120) == pytest.approx(-91.42, abs=5e-3)
    with pytest.raises(ValueError, match="mask"):
        t.select(np.ones(3, dtype=bool))


def test_etf_bsk24_published_energies():
    e = mt.load_etf_table("ETF-BSk24")
    assert len(e) == 9896
    got = e.lookup([26, 82, 50], [30, 126, 70])
    np.testing.assert_allclose(got, [-8.56561, -7.76979, -8.43433], rtol=0, atol=5e-6)
    assert e.valid.all()


@pytest.mark.parametrize("name, Z, A", [("ETF-BSk22", 118, 372), ("ETF-BSk25", 75, 191)])
def test_etf_dot_rows_are_nan(name, Z, A):
    e = mt.load_etf_table(name)
    assert len(e) == 9896
    assert int((~e.valid).sum()) == 1
    assert np.isnan(e.lookup(Z, A - Z))
    converted = mt.etf_to_mass_table(e)
    assert len(converted) == 9895 and not converted.contains(Z, A - Z)


def test_etf_to_mass_table_binding_energy():
    """Converted ETF masses give back B/A = -E/A with the nuclear convention
    B = Z m_p + N m_n - M_nuc (CODATA 2018 masses)."""
    e = mt.load_etf_table("ETF-BSk24")
    t = mt.etf_to_mass_table(e)
    Z, N, A = 82, 126, 208
    m_nuc = mt.atomic_to_nuclear_mass(Z, A, t.lookup(Z, N))
    b_per_a = (Z * 938.27208816 + N * 939.56542052 - m_nuc) / A
    assert b_per_a == pytest.approx(7.76979, abs=1e-9)
    # ETF (no shell/pairing) is less bound than HFB-24 for doubly-magic 208Pb
    assert t.lookup(Z, N) > mt.load_mass_table("HFB-24").lookup(Z, N)


def test_merge_ame_measured_with_hfb24():
    ame = mt.load_mass_table("AME2020")
    hfb = mt.load_mass_table("HFB-24")
    m = mt.merge_tables(ame, hfb)
    # 124Sr is not in AME2020 at all (Sr chain ends at 107Sr): must come from HFB-24
    assert not ame.contains(38, 86)
    i = m.index(38, 86)
    assert i >= 0 and m.provenance[i] == "HFB-24" and not m.measured[i]
    assert m.mass_excess_MeV[i] == hfb.lookup(38, 86)
    # 56Fe, 208Pb measured: from AME2020, with the AME values
    for (Z, N), me in ((FE56, -60.607163), (PB208, -21.748519)):
        j = m.index(Z, N)
        assert m.provenance[j] == "AME2020" and m.measured[j]
        assert m.mass_excess_MeV[j] == pytest.approx(me, abs=5e-7)
    # 56Zn is only estimated in AME2020 -> HFB-24 value by default, AME value if asked
    k = m.index(30, 26)
    assert m.provenance[k] == "HFB-24"
    m_all = mt.merge_tables(ame, hfb, primary_measured_only=False)
    assert m_all.provenance[m_all.index(30, 26)] == "AME2020"
    assert m_all.lookup(30, 26) == pytest.approx(-25.390, abs=1e-9)
    # counts: every measured AME nuclide, plus every HFB-24 nuclide not measured
    assert int((m.provenance == "AME2020").sum()) == 2550
    n_hfb_only = int((~ame.select(ame.measured.copy()).contains(hfb.Z, hfb.N)).sum())
    assert len(m) == 2550 + n_hfb_only
    assert m.name == "AME2020+HFB-24"
    # a merge of a merge keeps per-nuclide provenance
    m2 = mt.merge_tables(m, mt.load_mass_table("FRDM2012"), primary_measured_only=False)
    assert set(np.unique(m2.provenance)) == {"AME2020", "HFB-24", "FRDM2012"}


def test_merge_bad_input():
    with pytest.raises(ValueError, match="fallback"):
        mt.merge_tables(mt.load_mass_table("AME2020"), "HFB-24")


def test_atomic_to_nuclear_mass_codata():
    """AME2020 atomic mass excesses -> CODATA 2018 nuclear masses (m_p, m_d, m_alpha, m_n)."""
    ame = mt.load_mass_table("AME2020")
    cases = [  # Z, N, CODATA 2018 m c^2 [MeV], tolerance (B_el formula vs true electron binding)
        (1, 0, 938.27208816, 2e-6),
        (1, 1, 1875.61294257, 2e-6),
        (2, 2, 3727.3794066, 1e-5),
        (0, 1, 939.56542052, 2e-7),
    ]
    for Z, N, codata, tol in cases:
        got = mt.atomic_to_nuclear_mass(Z, Z + N, ame.lookup(Z, N))
        assert got == pytest.approx(codata, abs=tol), (Z, N)
    # vectorised, and the inverse
    Z = np.array([26, 82]); A = np.array([56, 208]); me = ame.lookup(Z, A - Z)
    back = mt.nuclear_to_atomic_mass_excess(Z, A, mt.atomic_to_nuclear_mass(Z, A, me))
    np.testing.assert_allclose(back, me, rtol=0, atol=1e-9)


def test_electron_binding_hydrogen_limit():
    # Lunney et al. Eq. A4 at Z = 1 gives 14.4 eV, vs the 13.6 eV hydrogen binding
    assert mt.electron_binding_energy_MeV(1) == pytest.approx(13.6e-6, abs=1.0e-6)
    assert mt.electron_binding_energy_MeV(0) == 0.0


def test_atomic_to_nuclear_bad_input():
    with pytest.raises(ValueError, match="Z"):
        mt.atomic_to_nuclear_mass(-1, 4, 0.0)
    with pytest.raises(ValueError, match="A"):
        mt.atomic_to_nuclear_mass(26, 20, 0.0)
    with pytest.raises(ValueError, match="Z"):
        mt.atomic_to_nuclear_mass(26.5, 56, 0.0)


# ---------------------------------------------------------------------------------------
# shipped files: checksums and line ends
# ---------------------------------------------------------------------------------------
DATA = resources.files("crustuq.models").joinpath("data")


def _sums():
    out = {}
    for ln in DATA.joinpath("SHA256SUMS").read_text().splitlines():
        digest, path = ln.split(None, 1)
        out[path.lstrip("*")] = digest
    return out


def test_sha256sums_match_every_file():
    sums = _sums()
    assert len(sums) == 43
    bad = [p for p, d in sums.items() if hashlib.sha256(DATA.joinpath(*p.split("/")).read_bytes()).hexdigest() != d]
    assert not bad, f"checksum mismatch (git line-end conversion?): {bad}"


def test_every_shipped_file_is_listed():
    def walk(node, prefix=""):
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                yield from walk(child, rel + "/")
            else:
                yield rel
    files = {f for f in walk(DATA) if f not in ("README.md", "SHA256SUMS") and "__pycache__" not in f}
    assert files == set(_sums())


def test_line_ends_preserved():
    ame = DATA.joinpath("masses", "AME2020", "mass.mas20").read_bytes()
    assert ame.count(b"\r\n") == ame.count(b"\n") > 3500
    dz = DATA.joinpath("masses", "DZ", "DUZU.txt").read_bytes()
    assert b"\n" not in dz and dz.count(b"\r") >= 9210
    etf = DATA.joinpath("masses", "ETF_BSk", "BSk24.data").read_bytes()
    assert etf.count(b"\r\n") == 9896
