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
from crustuq.models.crust.inner_solver import coordinate_descent, solve_cells
from crustuq.models.crust.status import BEYOND_TRANSITION, CONVERGED, NOT_CONVERGED
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
#: lowest rung of the continuation ladder (fm^-3), just above neutron drip
LADDER_START = 3.0e-4
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


def project_feasible(x: np.ndarray, n_B) -> np.ndarray:
    """Pull a starting point inside the clusterised domain: n_g < n_B < n_i, |I| < 1."""
    x = np.array(x, dtype=float, copy=True)
    ln_nb = np.log(n_B)
    x[..., 1] = np.clip(x[..., 1], -0.9, 0.97)
    x[..., 3] = np.minimum(x[..., 3], ln_nb + np.log(0.9))
    x[..., 2] = np.maximum(x[..., 2], ln_nb + np.log(1.05))
    return x


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
    temperature ``T`` (MeV) for every sample of ``model`` (batch shape (S,)): the continuation
    ladder (:func:`solve_ladder`) then every grid point (:func:`solve_on_grid`).

    ``x_start`` (S, 4) optionally gives a starting point at the lowest density (e.g. the
    solution at another temperature)."""
    n_B = _check_grid(n_B)
    lad = solve_ladder(T, model, n_B[-1], n_bottom=n_B[0], rungs=ladder, x_start=x_start)
    return solve_on_grid(n_B, T, model, lad)


def _check_grid(n_B) -> np.ndarray:
    n_B = np.asarray(n_B, dtype=float)
    if n_B.ndim != 1 or n_B.size == 0 or np.any(np.diff(n_B) <= 0):
        raise ValueError("n_B: the inner-crust grid must be a 1-D increasing array of densities (fm^-3)")
    return n_B


def solve_ladder(T: float, model: CellModel, n_top: float, *, n_bottom: float = LADDER_START,
                 rungs: int = 14, x_start: np.ndarray | None = None) -> InnerCrustResult:
    """The continuation ladder: ``rungs`` log-spaced densities from just above neutron drip
    (min(n_bottom, LADDER_START)) to ``n_top``, solved one after the other for all samples at
    once, each rung starting from the previous ones (linear extrapolation in ln n_B)."""
    S = model.K_sat.shape[0]
    n_lad0 = min(n_bottom, LADDER_START) if x_start is None else n_bottom
    lad = np.geomspace(n_lad0, max(n_top, n_lad0 * 1.01), max(rungs, 2))
    xl = np.empty((S, lad.size, 4))
    okl = np.zeros((S, lad.size), dtype=bool)
    stl = np.empty((S, lad.size), dtype=np.int8)
    rsl = np.empty((S, lad.size))
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
        res = solve_cells(np.full(S, nb), np.full(S, T), model, project_feasible(guess, nb),
                          max_iter=40 if k < 2 else 25)
        xl[:, k] = res.x
        stl[:, k] = res.status
        rsl[:, k] = res.residual
        okl[:, k] = res.status == CONVERGED
        x_prev = np.where(okl[:, k][:, None], res.x, x_prev)
    flat = model.take(np.repeat(np.arange(S), lad.size))
    values = cell_outputs(xl.reshape(-1, 4), np.tile(lad, S), np.full(S * lad.size, T), flat)
    values = {k: v.reshape(S, lad.size) for k, v in values.items()}
    return InnerCrustResult(n_B=lad, T=T, values=values, status=stl, residual=rsl, x=xl)


def solve_on_grid(n_B, T: float, model: CellModel, ladder: InnerCrustResult, *,
                  n_max: np.ndarray | None = None) -> InnerCrustResult:
    """Every grid point from the ladder solution interpolated in ln n_B, all solved together;
    failures retried once from their nearest converged neighbour on the grid. Points above
    ``n_max`` (per sample, e.g. the crust-core transition) are not solved: they get status
    BEYOND_TRANSITION and NaN values (the caller fills them with homogeneous matter)."""
    n_B = _check_grid(n_B)
    S = model.K_sat.shape[0]
    Nn = n_B.size
    lad = ladder.n_B
    okl = ladder.status == CONVERGED
    x0 = np.empty((S, Nn, 4))
    ln_l, ln_g = np.log(lad), np.log(n_B)
    for s in range(S):
        good = okl[s]
        if good.sum() >= 2:
            for j in range(4):
                x0[s, :, j] = np.interp(ln_g, ln_l[good], ladder.x[s, good, j])
        elif good.sum() == 1:
            x0[s] = ladder.x[s, good][0]
        else:
            x0[s] = generic_start(n_B)
    todo = np.ones((S, Nn), dtype=bool) if n_max is None else n_B[None, :] <= np.asarray(n_max)[:, None]
    rows, cols = np.nonzero(todo)
    x = np.full((S, Nn, 4), np.nan)
    status = np.full((S, Nn), BEYOND_TRANSITION, dtype=np.int8)
    resid = np.full((S, Nn), np.nan)
    if rows.size:
        sub = model.take(rows)
        res = solve_cells(n_B[cols], np.full(rows.size, T), sub, project_feasible(x0[rows, cols], n_B[cols]))
        x[rows, cols] = res.x
        status[rows, cols] = res.status
        resid[rows, cols] = res.residual
    # retry failures from the nearest converged neighbour below, then (for those still failing)
    # from the nearest converged neighbour above (vectorised over all failures)
    for side in ("below", "above"):
        _retry_from_neighbours(n_B, T, model, todo, x, status, resid, side)
    _fill_holes(n_B, T, model, todo, x, status, resid)
    values = {k: np.full((S, Nn), np.nan) for k in OUTPUTS + ("mu_p",)}
    if rows.size:
        out = cell_outputs(x[rows, cols], n_B[cols], np.full(rows.size, T), model.take(rows))
        for k, v in out.items():
            values[k][rows, cols] = v
    return InnerCrustResult(n_B=n_B, T=T, values=values, status=status, residual=resid, x=x)


def _retry_from_neighbours(n_B, T, model, todo, x, status, resid, side: str) -> None:
    """Re-solve the unconverged grid points of ``todo`` starting from the nearest converged
    point of the same sample on one ``side`` ("below"/"above" in n_B); keep a result where its
    residual is lower. Updates x, status, resid in place."""
    fr, fc = np.nonzero(todo & (status != CONVERGED))
    if fr.size == 0:
        return
    guess = np.full((fr.size, 4), np.nan)
    have = np.zeros(fr.size, dtype=bool)
    conv = status == CONVERGED
    for s in np.unique(fr):
        cj = np.nonzero(conv[s])[0]
        if cj.size == 0:
            continue
        sel = np.nonzero(fr == s)[0]
        pos = np.searchsorted(cj, fc[sel])           # first converged index above each failure
        k = pos - 1 if side == "below" else pos
        ok = (k >= 0) & (k < cj.size)
        guess[sel[ok]] = x[s, cj[k[ok]]]
        have[sel[ok]] = True
    if not np.any(have):
        return
    r, c = fr[have], fc[have]
    rr = solve_cells(n_B[c], np.full(r.size, T), model.take(r), guess[have])
    better = rr.residual < np.where(np.isfinite(resid[r, c]), resid[r, c], np.inf)
    x[r[better], c[better]] = rr.x[better]
    status[r[better], c[better]] = rr.status[better]
    resid[r[better], c[better]] = rr.residual[better]


def _fill_holes(n_B, T, model, todo, x, status, resid) -> None:
    """Unconverged grid points with converged points of the same sample on both sides (holes
    in a crust): coordinate descent from the converged neighbour below, then Newton; a result
    is kept where its residual is lower. Updates x, status, resid in place."""
    conv = status == CONVERGED
    below = np.maximum.accumulate(np.where(conv, np.arange(n_B.size)[None, :], -1), axis=1)
    has_above = np.flip(np.logical_or.accumulate(np.flip(conv, axis=1), axis=1), axis=1)
    prev = np.concatenate([np.full((conv.shape[0], 1), -1), below[:, :-1]], axis=1)
    nxt = np.concatenate([has_above[:, 1:], np.zeros((conv.shape[0], 1), dtype=bool)], axis=1)
    r, c = np.nonzero(todo & ~conv & (prev >= 0) & nxt)
    if r.size == 0:
        return
    nb, Tt, sub = n_B[c], np.full(r.size, T), model.take(r)
    start = coordinate_descent(x[r, prev[r, c]], nb, Tt, sub)
    rr = solve_cells(nb, Tt, sub, start)
    better = rr.residual < np.where(np.isfinite(resid[r, c]), resid[r, c], np.inf)
    x[r[better], c[better]] = rr.x[better]
    status[r[better], c[better]] = rr.status[better]
    resid[r[better], c[better]] = rr.residual[better]


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


__all__ = ["solve_inner_crust", "solve_ladder", "solve_on_grid", "cell_model", "cell_outputs", "InnerCrustResult", "OUTPUTS",
           "OUTPUT_UNITS", "N_B_MIN_INNER", "NOT_CONVERGED"]
