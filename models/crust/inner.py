"""Batch solver of the CLDM inner crust: a grid of baryon densities x a batch of parameter samples
at one temperature, vectorised in numpy.

Strategy (all samples at once):
1. a short continuation ladder of densities spanning the requested grid, each rung solved
   with a warm start extrapolated from the previous rungs (the "warm starts along the density
   grid"): this carries every sample from a generic dilute-cluster starting point to its own
   solution;
2. every grid point then starts from the ladder solution interpolated in ln n_B and all
   points are solved together by the Newton method of :mod:`.inner_solver`;
3. points that still fail are retried from their converged neighbours along the grid.

Each point returns its status (:mod:`.status`) and final residual; no point raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.crust.cldm_cell import CellModel, CellOptions, evaluate_cell
from crustuq.models.crust.inner_solver import solve_cells
from crustuq.models.crust.status import CONVERGED, NOT_CONVERGED
from crustuq.models.matter.metamodel import MetaModel
from crustuq.models.matter.parameters import EmpiricalParameters

#: per-point outputs of the inner crust (units in OUTPUT_UNITS)
OUTPUTS = ("Z", "A_cl", "A_cell", "I", "n_cl", "n_g", "r_N", "r_WS", "u", "Y_e", "P",
           "F_per_A", "mu_n", "mu_e", "S_per_A")
OUTPUT_UNITS = {
    "Z": "1", "A_cl": "1", "A_cell": "1", "I": "1", "n_cl": "fm^-3", "n_g": "fm^-3",
    "r_N": "fm", "r_WS": "fm", "u": "1", "Y_e": "1", "P": "MeV fm^-3",
    "F_per_A": "MeV (neutron rest mass subtracted)", "mu_n": "MeV (rest mass included)",
    "mu_e": "MeV (rest mass included)", "S_per_A": "k_B per nucleon",
}

#: smallest density the CLDM inner crust is solved at (below: outer crust); n_drip ~ 2.6e-4
N_B_MIN_INNER = 1.0e-4
#: generic starting point at low density: a neutron-rich nucleus (A ~ 120) in a dilute gas
_GENERIC_START = dict(r_N=6.3, I=0.32, n_i=0.145, gas_fraction=0.02)


@dataclass
class InnerCrustResult:
    """Arrays of shape (n_samples, n_densities) for one temperature."""

    n_B: np.ndarray
    T: float
    values: dict = field(default_factory=dict)   # OUTPUTS + "mu_p" (cell proton chemical potential)
    status: np.ndarray = None
    residual: np.ndarray = None
    x: np.ndarray = None                         # internal variables (S, N, 4)

    def __getitem__(self, key):
        return self.values[key]


def cell_model(params: EmpiricalParameters, surface: SurfaceParameters, options: CellOptions,
               order: int = 4) -> CellModel:
    """A CellModel for a 1-D batch of samples (surface may be a single set: it is broadcast)."""
    mm = MetaModel.from_parameters(params, order=order)
    S = params.batch_shape[0] if params.batch_shape else 1
    if not params.batch_shape:
        mm = mm.take(np.zeros(1, dtype=int)) if mm.batch_shape else _expand0(mm)
    if surface.batch_shape == ():
        surface = SurfaceParameters.from_array(np.broadcast_to(surface.to_array(), (S, 5)), name=surface.name)
    K = np.broadcast_to(params.K_sat, (S,))
    return CellModel(mm, surface, np.asarray(K, dtype=float), options)


def _expand0(mm: MetaModel) -> MetaModel:
    return MetaModel(n_sat=np.atleast_1d(mm.n_sat), b=np.atleast_1d(mm.b),
                     kappa_sat=np.atleast_1d(mm.kappa_sat), kappa_sym=np.atleast_1d(mm.kappa_sym),
                     t_fg_sat=np.atleast_1d(mm.t_fg_sat), v_is=mm.v_is[:, None], v_iv=mm.v_iv[:, None],
                     order=mm.order, variant=mm.variant)


def generic_start(n_B: np.ndarray) -> np.ndarray:
    """A generic starting point (dilute-cluster regime) for the first rung of the ladder."""
    n_B = np.asarray(n_B, dtype=float)
    g = _GENERIC_START
    x = np.empty(n_B.shape + (4,))
    x[..., 0] = np.log(g["r_N"])
    x[..., 1] = g["I"]
    x[..., 2] = np.log(g["n_i"])
    x[..., 3] = np.log(g["gas_fraction"] * n_B)
    return x


def solve_inner_crust(n_B, T: float, model: CellModel, *, ladder: int = 14,
                      x_start: np.ndarray | None = None) -> InnerCrustResult:
    """Solve the inner crust on the density grid ``n_B`` (1-D, increasing, fm^-3) at
    temperature ``T`` (MeV) for every sample of ``model`` (batch shape (S,)).

    ``x_start`` (S, 4) optionally gives a starting point at the lowest density (e.g. the
    solution at another temperature)."""
    n_B = np.asarray(n_B, dtype=float)
    if n_B.ndim != 1 or np.any(np.diff(n_B) <= 0):
        raise ValueError("n_B: the inner-crust grid must be a 1-D increasing array of densities (fm^-3)")
    S = model.K_sat.shape[0]
    Nn = n_B.size
    # --- 1. continuation ladder (log-spaced, from the lowest grid density)
    lad = np.geomspace(n_B[0], n_B[-1], max(ladder, 2)) if Nn > 1 else n_B.copy()
    xl = np.empty((S, lad.size, 4))
    okl = np.zeros((S, lad.size), dtype=bool)
    x_prev = generic_start(np.full(S, lad[0])) if x_start is None else np.asarray(x_start, dtype=float)
    for k, nb in enumerate(lad):
        if k >= 2:
            # linear extrapolation in ln n_B from the last two rungs (where both converged)
            w = (np.log(nb) - np.log(lad[k - 1])) / (np.log(lad[k - 1]) - np.log(lad[k - 2]))
            guess = xl[:, k - 1] + w * (xl[:, k - 1] - xl[:, k - 2])
            guess = np.where((okl[:, k - 1] & okl[:, k - 2])[:, None], guess, x_prev)
        elif k == 1:
            guess = x_prev.copy()
            guess[:, 3] += np.log(nb / lad[0])  # gas density roughly follows n_B
        else:
            guess = x_prev
        res = solve_cells(np.full(S, nb), np.full(S, T), model, guess)
        xl[:, k] = res.x
        okl[:, k] = res.status == CONVERGED
        x_prev = np.where(okl[:, k][:, None], res.x, x_prev)
    # --- 2. all grid points from the interpolated ladder
    x0 = np.empty((S, Nn, 4))
    ln_l, ln_g = np.log(lad), np.log(n_B)
    for s in range(S):
        good = okl[s]
        if good.sum() >= 2:
            for j in range(4):
                x0[s, :, j] = np.interp(ln_g, ln_l[good], xl[s, good, j])
        elif good.sum() == 1:
            x0[s] = xl[s, good][0]
        else:
            x0[s] = generic_start(n_B)
    flat_model = model.take(np.repeat(np.arange(S), Nn))
    nb_flat = np.tile(n_B, S)
    res = solve_cells(nb_flat, np.full(S * Nn, T), flat_model, x0.reshape(-1, 4))
    x = res.x.reshape(S, Nn, 4)
    status = res.status.reshape(S, Nn).copy()
    resid = res.residual.reshape(S, Nn).copy()
    # --- 3. retry failures from converged neighbours (sequential along the grid, vectorised over samples)
    for _sweep in range(2):
        failed = status != CONVERGED
        if not np.any(failed):
            break
        for j in range(Nn):
            rows = np.nonzero(failed[:, j])[0]
            if rows.size == 0:
                continue
            # nearest converged neighbour below, else above
            guess = np.empty((rows.size, 4))
            have = np.zeros(rows.size, dtype=bool)
            for direction in (-1, 1):
                jj = j + direction
                while 0 <= jj < Nn and not np.all(have):
                    ok = (status[rows, jj] == CONVERGED) & ~have
                    guess[ok] = x[rows[ok], jj]
                    have |= ok
                    jj += direction
            if not np.any(have):
                continue
            r = rows[have]
            sub = model.take(r)
            rr = solve_cells(np.full(r.size, n_B[j]), np.full(r.size, T), sub, guess[have])
            better = rr.residual < resid[r, j]
            x[r[better], j] = rr.x[better]
            status[r[better], j] = rr.status[better]
            resid[r[better], j] = rr.residual[better]
    values = cell_outputs(x.reshape(-1, 4), nb_flat, np.full(S * Nn, T), flat_model)
    values = {k: v.reshape(S, Nn) for k, v in values.items()}
    return InnerCrustResult(n_B=n_B, T=T, values=values, status=status, residual=resid, x=x)


def cell_outputs(x: np.ndarray, n_B: np.ndarray, T: np.ndarray, model: CellModel) -> dict:
    """Observables of solved cells (see OUTPUTS), plus mu_p, the cell proton chemical potential
    mu_p = mu_n - (mu_n^cl - mu_p^cl) + (1/(u n_i)) dF_fs/dy_p (rest masses included), for which
    beta equilibrium reads mu_n = mu_p + mu_e."""
    from crustuq.models import constants as const

    ev = evaluate_cell(x, n_B, T, model, need_parts=True)
    p = ev.parts
    mu_n = ev.mu_B
    out = {k: p[k] for k in ("Z", "A_cl", "A_cell", "I", "n_cl", "n_g", "r_N", "r_WS", "u", "Y_e")}
    out["P"] = n_B * mu_n - ev.f
    out["F_per_A"] = ev.f / n_B
    out["mu_n"] = mu_n + const.M_N
    out["mu_e"] = p["mu_e"]
    out["S_per_A"] = p["s"] / n_B
    out["mu_p"] = (mu_n - (p["mu_n_cluster"] - p["mu_p_cluster"])
                   + p["F_fs_y"] / (p["u"] * p["n_cl"])) + const.M_N
    bad = ~ev.feasible
    if np.any(bad):
        for k in out:
            out[k] = np.where(bad, np.nan, out[k])  # status marks them; callers mask by status
    return out


__all__ = ["solve_inner_crust", "cell_model", "cell_outputs", "InnerCrustResult", "OUTPUTS",
           "OUTPUT_UNITS", "N_B_MIN_INNER", "NOT_CONVERGED"]
