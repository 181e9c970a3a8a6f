"""The whole crust, surface to core, for a batch of parameter samples and temperatures.

Layers along the baryon-density grid (per sample and temperature):

* **outer** (n_B <= n_drip): nuclides of the T = 0 ground-state sequence of a mass table
  (:mod:`.outer`; "cold nuclei in a hot electron gas" at T > 0);
* **inner** (n_drip < n_B <= n_t): the finite-T CLDM in beta equilibrium (:mod:`.inner`);
* **core** (n_B > n_t): homogeneous npe matter in beta equilibrium (:mod:`.homogeneous`), with
  n_t the crust-core transition found at equal pressure and chemical potential
  (:mod:`.transition`).

Outputs per point (arrays of shape (n_samples, n_T, n_B)): see :data:`OUTPUTS` and
:data:`OUTPUT_UNITS`; plus ``status`` (:mod:`.status`), ``residual`` (MeV) and ``layer``.
Quantities that do not exist in homogeneous matter (Z, A_cl, A_cell, I, n_cl, r_N, r_WS, u) are
NaN in the core layer -- the layer and status codes say why; every other point carries
numbers, including failed ones (their last iterate, with status and residual).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.crust import status as st
from crustuq.models.crust.cldm_cell import CellOptions
from crustuq.models.crust.homogeneous import beta_equilibrium
from crustuq.models.crust.cldm_outer import cldm_outer_crusts, is_cldm_spec
from crustuq.models.crust.inner import N_B_MIN_INNER, OUTPUT_UNITS, OUTPUTS, cell_model, solve_ladder, solve_on_grid
from crustuq.models.crust.outer import DEFAULT_MASS_TABLE, OuterCrust, outer_crust, outer_crust_state
from crustuq.models.crust.transition import (
    HomogeneousBranch,
    merge_brackets,
    refine_transition,
    transition_bracket,
)
from crustuq.models.matter.parameters import EmpiricalParameters

#: density domain of the crust model (fm^-3): from the 56Fe surface layer to beyond the core edge
N_B_MIN = 1e-12
N_B_MAX = 0.2
#: temperature domain (MeV); above ~15 MeV no cluster survives and matter is homogeneous
T_MAX = 50.0

_HOMOGENEOUS_NAN = ("Z", "A_cl", "A_cell", "I", "n_cl", "r_N", "r_WS", "u")


@dataclass(frozen=True)
class CrustOptions:
    """Model choices: the outer-crust mass table (spec string or MassTable-like; ``"CLDM"`` for
    the vacuum CLDM masses of each sample), the CLDM cell options and the integer-Z option (Z rounded to the better of the two neighbouring integers
    with the rest of the cell re-minimised)."""

    mass_table: object = DEFAULT_MASS_TABLE
    cell: CellOptions = CellOptions()
    integer_Z: bool = False
    order: int = 4


@dataclass
class CrustResult:
    n_B: np.ndarray                 # (N,)
    T: np.ndarray                   # (nT,)
    values: dict                    # name -> (S, nT, N)
    status: np.ndarray              # (S, nT, N) int8
    residual: np.ndarray            # (S, nT, N) MeV
    layer: np.ndarray               # (S, nT, N) int8
    n_t: np.ndarray                 # (S, nT) crust-core transition density (crust side)
    P_t: np.ndarray                 # (S, nT)
    n_core: np.ndarray              # (S, nT) core-side density at P_t
    n_drip: np.ndarray = None     # (S,) neutron-drip density of each sample's outer crust
    P_drip: np.ndarray = None     # (S,)
    extra: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.values[key]


def validate_crust_grid(n_B, T) -> tuple[np.ndarray, np.ndarray]:
    """One-line errors for densities/temperatures outside the model's domain."""
    n_B = np.atleast_1d(np.asarray(n_B, dtype=float))
    T = np.atleast_1d(np.asarray(T, dtype=float))
    if n_B.ndim != 1 or n_B.size == 0:
        raise ValueError("n_B: need a non-empty 1-D grid of densities")
    bad = ~np.isfinite(n_B) | (n_B < N_B_MIN) | (n_B > N_B_MAX)
    if np.any(bad):
        raise ValueError(f"n_B={n_B[bad][0]:g} fm^-3: the crust model covers {N_B_MIN:g} <= n_B <= {N_B_MAX:g} fm^-3")
    if np.any(np.diff(n_B) <= 0):
        raise ValueError("n_B: densities must be strictly increasing")
    bad = ~np.isfinite(T) | (T < 0) | (T > T_MAX)
    if np.any(bad):
        raise ValueError(f"T={T[bad][0]:g} MeV: temperatures must lie in [0, {T_MAX:g}] MeV")
    if T.size == 0:
        raise ValueError("T: need at least one temperature")
    return n_B, T


