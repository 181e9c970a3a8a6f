"""Vacuum CLDM energy/mass (Grams et al. 2025 Eq. 27, physics_reference.md 5.7): published sanity
table, saturation limit, mass assembly against AME2020, broadcasting, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.cldm.vacuum_mass import (
    saturation_density_asymmetric,
    vacuum_bulk_terms,
    vacuum_energy_per_nucleon,
    vacuum_nuclear_mass,
)
from crustuq.models.constants import M_N, M_P
from crustuq.models.matter.parameters import EmpiricalParameters
from crustuq.models.tables.mass_tables import atomic_to_nuclear_mass, load_mass_table

BSK24 = EmpiricalParameters.named("BSk24")

# physics_reference.md 5.7, "Sanity values of E/A (MeV) from the vacuum formula with the BSk24 MM"
# columns: ETF in-medium, ETF mass table, AME2020 rows of Grams et al. 2025 Table 1
SANITY = {
    (8, 16): (-6.9971, -6.8780, -7.4491),
    (20, 40): (-8.2654, -8.2606, -8.4899),
    (26, 56): (-8.5661, -8.6084, -8.7547),
    (28, 78): (-8.0298, -8.0579, -8.1777),
    (40, 120): (-7.6548, -7.6653, -7.7516),
    (50, 132): (-8.1826, -8.2259, -8.2805),
    (82, 208): (-7.7346, -7.7848, -7.8010),
}
ROWS = ("BSk24-ETF-medium", "BSk24-ETF-table", "BSk24-AME2020")


@pytest.mark.parametrize("col,row", list(enumerate(ROWS)))
def test_sanity_table_of_physics_reference(col, row):
    Z = np.array([k[0] for k in SANITY])
    A = np.array([k[1] for k in SANITY])
    ref = np.array([v[col] for v in SANITY.values()])
    e = vacuum_energy_per_nucleon(Z, A, BSK24, SurfaceParameters.named(row))
    np.testing.assert_allclose(e, ref, atol=6e-5)   # table is rounded to 1e-4 MeV


def test_symmetric_nucleus_bulk_is_saturation_energy():
    # I = 0: n0 = n_sat and the meta-model gives E_sat there by construction (physics_reference 1.5)
    t = vacuum_bulk_terms(BSK24, [20, 50], [40, 100])
    np.testing.assert_allclose(t.n0, 0.1578, rtol=1e-14)
    np.testing.assert_allclose(t.e_bulk, -16.048, atol=1e-10)
    np.testing.assert_allclose(saturation_density_asymmetric(BSK24, 0.0), 0.1578)
    # r0 = (3/(4 pi n_sat))^{1/3} = (1.51288)^{1/3} = 1.14798 fm for n_sat = 0.1578 fm^-3
    np.testing.assert_allclose(t.r0, 1.14798, rtol=5e-6)


def test_nuclear_mass_of_pb208_against_ame2020():
    """M_CLDM - M_nuc(AME) = A (E/A_CLDM + B/A_exp) with B/A_exp(208Pb) = 7.8675 MeV (AME2020; the
    nuclear B/A differs from the atomic one by ~3 keV, inside the tolerance)."""
    sp = SurfaceParameters.named("BSk24-AME2020")
    m = float(vacuum_nuclear_mass(82, 208, BSK24, sp)[0])
    ame = load_mass_table("AME2020")
    m_ame = atomic_to_nuclear_mass(82, 208, ame.lookup(82, 126))
    assert m - m_ame == pytest.approx(208 * (-7.8010 + 7.8675), abs=208 * 4e-3)
    # assembly: Z m_p + N m_n + A E/A
    e = float(vacuum_energy_per_nucleon(82, 208, BSK24, sp)[0])
    assert m == pytest.approx(82 * M_P + 126 * M_N + 208 * e, rel=1e-15)


def test_broadcasting_bulk_by_surface_by_nuclei():
    rng = np.random.default_rng(3)
    base = BSK24.to_array()
    bulk = EmpiricalParameters.from_array(base * (1 + 0.01 * rng.standard_normal((3, 13))))
    sarr = SurfaceParameters.named("BSk24-AME2020").to_array() * (1 + 0.02 * rng.standard_normal((3, 4, 5)))
    sarr[..., 4] = 3.0 + 0.2 * rng.standard_normal((3, 4))
    surf = SurfaceParameters.from_array(sarr)
    Z, A = np.array([8, 26, 50, 82]), np.array([16, 56, 120, 208])
    terms = vacuum_bulk_terms(bulk[:, None], Z, A)
    e = terms.energy_per_nucleon(surf)
    assert e.shape == (3, 4, 4)
    for i in range(3):
        for j in range(4):
            ref = vacuum_energy_per_nucleon(Z, A, bulk[i], surf[i, j])
            np.testing.assert_allclose(e[i, j], ref, rtol=1e-13)


def test_invalid_bulk_sample_is_flagged_not_silent():
    good = BSK24.to_array()
    bad = good.copy()
    bad[2], bad[7] = 10.0, -2000.0      # K_sat + K_sym I^2 < 0 for I > 0.07
    terms = vacuum_bulk_terms(EmpiricalParameters.from_array(np.stack([good, bad])), [82, 20], [208, 40])
    assert terms.valid.tolist() == [True, False]
    assert np.all(np.isfinite(terms.e_bulk[0])) and np.all(np.isnan(terms.e_bulk[1]))


@pytest.mark.parametrize("Z,A", [(0, 1), (5, 5), (-1, 4), (2.5, 5)])
def test_bad_nuclei(Z, A):
    with pytest.raises(ValueError, match="Z|A"):
        vacuum_bulk_terms(BSK24, Z, A)
