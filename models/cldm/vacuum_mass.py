"""Energy and mass of a nucleus in vacuum in the compressible liquid-drop model (CLDM).

Grams et al., Universe (2025) Eq. (27) with the bulk evaluated at the saturation density of
asymmetric matter, as in physics_reference.md section 5.7 (NSEoS ``be_f``):

    I      = 1 - 2Z/A,  y_p = Z/A
    n0(I)  = n_sat [1 - 3 L_sym I^2 / (K_sat + K_sym I^2)]                        [fm^-3]
    r0     = (3 / (4 pi n0))^{1/3}                                                 [fm]
    E/A    = e_MM(n0, I) + [4 pi r0^2 sigma_s(y_p) A^{2/3} + 8 pi r0 sigma_c(y_p) A^{1/3}
                            + (3/5) e^2 Z^2 A^{-1/3} / r0] / A                     [MeV]
    M c^2  = Z m_p c^2 + (A - Z) m_n c^2 + A E/A                                   [MeV]

e_MM is the T = 0 meta-model energy per nucleon without rest mass
(:meth:`crustuq.models.matter.metamodel.MetaModel.energy_per_nucleon`); sigma_s, sigma_c are
the tensions of :mod:`crustuq.models.cldm.surface` (Eqs. 24-25, alpha = 5.5). The binding
energy is B = -A E/A. The mass is the **nuclear** (bare-nucleus) mass: no electrons.

Structure used for speed: everything except the surface and curvature tensions depends only on
the bulk parameters and the nucleus, so :func:`vacuum_bulk_terms` computes it once per bulk set
(:class:`VacuumBulkTerms`); the energy is then

    E/A = e_bulk + e_coul + area_per_nucleon * sigma_s(y_p) + curvature_length * sigma_c(y_p)

with area_per_nucleon = 4 pi r0^2 A^{-1/3} (fm^2) and curvature_length = 8 pi r0 A^{-2/3} (fm).

Shapes: nuclei are the trailing axis ``(n,)``. A bulk batch of shape ``Bb`` gives terms of
shape ``Bb + (n,)``; surface parameters of batch shape ``Sb`` give energies of shape
``broadcast(Bb, Sb) + (n,)`` -- e.g. bulk ``(n_samples, 1)`` and surface
``(n_samples, n_walkers)`` give ``(n_samples, n_walkers, n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models import constants as const
from crustuq.models.cldm.surface import SurfaceParameters, curvature_tension, surface_tension
from crustuq.models.matter.metamodel import MetaModel
from crustuq.models.matter.parameters import EmpiricalParameters

__all__ = [
    "VacuumBulkTerms",
    "saturation_density_asymmetric",
    "vacuum_bulk_terms",
    "vacuum_energy_per_nucleon",
    "vacuum_nuclear_mass",
    "nucleus_arrays",
]


def nucleus_arrays(Z, A) -> tuple[np.ndarray, np.ndarray]:
    """Validate proton and mass numbers: 1-d integer arrays (scalars allowed) with
    1 <= Z <= A - 1 (both Z and N = A - Z at least 1, so that y_p^{-p} and (1-y_p)^{-p} are
    finite). Returns (Z, A) as float64 1-d arrays."""
    Za = np.atleast_1d(np.asarray(Z))
    Aa = np.atleast_1d(np.asarray(A))
    for label, arr in (("Z", Za), ("A", Aa)):
        if arr.ndim != 1:
            raise ValueError(f"{label}: must be a scalar or a 1-d array, got shape {arr.shape}")
        if not (np.issubdtype(arr.dtype, np.integer)
                or (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
                    and np.all(arr == np.round(arr)))):
            raise ValueError(f"{label}: must hold integers, got dtype {arr.dtype}")
    if Za.shape != Aa.shape:
        raise ValueError(f"Z, A: must have the same length, got {Za.shape[0]} and {Aa.shape[0]}")
    bad = (Za < 1) | (Aa - Za < 1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"nucleus Z={int(Za[i])}, A={int(Aa[i])}: allowed are 1 <= Z <= A - 1 "
                         "(at least one proton and one neutron)")
    return Za.astype(np.float64), Aa.astype(np.float64)


def saturation_density_asymmetric(params: EmpiricalParameters, I) -> np.ndarray:
    """n0(I) = n_sat [1 - 3 L_sym I^2 / (K_sat + K_sym I^2)] in fm^-3: saturation density of
    matter of asymmetry I to second order in I (physics_reference.md 5.7). Broadcasts the
    parameter batch against ``I``."""
    I2 = np.asarray(I, dtype=float) ** 2
    return params.n_sat * (1.0 - 3.0 * params.L_sym * I2 / (params.K_sat + params.K_sym * I2))


@dataclass(frozen=True, eq=False)
class VacuumBulkTerms:
    """The surface-independent pieces of the vacuum CLDM energy per nucleon (module docstring).

    Attributes (``Bb`` is the bulk batch shape, ``n`` the number of nuclei):

    Z, A, y_p : (n,) float64 -- proton number, mass number, proton fraction Z/A
    n0 : Bb + (n,) -- cluster density n0(I) in fm^-3
    r0 : Bb + (n,) -- radius constant (3/(4 pi n0))^{1/3} in fm
    e_bulk : Bb + (n,) -- meta-model E/A at (n0, I), MeV, no rest mass
    e_coul : Bb + (n,) -- Coulomb energy per nucleon (3/5) e^2 Z^2 A^{-4/3} / r0, MeV
    area_per_nucleon : Bb + (n,) -- 4 pi r0^2 A^{-1/3}, fm^2 (times sigma_s = surface E/A)
    curvature_length : Bb + (n,) -- 8 pi r0 A^{-2/3}, fm (times sigma_c = curvature E/A)
    valid : Bb -- True where every term is finite and n0 > 0 for every nucleus (a bulk
        sample with K_sat + K_sym I^2 <= 0 or n0 <= 0 has no vacuum solution here; its
        terms are NaN and ``valid`` is False -- check it, NaN is never silent).
    """

    Z: np.ndarray
    A: np.ndarray
    y_p: np.ndarray
    n0: np.ndarray
    r0: np.ndarray
    e_bulk: np.ndarray
    e_coul: np.ndarray
    area_per_nucleon: np.ndarray
    curvature_length: np.ndarray
    valid: np.ndarray

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.e_bulk.shape[:-1]

    @property
    def n_nuclei(self) -> int:
        return int(self.Z.shape[0])

    def energy_per_nucleon(self, surface: SurfaceParameters) -> np.ndarray:
        """E/A in MeV (no rest mass) for surface parameters ``surface`` (any batch shape that
        broadcasts with the bulk batch); shape broadcast(Bb, Sb) + (n,)."""
        sp = surface.expand(1)
        sig_s, _ = surface_tension(self.y_p, sp)
        sig_c, _ = curvature_tension(self.y_p, sp)
        return (self.e_bulk + self.e_coul) + self.area_per_nucleon * sig_s + self.curvature_length * sig_c

    def nuclear_mass(self, surface: SurfaceParameters) -> np.ndarray:
        """Nuclear rest energy M c^2 = Z m_p c^2 + (A - Z) m_n c^2 + A E/A in MeV (Eq. 27)."""
        rest = self.Z * const.M_P + (self.A - self.Z) * const.M_N
        return rest + self.A * self.energy_per_nucleon(surface)


def vacuum_bulk_terms(params: EmpiricalParameters, Z, A, *, meta_model: MetaModel | None = None) -> VacuumBulkTerms:
    """Precompute the surface-independent terms of the vacuum CLDM energy (module docstring)
    for every bulk set of ``params`` (batch shape Bb) and every nucleus (Z, A).

    ``meta_model`` may be passed to reuse a :class:`MetaModel` built from ``params``.
    """
    if not isinstance(params, EmpiricalParameters):
        raise ValueError(f"params: must be EmpiricalParameters, got {type(params).__name__}")
    Zf, Af = nucleus_arrays(Z, A)
    mm = meta_model if meta_model is not None else MetaModel.from_parameters(params)
    I = 1.0 - 2.0 * Zf / Af
    ex = (Ellipsis, None)
    I2 = I * I
    denom = params.K_sat[ex] + params.K_sym[ex] * I2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n0 = params.n_sat[ex] * (1.0 - 3.0 * params.L_sym[ex] * I2 / denom)
        ok = (denom > 0) & (n0 > 0) & np.isfinite(n0)
        n0 = np.where(ok, n0, np.nan)
        r0 = np.cbrt(3.0 / (4.0 * np.pi * n0))
        e_bulk = mm.expand(1).energy_per_nucleon(n0, I)
        A13 = np.cbrt(Af)
        e_coul = 0.6 * const.E2 * Zf * Zf / (r0 * Af * A13)
        area = 4.0 * np.pi * r0 * r0 / A13
        curv = 8.0 * np.pi * r0 / (A13 * A13)
    finite = ok & np.isfinite(e_bulk) & np.isfinite(e_coul)
    valid = np.all(finite, axis=-1)
    if not np.all(valid):
        bad = ~valid[..., None]
        e_bulk, e_coul, area, curv, n0, r0 = (np.where(bad, np.nan, a) for a in (e_bulk, e_coul, area, curv, n0, r0))
    return VacuumBulkTerms(Z=Zf, A=Af, y_p=Zf / Af, n0=n0, r0=r0, e_bulk=e_bulk, e_coul=e_coul,
                           area_per_nucleon=area, curvature_length=curv, valid=np.asarray(valid))


def vacuum_energy_per_nucleon(Z, A, params: EmpiricalParameters, surface: SurfaceParameters) -> np.ndarray:
    """Vacuum CLDM energy per nucleon E(A, Z)/A in MeV, no rest mass (Grams et al. 2025 Eq. 27
    divided by A, bulk at n0(I); physics_reference.md 5.7). B/A = -E/A.

    Vectorised over nuclei (trailing axis), bulk sets and surface sets (module docstring).
    """
    return vacuum_bulk_terms(params, Z, A).energy_per_nucleon(surface)


def vacuum_nuclear_mass(Z, A, params: EmpiricalParameters, surface: SurfaceParameters) -> np.ndarray:
    """Nuclear rest energy M(A, Z) c^2 = Z m_p c^2 + (A - Z) m_n c^2 + A E/A in MeV (Grams et al.
    2025 Eq. 27; CODATA 2018 nucleon masses). Bare nucleus, no electrons: compare with
    :func:`crustuq.models.tables.mass_tables.atomic_to_nuclear_mass` of an atomic table."""
    return vacuum_bulk_terms(params, Z, A).nuclear_mass(surface)