def solve_crust(n_B, T, params: EmpiricalParameters, surface: SurfaceParameters,
                options: CrustOptions = CrustOptions(), *, outer: OuterCrust | None = None) -> CrustResult:
    """Solve the crust on the density grid ``n_B`` (fm^-3, increasing) at every temperature of
    ``T`` (MeV) for every sample of ``params`` (batch shape (S,) or ()) with ``surface``
    (one set, or batch (S,)). Never raises for a single bad point: see the status codes.

    The outer crust comes from ``options.mass_table`` (shared by all samples) or, with the spec
    ``"CLDM"``, from each sample's own vacuum CLDM masses; ``outer`` overrides both."""
    n_B, T = validate_crust_grid(n_B, T)
    if params.batch_shape == ():
        params = EmpiricalParameters.from_array(params.to_array()[None, :], name=params.name)
    S = params.batch_shape[0]
    if surface.batch_shape not in ((), (S,)):
        raise ValueError(f"surface: batch shape {surface.batch_shape} does not match the {S} bulk samples")
    # outer crusts: one shared mass table, or the CLDM vacuum masses of each sample
    if outer is not None:
        outers = [outer] * S
    elif is_cldm_spec(options.mass_table):
        outers = cldm_outer_crusts(params, surface)
    else:
        outers = [outer_crust(options.mass_table)] * S
    n_drip = np.array([float(o.n_B_end) if o is not None else np.nan for o in outers])
    P_drip = np.array([float(o.drip.P) if (o is not None and o.drip is not None) else np.nan for o in outers])
    model = cell_model(params, surface, options.cell, order=options.order)

    nT, N = T.size, n_B.size
    shape = (S, nT, N)
    res = CrustResult(
        n_B=n_B, T=T, values={k: np.full(shape, np.nan) for k in OUTPUTS},
        status=np.full(shape, st.NOT_CONVERGED, dtype=np.int8), residual=np.full(shape, np.nan),
        layer=np.full(shape, st.LAYER_INNER, dtype=np.int8), n_t=np.full((S, nT), np.nan),
        P_t=np.full((S, nT), np.nan), n_core=np.full((S, nT), np.nan), n_drip=n_drip, P_drip=P_drip)
    # the inner-crust grid starts above the lowest drip density of the samples; each sample's
    # points below its own drip density are then overwritten by its outer crust
    lowest_drip = np.nanmin(n_drip) if np.any(np.isfinite(n_drip)) else N_B_MIN
    inner_idx = np.nonzero(n_B > lowest_drip)[0]
    for it, temp in enumerate(T):
        if inner_idx.size:
            _inner_and_core(res, it, float(temp), inner_idx, model, options)
        _outer(res, it, float(temp), outers)
    return res


def _outer(res: CrustResult, it: int, temp: float, outers) -> None:
    """Outer-crust points of every sample (grouped by shared outer crust)."""
    groups: dict[int, list[int]] = {}
    for s, o in enumerate(outers):
        groups.setdefault(id(o), []).append(s)
    for ids in groups.values():
        oc = outers[ids[0]]
        rows = np.array(ids)
        if oc is None:  # no vacuum CLDM solution for these samples: their outer crust is invalid
            mask = res.n_B <= N_B_MIN_INNER
            sel = np.ix_(rows, [it], np.nonzero(mask)[0])
            for k in OUTPUTS:
                res.values[k][sel] = np.nan
            res.status[sel] = st.INVALID
            res.layer[sel] = st.LAYER_OUTER
            continue
        mask = res.n_B <= oc.n_B_end
        if not np.any(mask):
            continue
        cols = np.nonzero(mask)[0]
        sel = np.ix_(rows, [it], cols)
        os_ = outer_crust_state(res.n_B[mask], temp, oc)
        for k, v in (("Z", os_.Z), ("A_cl", os_.A), ("A_cell", os_.A), ("Y_e", os_.Y_e),
                     ("r_WS", os_.r_WS), ("P", os_.P), ("F_per_A", os_.F_per_A), ("mu_n", os_.mu_n),
                     ("mu_e", os_.mu_e), ("S_per_A", os_.S_per_A)):
            res.values[k][sel] = np.asarray(v, dtype=float)
        res.values["I"][sel] = 1.0 - 2.0 * np.asarray(os_.Y_e, dtype=float)
        res.values["n_g"][sel] = 0.0
        res.values["u"][sel] = 0.0   # point nuclei on a lattice: no gas, u -> 0
        res.values["n_cl"][sel] = np.nan
        res.values["r_N"][sel] = np.nan
        ost = np.where(os_.status == 0, st.CONVERGED,
                       np.where(os_.status & 4, st.UNSTABLE, st.NOT_CONVERGED)).astype(np.int8)
        res.status[sel] = ost
        res.residual[sel] = 0.0
        res.layer[sel] = st.LAYER_OUTER


