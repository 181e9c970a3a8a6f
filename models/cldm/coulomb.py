"""Coulomb energy of a spherical cluster in its Wigner-Seitz cell (Ravenhall finite-size form).

Grams et al., Universe (2025) Eq. (21); physics_reference.md 5.4 (d = 3):

    f_C = (2 pi / 5) e^2 (n_i y_p r_N)^2 u [u + 2 (1 - (3/2) u^{1/3})]        [MeV fm^-3]

i.e. F_C = V_WS f_C = (3/5) (Z^2 e^2 / r_N) [1 - (3/2) u^{1/3} + u/2] per cell, with the uniform
electron background of the cell (the -(9/10) Z^2 e^2 / r_WS piece is the Wigner-Seitz lattice
energy). n_i: cluster density (fm^-3), y_p: cluster proton fraction, r_N: cluster radius (fm),
u: volume fraction.
"""

from __future__ import annotations

import numpy as np

from crustuq.models.constants import E2

_K = 2.0 * np.pi * E2 / 5.0


def eta3(u):
    """eta(u) = u + 2 - 3 u^{1/3} and its derivative (spheres)."""
    c = np.cbrt(u)
    return u + 2.0 - 3.0 * c, 1.0 - 1.0 / (c * c)


def coulomb_prefactor(n_i, y_p, r_N):
    """a = (2 pi/5) e^2 (n_i y_p r_N)^2 so that f_C = a u eta(u) (MeV fm^-3)."""
    return _K * (n_i * y_p * r_N) ** 2


def coulomb_energy_density(n_i, y_p, r_N, u):
    """f_C and its partial derivatives (d/dr_N, d/dn_i, d/dy_p, d/du), MeV fm^-3 (per unit)."""
    e, de = eta3(u)
    a = _K * (n_i * y_p * r_N) ** 2
    f = a * u * e
    return f, 2.0 * f / r_N, 2.0 * f / n_i, 2.0 * f / y_p, a * (e + u * de)


def coulomb_energy_per_cell(Z, r_N, u):
    """F_C = (3/5)(Z^2 e^2 / r_N)[1 - (3/2) u^{1/3} + u/2] in MeV (same physics per cell)."""
    return 0.6 * Z * Z * E2 / r_N * (1.0 - 1.5 * np.cbrt(u) + 0.5 * u)
