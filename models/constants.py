"""Physical constants (CODATA 2018) and unit conversions used throughout crustuq.

Units: energies in MeV, lengths in fm, densities in fm^-3, temperature in MeV (k_B = 1).
Source: ../shared/docs/physics_reference.md section 0 (CODATA 2018).
"""

from __future__ import annotations

import math

#: hbar c in MeV fm (CODATA 2018)
HBARC = 197.3269804
#: neutron rest energy m_n c^2 in MeV
M_N = 939.56542052
#: proton rest energy m_p c^2 in MeV
M_P = 938.27208816
#: electron rest energy m_e c^2 in MeV
M_E = 0.51099895000
#: atomic mass unit m_u c^2 in MeV
M_U = 931.49410242
#: fine-structure constant
ALPHA_EM = 1.0 / 137.035999084
#: e^2 = alpha hbar c in MeV fm
E2 = ALPHA_EM * HBARC
#: hydrogen-atom binding energy (MeV); enters atomic vs nuclear masses
RYDBERG_H = 13.6057e-6

#: 1 MeV fm^-3 in dyn cm^-2 (= erg cm^-3)
MEV_FM3_TO_DYN_CM2 = 1.602176634e33
#: 1 MeV fm^-3 / c^2 in g cm^-3
MEV_FM3_TO_G_CM3 = 1.602176634e33 / 2.99792458e10**2
#: fm^-3 -> cm^-3
FM3_TO_CM3 = 1.0e39

#: bcc Madelung constant C_M for the lattice energy -C_M Z^2 e^2 / a_N (a_N ion-sphere radius)
MADELUNG_BCC = 0.895929255682

PI = math.pi
PI2 = math.pi**2
