"""Coulomb lattice of point nuclei in a uniform electron gas (body-centred cubic, one component).

Ions of charge Z e, number density n_N, neutralised by electrons n_e = Z n_N. Ion-sphere
(Wigner-Seitz) radius a_N = (3 / (4 pi n_N))^{1/3}. The electrostatic (Madelung) energy of a
bcc lattice of point charges in a uniform background is, per nucleus,

    E_L = -C_M Z^2 e^2 / a_N                                                     (1)
        = -C Z^{5/3} e^2 n_e^{1/3},      C = C_M (4 pi / 3)^{1/3} = 1.444231     (2)

with C_M = 0.895929255682 the bcc Madelung constant (``constants.MADELUNG_BCC``). Per unit
volume

    eps_L = n_N E_L = -C e^2 Z^{2/3} n_e^{4/3}          [MeV fm^-3]              (3)

and, since eps_L ~ n^{4/3} at fixed composition, the lattice pressure is
P_L = n^2 d(eps_L/n)/dn = eps_L / 3 (4).

References: G. Baym, C. Pethick, P. Sutherland, ApJ 170, 299 (1971) (lattice term of the
outer crust); N. Chamel & A.F. Fantina, Phys. Rev. D 93, 063001 (2016), who write (2)-(4) with
the structure constant C = -1.444231 for bcc (our C carries the opposite sign convention:
C > 0, explicit minus signs above). Units: e^2 = alpha hbar c in MeV fm (``constants.E2``).
"""

from __future__ import annotations

import math

import numpy as np

from crustuq.models.constants import E2, MADELUNG_BCC

__all__ = [
    "LATTICE_C",
    "ion_sphere_radius",
    "lattice_energy_per_nucleus",
    "lattice_energy_density",
    "lattice_pressure",
]

#: C = C_M (4 pi/3)^{1/3} of Eq. (2) (dimensionless, = 1.444231 for bcc)
LATTICE_C = MADELUNG_BCC * (4.0 * math.pi / 3.0) ** (1.0 / 3.0)


def ion_sphere_radius(n_N):
    """Ion-sphere radius a_N = (3 / (4 pi n_N))^{1/3} in fm from the nucleus density n_N (fm^-3)."""
    n_N = np.asarray(n_N, dtype=np.float64)
    return np.cbrt(3.0 / (4.0 * math.pi * n_N))


def lattice_energy_per_nucleus(Z, n_e):
    """bcc lattice energy per nucleus E_L = -C Z^{5/3} e^2 n_e^{1/3} (MeV), Eq. (2).

    Z: charge number (may be non-integer); n_e: electron density (fm^-3). Vectorised.
    Equals -C_M Z^2 e^2 / a_N with a_N the ion-sphere radius at n_N = n_e / Z.
    """
    Z = np.asarray(Z, dtype=np.float64)
    n_e = np.asarray(n_e, dtype=np.float64)
    return -LATTICE_C * E2 * Z ** (5.0 / 3.0) * np.cbrt(n_e)


def lattice_energy_density(Z, n_e):
    """bcc lattice energy density eps_L = -C e^2 Z^{2/3} n_e^{4/3} (MeV fm^-3), Eq. (3)."""
    Z = np.asarray(Z, dtype=np.float64)
    n_e = np.asarray(n_e, dtype=np.float64)
    return -LATTICE_C * E2 * Z ** (2.0 / 3.0) * n_e * np.cbrt(n_e)


def lattice_pressure(Z, n_e):
    """bcc lattice pressure P_L = eps_L / 3 (MeV fm^-3), Eq. (4) (negative)."""
    return lattice_energy_density(Z, n_e) / 3.0