def _inner_and_core(res: CrustResult, it: int, temp: float, inner_idx, model, options: CrustOptions) -> None:
    """Inner crust (CLDM) and core points of every sample at one temperature."""
    pos = options.cell.positrons
    values, status, residual, layer = res.values, res.status, res.residual, res.layer
    # continuation ladder; transition bracketed on the ladder; the grid solved up to the
    # bracket's top; bracket tightened on the grid and refined
    nb_in = res.n_B[inner_idx]
    ladder = solve_ladder(temp, model, nb_in[-1], n_bottom=nb_in[0])
    branch = HomogeneousBranch.compute(model.mm, temp, positrons=pos)
    lb = transition_bracket(ladder, model, branch, positrons=pos)
    ladder_ok = np.any(ladder.status == st.CONVERGED, axis=1)
    # grid points needed: up to the top of the ladder bracket; none for a sample whose clusters
    # are never stable; all for a sample whose ladder failed (failures are data)
    n_max = np.where(lb.found, lb.n_hi, np.where(ladder_ok & ~lb.stable_any, -np.inf, np.inf))
    inner = solve_on_grid(nb_in, temp, model, ladder, n_max=n_max)
    gb = transition_bracket(inner, model, branch, positrons=pos, walk=False)
    tr = refine_transition(merge_brackets(gb, lb), temp, model, branch, positrons=pos)
    res.n_t[:, it], res.P_t[:, it], res.n_core[:, it] = tr.n_t, tr.P_t, tr.n_core
    if options.integer_Z:
        from crustuq.models.crust.integer_z import integer_z_inner_crust

        inner = integer_z_inner_crust(inner, model)
    for k in OUTPUTS:
        values[k][:, it, inner_idx] = inner[k]
    status[:, it, inner_idx] = inner.status
    residual[:, it, inner_idx] = inner.residual
    # core: beyond the transition; or where no clusterised solution exists (the cell left the
    # clusterised domain), or none is stable against homogeneous matter at any density. A cell
    # that merely failed to converge keeps its NOT_CONVERGED status.
    has_t = np.isfinite(tr.n_t)
    beyond = has_t[:, None] & (nb_in[None, :] > np.where(has_t, tr.n_t, np.inf)[:, None])
    never_stable = (~has_t & ladder_ok)[:, None]
    no_cluster = (never_stable | (inner.status == st.NO_CLUSTER)) & ~beyond
    core = beyond | no_cluster
    if not np.any(core):
        return
    rows, cols = np.nonzero(core)
    hom = beta_equilibrium(nb_in[cols], temp, model.mm.take(rows), positrons=pos)
    j = inner_idx[cols]
    values["P"][rows, it, j] = hom.P
    values["F_per_A"][rows, it, j] = hom.F_per_A
    values["mu_n"][rows, it, j] = hom.mu_n
    values["mu_e"][rows, it, j] = hom.mu_e
    values["S_per_A"][rows, it, j] = hom.S_per_A
    values["Y_e"][rows, it, j] = hom.y_p
    values["n_g"][rows, it, j] = hom.n_B * (1.0 - hom.y_p)   # all neutrons are "free"
    for k in _HOMOGENEOUS_NAN:
        values[k][rows, it, j] = np.nan
    code = np.where(beyond[rows, cols], st.BEYOND_TRANSITION, st.NO_CLUSTER)
    status[rows, it, j] = np.where(hom.status == st.CONVERGED, code, st.NOT_CONVERGED)
    residual[rows, it, j] = hom.residual
    layer[rows, it, j] = st.LAYER_CORE


__all__ = ["solve_crust", "CrustResult", "CrustOptions", "validate_crust_grid", "OUTPUTS",
           "OUTPUT_UNITS", "N_B_MIN", "N_B_MAX", "T_MAX"]
