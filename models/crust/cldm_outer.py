"""Outer crust from the CLDM vacuum masses of the same bulk and surface parameters as the inner
crust, so that a sampled model is consistent from the surface to the core.

For each sample, nuclear masses M(A, Z) of the vacuum CLDM (Grams et al. 2025 Eq. 27;
:mod:`crustuq.models.cldm.vacuum_mass`) on a nuclide grid covering the outer crust
(Z = 20..60, N = Z..3Z) form a mass table, and the outer crust is computed from it exactly as
from a measured table (:func:`crustuq.models.crust.outer.outer_crust`). Selected with the mass
table spec ``"CLDM"``.
"""

from __future__ import annotations

import numpy as np

from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.cldm.vacuum_mass import vacuum_bulk_terms
from crustuq.models.crust.outer import OuterCrust, nuclear_mass_table, outer_crust
from crustuq.models.matter.parameters import EmpiricalParameters

#: the mass-table spec selecting CLDM vacuum masses
CLDM_TABLE = "CLDM"
Z_RANGE = (20, 60)


def is_cldm_spec(table) -> bool:
    return isinstance(table, str) and table.strip().upper() == CLDM_TABLE


def nuclide_grid() -> tuple[np.ndarray, np.ndarray]:
    Z, N = np.meshgrid(np.arange(Z_RANGE[0], Z_RANGE[1] + 1), np.arange(Z_RANGE[0], 3 * Z_RANGE[1] + 1), indexing="ij")
    keep = (N >= Z) & (N <= 3 * Z)
    return Z[keep], N[keep]


def cldm_outer_crusts(params: EmpiricalParameters, surface: SurfaceParameters) -> list[OuterCrust | None]:
    """One outer crust per sample (None where the sample has no vacuum CLDM solution)."""
    Z, N = nuclide_grid()
    S = params.batch_shape[0]
    terms = vacuum_bulk_terms(params, Z.astype(float), (Z + N).astype(float))
    sp = surface if surface.batch_shape == (S,) else SurfaceParameters.from_array(
        np.broadcast_to(surface.to_array(), (S, 5)))
    M = terms.nuclear_mass(sp)
    out = []
    for s in range(S):
        if not bool(np.asarray(terms.valid)[s]):
            out.append(None)
            continue
        table = nuclear_mass_table(Z, N, M[s], name=f"CLDM vacuum masses (sample {s})")
        oc = outer_crust(table)
        out.append(oc if oc.layers else None)
    return out
