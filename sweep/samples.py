"""The inputs of each block of samples: bulk parameters, surface parameters, filter outcome.

Everything is a deterministic function of (configuration, sample index): sample i gets the
same numbers whatever block it falls in, so a sweep is bit-identical whatever its block size,
its number of workers or its interruptions.

* bulk parameters: a named set; a prior (plain Monte Carlo with SeedSequence chunks, Sobol
  points indexed directly, or a Latin hypercube designed over all n_samples); draws from a
  stored emcee chain (row chosen by a per-chunk SeedSequence stream); the samples of an
  earlier sweep store;
* surface parameters: one fixed set; a per-sample least-squares refit
  (:func:`crustuq.models.cldm.surface_fit.fit_surface_batch`, batch-invariant); or draws from a
  stored surface posterior ("pair": the draw itself; "recentre": the sample's own fit plus the
  draw's deviation from the posterior median);
* filters: physical validity, the chiral-EFT low-density filter; a code per sample
  (:func:`filter_codes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES, SurfaceParameters
from crustuq.models.matter.filters import CHIRAL_EFT_BAND
from crustuq.models.matter.parameters import PARAMETER_NAMES, VALID_RANGES, EmpiricalParameters
from crustuq.models.matter.priors import CHUNK

#: filter codes: 0 passed; physical filters; 100 + k / 200 + k: low-density filter failures
FILTER_PASSED = 0
FILTER_INVALID_BULK = 1
FILTER_SURFACE_FIT = 2
FILTER_SURFACE_INVALID = 3
FILTER_NEGATIVE_ESYM = 4


def filter_codes() -> dict[int, str]:
    codes = {
        FILTER_PASSED: "passed",
        FILTER_INVALID_BULK: "bulk parameters outside their validity ranges",
        FILTER_SURFACE_FIT: "per-sample surface fit did not converge",
        FILTER_SURFACE_INVALID: "surface parameters give a negative surface tension",
        FILTER_NEGATIVE_ESYM: "symmetry energy <= 0 somewhere in 0.01..0.32 fm^-3",
    }
    for k, n in enumerate(CHIRAL_EFT_BAND[:, 0]):
        codes[100 + k] = f"low-density filter: SNM E/A outside the chiral-EFT band at n = {n:.2f} fm^-3"
        codes[200 + k] = f"low-density filter: PNM E/A outside the chiral-EFT band at n = {n:.2f} fm^-3"
    return codes


@dataclass
class BlockInputs:
    sample: np.ndarray          # (n,) global sample indices
    bulk: np.ndarray            # (n, 13) PARAMETER_NAMES order
    surface: np.ndarray         # (n, 5) SURFACE_PARAMETER_NAMES order (NaN where unavailable)
    surface_status: np.ndarray  # (n,) int8 (0 = ok; fit/joint status codes otherwise)
    surface_rms: np.ndarray     # (n,) MeV (NaN when not fitted)
    filter_code: np.ndarray     # (n,) int16

    @property
    def passed(self) -> np.ndarray:
        return self.filter_code == FILTER_PASSED


# ----------------------------------------------------------------------------- bulk
def _index_stream(seed: int, tag: int, start: int, n: int, high: int) -> np.ndarray:
    """Integers in [0, high) for samples start..start+n-1, chunked like the prior streams."""
    out = np.empty(n, dtype=np.int64)
    first, last = start // CHUNK, (start + n - 1) // CHUNK
    pos = 0
    for c in range(first, last + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(tag, c)))
        block = rng.integers(0, high, CHUNK)
        lo = max(start, c * CHUNK) - c * CHUNK
        hi = min(start + n, (c + 1) * CHUNK) - c * CHUNK
        out[pos:pos + hi - lo] = block[lo:hi]
        pos += hi - lo
    return out


@lru_cache(maxsize=4)
def _chain_rows(path: str, burn, thin) -> tuple[np.ndarray, tuple[str, ...]]:
    """Flattened (burned, thinned) rows of a generic crustuq chain store and its names."""
    from crustuq.sweep.posterior.surface_posterior import chain_summary
    from crustuq.sweep.posterior.zarr_backend import ZarrBackend

    be = ZarrBackend(path, read_only=True)
    s = chain_summary(be, burn=burn)
    flat = be.get_chain(discard=s["burn"], thin=int(thin or s["thin"]), flat=True)
    names = tuple(be.parameter_names or [f"x{i}" for i in range(flat.shape[1])])
    return flat, names


@lru_cache(maxsize=4)
def _store_samples(path: str, only_passed: bool) -> np.ndarray:
    from crustuq.sweep.store import open_group

    g = open_group(path)
    bulk = np.stack([g[f"param_{k}"][:] for k in PARAMETER_NAMES], axis=-1)
    ok = np.all(np.isfinite(bulk), axis=1)
    if only_passed:
        ok &= g["filter_passed"][:]
    return bulk[ok]


def bulk_samples(cfg, start: int, n: int) -> np.ndarray:
    """(n, 13) bulk parameters of samples start..start+n-1."""
    p = cfg.parameters
    seed = cfg.sweep.seed
    base = EmpiricalParameters.named(p.set)
    if p.overrides:
        base = base.with_overrides(**p.overrides)
    if p.source == "named":
        return np.repeat(base.to_array()[None, :], n, axis=0)
    if p.source == "prior":
        prior = p.prior_object()
        if p.sampling == "lhs":
            return prior.transform(prior.unit_points(cfg.sweep.n_samples, seed, method="lhs")[start:start + n])
        return prior.sample(n, seed, start=start, method=p.sampling)
    if p.source == "chain":
        rows, names = _chain_rows(p.chain, p.burn, p.thin)
        unknown = [k for k in names if k not in PARAMETER_NAMES and k not in SURFACE_PARAMETER_NAMES
                   and k != "ln_sigma_model"]
        if unknown:
            raise ValueError(f"parameters.chain: column {unknown[0]!r} is not a bulk or surface parameter")
        pick = rows[_index_stream(seed, 1, start, n, rows.shape[0])]
        out = np.repeat(base.to_array()[None, :], n, axis=0)
        for j, k in enumerate(names):
            if k in PARAMETER_NAMES:
                out[:, PARAMETER_NAMES.index(k)] = pick[:, j]
        return out
    # earlier sweep store
    avail = _store_samples(p.store, p.only_passed)
    if start + n > avail.shape[0]:
        raise ValueError(f"parameters.store: {p.store!r} holds {avail.shape[0]} usable samples, "
                         f"fewer than n_samples = {cfg.sweep.n_samples}")
    return avail[start:start + n].copy()


# ----------------------------------------------------------------------------- surface
def surface_samples(cfg, start: int, bulk: np.ndarray):
    """(surface (n, 5), status (n,), rms (n,)) for the bulk rows of samples start..start+n-1."""
    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.cldm.surface_fit import fit_surface_batch

    s = cfg.surface
    n = bulk.shape[0]
    rms = np.full(n, np.nan)
    if s.treatment == "fixed":
        sp = s.fixed_surface()
        return np.repeat(sp.to_array()[None, :], n, axis=0), np.zeros(n, dtype=np.int8), rms
    valid = _valid_bulk(bulk)
    surf = np.full((n, 5), np.nan)
    status = np.full(n, 2, dtype=np.int8)  # "invalid bulk sample" unless fitted
    if s.treatment == "refit" or (s.treatment == "posterior" and s.mode == "recentre"):
        tgt = target_set(s.target) if s.treatment == "refit" else _posterior_target(s.chain, s.burn, s.thin)
        p = s.p if s.treatment == "refit" else _posterior_p(s.chain, s.burn, s.thin)
        idx = np.nonzero(valid)[0]
        if idx.size:
            fit = fit_surface_batch(EmpiricalParameters.from_array(bulk[idx]), tgt, p=p)
            surf[idx] = fit.to_array()
            status[idx] = fit.status
            rms[idx] = fit.rms_MeV
        if s.treatment == "refit":
            return surf, status, rms
    theta, _, _ = _posterior_theta(s.chain, s.burn, s.thin)
    draws = theta[_index_stream(cfg.sweep.seed, 2, start, n, theta.shape[0])]
    if s.mode == "pair":
        return draws, np.zeros(n, dtype=np.int8), rms
    median = np.median(theta, axis=0)
    return surf + (draws - median), status, rms


@lru_cache(maxsize=4)
def _posterior_theta(path, burn, thin):
    from crustuq.sweep.posterior.surface_posterior import posterior_samples

    return posterior_samples(path, burn=burn, thin=thin)


def _posterior_target(path, burn, thin):
    return _posterior_theta(path, burn, thin)[2].target_set()


def _posterior_p(path, burn, thin) -> float:
    cfg = _posterior_theta(path, burn, thin)[2]
    if "p" in cfg.free:
        raise ValueError("surface.mode = 'recentre' needs a chain with p fixed")
    return float(cfg.fixed["p"])


# ----------------------------------------------------------------------------- filters
def _valid_bulk(bulk: np.ndarray) -> np.ndarray:
    ok = np.all(np.isfinite(bulk), axis=1)
    for j, k in enumerate(PARAMETER_NAMES):
        lo, hi = VALID_RANGES[k]
        ok &= (bulk[:, j] >= lo) & (bulk[:, j] <= hi)
    return ok


def filter_block(cfg, bulk: np.ndarray, surface: np.ndarray, surface_status: np.ndarray) -> np.ndarray:
    """Filter code (int16) of every sample: the first failed condition, 0 if all pass."""
    from crustuq.models.matter.filters import low_density_filter
    from crustuq.models.matter.metamodel import MetaModel

    n = bulk.shape[0]
    code = np.zeros(n, dtype=np.int16)
    valid = _valid_bulk(bulk)
    code[~valid] = FILTER_INVALID_BULK
    f = cfg.filters
    idx = np.nonzero(valid)[0]
    if f.physical and idx.size:
        bad_fit = (surface_status[idx] != 0) | ~np.all(np.isfinite(surface[idx]), axis=1)
        code[idx[bad_fit]] = FILTER_SURFACE_FIT
        ok_s = ~bad_fit
        for i in idx[ok_s]:
            try:
                SurfaceParameters.from_array(surface[i])
            except ValueError:
                code[i] = FILTER_SURFACE_INVALID
        params = EmpiricalParameters.from_array(bulk[idx])
        mm = MetaModel.from_parameters(params)
        n_grid = np.linspace(0.01, 0.32, 32)[:, None]
        esym = mm.symmetry_energy(n_grid)
        neg = np.any(esym <= 0, axis=0)
        sel = idx[neg & (code[idx] == 0)]
        code[sel] = FILTER_NEGATIVE_ESYM
    if f.low_density:
        rest = np.nonzero(code == 0)[0]
        if rest.size:
            code[rest] = low_density_filter(EmpiricalParameters.from_array(bulk[rest])).code
    return code


def block_inputs(cfg, shape, b: int) -> BlockInputs:
    """All inputs of block b (see the module docstring)."""
    sl = shape.block_slice(b)
    start, n = sl.start, sl.stop - sl.start
    bulk = bulk_samples(cfg, start, n)
    surface, status, rms = surface_samples(cfg, start, bulk)
    code = filter_block(cfg, bulk, surface, status)
    return BlockInputs(sample=np.arange(start, start + n), bulk=bulk, surface=surface,
                       surface_status=status.astype(np.int8), surface_rms=rms, filter_code=code)
