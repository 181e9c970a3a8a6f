"""Analytical fit of the BSk24 unified equation of state of Pearson et al. (2018), used as a
published reference in the crust tests.

J.M. Pearson, N. Chamel, A.Y. Potekhin, A.F. Fantina, C. Ducoin, A.K. Dutta, S. Goriely,
MNRAS 481, 2994 (2018), Appendix C: Eq. (C1) for the energy per nucleon e(n) (Table C1) and
Eq. (C4) for the pressure as a function of the mass-energy density (Table C2), the functional
form of Potekhin et al., A&A 560, A48 (2013), Eq. (3). Coefficients for BSk24 as published.
"""

from __future__ import annotations

import numpy as np

from crustuq.models.constants import M_N, MEV_FM3_TO_G_CM3

#: Table C1 (BSk24): e(n) fit, Eq. (C1)
C1 = dict(p1=6.59e8, p2=9.49e10, p3=6.95e7, p4=5.63e6, p5=6.51e5, p6=19.37, p7=0.1028, p8=4.09,
          p9=6726.0, p10=29.57, p11=2.6728, p12=19.51, p13=4.39, p14=1.75)
#: Table C2 (BSk24): zeta(xi) fit, Eq. (C4); xi = log10(rho / g cm^-3), zeta = log10(P / dyn cm^-2)
C2 = (6.795, 5.552, 0.00435, 0.13963, 3.636, 11.943, 13.848, 1.3031, 3.644, -30.840, 2.2322,
      4.65, 14.290, 30.08, -2.080, 1.10, 14.71, 0.099, 11.66, 5.00, -0.095, 14.15, 9.1)
#: e at zero pressure (56Fe), MeV (Eq. C1)
E_GROUND = -9.1536


def energy_per_nucleon(n):
    """e(n) in MeV (Eq. C1), n in fm^-3."""
    p = C1
    n = np.asarray(n, dtype=float)
    w1 = 1.0 / (1.0 + p["p9"] * n)
    w2 = 1.0 / (1.0 + (p["p13"] * n) ** p["p14"])
    low = ((p["p1"] * n) ** (7.0 / 6.0) * (1.0 + np.sqrt(p["p4"] * n)) * w1
           / ((1.0 + np.sqrt(p["p2"] * n)) * (1.0 + np.sqrt(p["p3"] * n)) * (1.0 + np.sqrt(p["p5"] * n))))
    mid = p["p6"] * n ** p["p7"] * (1.0 + p["p8"] * n) * (1.0 - w1) * w2
    high = (p["p10"] * n) ** p["p11"] * (1.0 - w2) / (1.0 + p["p12"] * n)
    return E_GROUND + low + mid + high


def pressure(n):
    """P(n) in MeV fm^-3 from Eq. (C4) with rho = n (e(n) + m_n c^2)/c^2."""
    n = np.asarray(n, dtype=float)
    rho = n * (energy_per_nucleon(n) + M_N) * MEV_FM3_TO_G_CM3
    xi = np.log10(rho)
    p = (None,) + C2
    zeta = ((p[1] + p[2] * xi + p[3] * xi**3) / (1.0 + p[4] * xi) / (np.exp(p[5] * (xi - p[6])) + 1.0)
            + (p[7] + p[8] * xi) / (np.exp(p[9] * (p[6] - xi)) + 1.0)
            + (p[10] + p[11] * xi) / (np.exp(p[12] * (p[13] - xi)) + 1.0)
            + (p[14] + p[15] * xi) / (np.exp(p[16] * (p[17] - xi)) + 1.0)
            + p[18] / (1.0 + (p[20] * (xi - p[19])) ** 2)
            + p[21] / (1.0 + (p[23] * (xi - p[22])) ** 2))
    return 10.0 ** (zeta - np.log10(1.602176634e33))
