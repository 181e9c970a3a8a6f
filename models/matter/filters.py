"""Low-density (chiral-EFT) filter on meta-model parameter sets.

The filter of Carreau, Gulminelli & Margueron, EPJA 55, 188 (2019) as coded in NSEoS
(``bayes.c``, ``get_low_density_posterior``), restated in physics_reference.md section 3.3:
at n = 0.02, 0.04, ..., 0.20 fm^-3 a parameter set is kept iff its T = 0 energies per nucleon
satisfy

    E_SNM in [1.05 e_SM,min, 0.95 e_SM,max]   and   E_PNM in [0.95 e_NM,min, 1.05 e_NM,max]

with the band edges below (MeV; the chiral-EFT band of Drischler, Hebeler & Schwenk,
PRC 93, 054314 (2016)). The 5 % widening reproduces the published filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustuq.models.matter.metamodel import MetaModel
from crustuq.models.matter.parameters import EmpiricalParameters

#: n [fm^-3], e_SM,min, e_SM,max, e_NM,min, e_NM,max [MeV] (physics_reference.md 3.3)
CHIRAL_EFT_BAND = np.array([
    [0.02, -4.4921, -3.8713, 4.2123, 4.3001],
    [0.04, -7.6542, -6.9232, 6.0424, 6.2685],
    [0.06, -10.1682, -9.2607, 7.4706, 7.9385],
    [0.08, -12.1990, -11.0292, 8.8545, 9.6124],
    [0.10, -13.8226, -12.3161, 10.3097, 11.3935],
    [0.12, -15.0815, -13.0155, 11.8712, 13.3080],
    [0.14, -16.0017, -13.2269, 13.5397, 15.3503],
    [0.16, -16.6000, -13.0000, 15.2000, 17.5000],
    [0.18, -16.8879, -12.3471, 16.8821, 19.7299],
    [0.20, -16.8733, -11.2774, 18.5931, 22.0096],
])


@dataclass(frozen=True)
class FilterResult:
    """Per-sample outcome: ``passed`` (bool array), ``reason`` (str array, '' if passed) and
    ``code`` (int16: 0 passed, 100 + k for SNM and 200 + k for PNM failing first at the k-th
    density of :data:`CHIRAL_EFT_BAND`)."""

    passed: np.ndarray
    reason: np.ndarray
    code: np.ndarray


def low_density_filter(params: EmpiricalParameters, *, order: int = 4) -> FilterResult:
    """Apply the chiral-EFT low-density filter to a parameter set or batch.

    Returns the pass/fail of every sample with the first violated condition as the reason,
    e.g. ``"PNM E/A=3.95 MeV at n=0.02 fm^-3 outside [4.002, 4.515]"``.
    """
    mm = MetaModel.from_parameters(params, order=order)
    batch = params.batch_shape
    n = CHIRAL_EFT_BAND[:, 0].reshape((-1,) + (1,) * len(batch))
    e_snm = mm.energy_per_nucleon(n, np.zeros_like(n))
    e_pnm = mm.energy_per_nucleon(n, np.ones_like(n))
    e_snm, e_pnm = np.broadcast_arrays(e_snm, e_pnm)
    lo_s = 1.05 * CHIRAL_EFT_BAND[:, 1]
    hi_s = 0.95 * CHIRAL_EFT_BAND[:, 2]
    lo_n = 0.95 * CHIRAL_EFT_BAND[:, 3]
    hi_n = 1.05 * CHIRAL_EFT_BAND[:, 4]
    passed = np.ones(batch, dtype=bool)
    reason = np.full(batch, "", dtype=object)
    code = np.zeros(batch, dtype=np.int16)
    for i, dens in enumerate(CHIRAL_EFT_BAND[:, 0]):
        for label, base, val, lo, hi in (("SNM", 100, e_snm[i], lo_s[i], hi_s[i]),
                                         ("PNM", 200, e_pnm[i], lo_n[i], hi_n[i])):
            val = np.broadcast_to(val, batch)
            bad = passed & ~((val >= lo) & (val <= hi))
            if np.any(bad):
                for idx in zip(*np.nonzero(np.atleast_1d(bad))) if batch else [()]:
                    v = float(val[idx])
                    reason[idx] = (f"{label} E/A={v:.4g} MeV at n={dens:.2f} fm^-3 outside "
                                   f"[{lo:.4g}, {hi:.4g}]")
                code = np.where(bad, base + i, code).astype(np.int16)
                passed = passed & ~bad
    return FilterResult(passed=passed, reason=reason, code=code)


__all__ = ["low_density_filter", "FilterResult", "CHIRAL_EFT_BAND"]
