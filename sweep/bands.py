"""Uncertainty bands of a sweep store: weighted quantiles over samples (``crustuq bands``).

What is computed (written into the ``bands`` sub-group of the store, see :func:`compute_bands`):

* for every crust output ``X`` of :data:`crustuq.models.crust.profile.OUTPUTS`, the quantiles
  over samples of X versus n_B at each temperature (variable ``X``, dims (quantile, T, n_B)),
  and versus pressure (``X_vs_P``, dims (quantile, T, P_grid), plus ``n_B_vs_P``, the
  equation of state n_B(P)); the pressures of the grid are ``pressure`` (T, P_grid),
  MeV fm^-3;
* the counts behind every point, see :func:`band_dataset`.

Which values enter. At temperature T a sample counts ("computed") if its block has
``done[block, T] == 1``; it is *excluded by the filter* if ``filter_passed`` is False; a point
of a filter-passing sample is *excluded as not converged* if its status is not one of
:data:`GOOD_STATUS` (CONVERGED, NO_CLUSTER, BEYOND_TRANSITION; this covers NOT_CONVERGED,
INVALID, UNSTABLE and the fill value -1); a value of a good point that is NaN is *undefined*
(Z, A_cl, ... in the core are NaN by design) and counted apart from the failures. Everything
else is *included*. So per (T, n_B) and output:
``n_computed = n_excluded_filter + n_excluded_not_converged + n_undefined_X + n_included_X``.

Weighted quantile (:func:`weighted_quantile`). Sort the included values x_1 <= ... <= x_n with
weights w_i > 0, C_i = w_1 + ... + w_i, and place value i at the midpoint of its weight
interval, M_i = C_i - w_i / 2. The quantile q is the piecewise-linear interpolation of
(M_i, x_i) at

    M(q) = M_1 + q (M_n - M_1),   i.e. at the position p_i = (M_i - M_1) / (M_n - M_1) = q.

For equal weights M_i = (i - 1/2) w, so p_i = (i - 1) / (n - 1): Hyndman & Fan's type 7, numpy's
default ``np.quantile(method="linear")``. (Equivalently: the weighted Hazen plotting positions
rescaled to map the smallest value to 0 and the largest to 1, as type 7 is the rescaled type 5.)
The definition is symmetric (quantile q of x = - quantile 1-q of -x), every weight matters
(unlike p_i = C_{i-1} / C_{n-1}, which also reduces to type 7 but ignores w_n), only weight
ratios matter, and q = 0 and 1 give the smallest and largest included value. Where all included
weights of a column are equal, the code evaluates numpy's own type-7 arithmetic (virtual index
(n - 1) q, numpy's two-sided lerp), so it equals ``np.quantile`` bit for bit. Zero weights are
treated as excluded. It is not a frequency-weight definition (weight 2 differs from a repeated
sample), as no definition that reduces to type 7 can be.

Pressure bands (:func:`interpolate_to_pressure`). Per temperature a common grid of
``pressure_points`` log-spaced pressures spans the range of all included pressures at that T.
Each sample's output is interpolated linearly in ln P between two *neighbouring* n_B points of
that sample, both included, that bracket the grid pressure (at the first rise of the sample's
pressure through it: where P(n_B) would fall, the output would be multi-valued in P and the
falling stretch is skipped). Outside the sample's own P range, or across an excluded or
undefined point, the value is missing (never extrapolated or bridged) and does not count at that
grid pressure (``n_included_vs_P_X``).

Importance weights ``"chiral-eft"`` (:func:`chiral_eft_chi2`): w proportional to exp(-chi^2/2),
chi^2 = sum_n ((E/A_PNM,model(n) - e_band(n)) / sigma_band(n))^2 over the densities of the
Drischler et al. (2020) neutron-matter band (N3LO mean, 1-sigma EFT truncation; PRL 125, 202702)
in :data:`CHIRAL_EFT_DENSITY_RANGE_FM3`, with the T = 0 meta-model PNM energy of each sample.
The range 0.05-0.16 fm^-3 runs from the lowest density of the shipped band to about saturation
density: it covers the densities of the inner crust (n_B < ~0.09 fm^-3) and the crust-core
transition, and stops where the EFT truncation error grows quickly towards the breakdown scale
(above n_sat the band's sigma grows beyond ~1 MeV and its reliability is debated). The band's
points are treated as independent (diagonal chi^2; Drischler et al.'s truncation errors are
correlated over ~0.05 fm^-3), so the weights are sharper than a full-covariance likelihood
would give: the effective sample size (sum w)^2 / sum w^2 is stored and should be checked.

Memory. The quantiles need the whole sample axis of a column in one array; the store is read
with chunks (all samples, one T, a few n_B) sized by ``memory_mb`` (no all-to-all rechunk in
memory). The pressure interpolation works per block of samples; its result is handed to the
quantile stage in memory when small, else through a temporary Zarr store next to the sweep
store (deleted afterwards).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from crustuq.models.crust.status import BEYOND_TRANSITION, CONVERGED, NO_CLUSTER, STATUS_NAMES

#: statuses whose values enter the bands
GOOD_STATUS: tuple[int, ...] = (CONVERGED, NO_CLUSTER, BEYOND_TRANSITION)
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.16, 0.5, 0.84, 0.95)
WEIGHT_CHOICES: tuple[str, ...] = ("none", "chiral-eft")
#: densities (fm^-3) of the chiral-EFT PNM band used for the importance weights (see module doc)
CHIRAL_EFT_DENSITY_RANGE_FM3: tuple[float, float] = (0.05, 0.16)
DEFAULT_PRESSURE_POINTS = 100
DEFAULT_MEMORY_MB = 1024.0
BANDS_GROUP = "bands"
#: status codes counted in ``n_status`` (-1: not computed although the block is done)
STATUS_CODES: tuple[int, ...] = (-1,) + tuple(sorted(STATUS_NAMES))

WEIGHTED_QUANTILE_DEFINITION = (
    "sorted included values x_i with weights w_i>0, C_i=cumsum(w), M_i=C_i-w_i/2; quantile q = "
    "linear interpolation of (M_i, x_i) at M_1+q(M_n-M_1); equal weights: numpy type 7 "
    "(method='linear'), evaluated with numpy's arithmetic")


# ---------------------------------------------------------------------------------------
# weighted quantiles
# ---------------------------------------------------------------------------------------
def _lerp(a, b, t):
    """numpy's two-sided linear interpolation (``numpy.lib._function_base_impl._lerp``):
    a + (b - a) t for t < 1/2, b - (b - a)(1 - t) otherwise (bit-identical results)."""
    diff = b - a
    out = a + diff * t
    np.subtract(b, diff * (1.0 - t), out=out, where=t >= 0.5)
    return out


def weighted_quantile(values, q, weights=None, *, mask=None, axis: int = 0) -> np.ndarray:
    """Quantiles ``q`` (in [0, 1]) of ``values`` along ``axis``, vectorised over the other axes.

    Entries that are non-finite, where ``mask`` is False or whose weight is 0 are left out
    (per column). ``weights`` (>= 0, finite) is either 1-D of length ``values.shape[axis]``
    or broadcastable to ``values``; None means equal weights. Definition: module docstring
    (equal weights: exactly ``np.quantile(..., method="linear")`` of the included entries).

    Returns an array of shape ``q.shape + values.shape`` without ``axis``; NaN where a column
    has no included entry.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 0:
        raise ValueError("values: need at least one axis to take quantiles over")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis}: values have {x.ndim} axes")
    axis %= x.ndim
    qa = np.asarray(q, dtype=float)
    if not np.all(np.isfinite(qa)) or np.any((qa < 0) | (qa > 1)):
        raise ValueError(f"q={q!r}: quantiles must lie in [0, 1]")
    q_shape = qa.shape
    qa = qa.reshape(-1)
    valid = np.isfinite(x)
    if mask is not None:
        valid &= np.broadcast_to(np.asarray(mask, dtype=bool), x.shape)
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.ndim == 1 and x.ndim > 1 and w.shape[0] == x.shape[axis]:
            w = w.reshape((-1,) + (1,) * (x.ndim - 1 - axis))
        w = np.broadcast_to(w, x.shape)
        bad = ~np.isfinite(w) | (w < 0)
        if np.any(bad & valid):
            raise ValueError("weights: must be finite and >= 0")
        valid &= w > 0
        w = np.ascontiguousarray(np.moveaxis(w, axis, -1))
    # work with the sample axis last and contiguous (fast sorts and gathers)
    x = np.moveaxis(x, axis, -1)
    valid = np.moveaxis(valid, axis, -1)
    n = x.shape[-1]
    rest = x.shape[:-1]
    qb = qa.reshape((1,) * len(rest) + (-1,))
    nv = valid.sum(axis=-1)                                  # included entries per column
    nvb = nv[..., None]
    xs = np.ascontiguousarray(np.where(valid, x, np.nan))    # NaN sorts last
    if w is None:
        xs.sort(axis=-1)
        ws = None
    else:
        order = np.argsort(xs, axis=-1)
        xs = np.take_along_axis(xs, order, axis=-1)
        ws = np.take_along_axis(np.where(valid, w, 0.0), order, axis=-1)
        del order
    last = np.maximum(nvb - 1, 0)
    # numpy type 7: virtual index h = (n - 1) q; neighbours floor(h), floor(h) + 1 (clipped)
    h = (nvb - 1) * qb
    prev = np.floor(h)
    gamma = h - prev
    prev = np.clip(prev, 0, None).astype(np.intp)
    nxt = prev + 1
    above = h >= (nvb - 1)
    prev = np.where(above, last, prev)
    nxt = np.where(above, last, nxt)
    if ws is not None:
        inrange = np.arange(n) < nvb
        equal = np.all((ws == ws[..., :1]) | ~inrange, axis=-1, keepdims=True)
        if not np.all(equal):
            M = np.cumsum(ws, axis=-1)
            M -= 0.5 * ws                                    # midpoints of the weight intervals
            M[~inrange] = np.inf
            m_first = M[..., :1]
            m_last = np.take_along_axis(M, last, axis=-1)
            with np.errstate(invalid="ignore"):
                target = m_first + qb * (m_last - m_first)
            k = np.empty(target.shape, dtype=np.intp)
            for j in range(qa.size):
                k[..., j] = np.count_nonzero(M <= target[..., j:j + 1], axis=-1) - 1
            k = np.clip(k, 0, last)
            k1 = np.minimum(k + 1, last)
            mk = np.take_along_axis(M, k, axis=-1)
            mk1 = np.take_along_axis(M, k1, axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                denom = mk1 - mk
                g = np.where(denom > 0, (target - mk) / np.where(denom > 0, denom, 1.0), 0.0)
            g = np.clip(g, 0.0, 1.0)
            prev = np.where(equal, prev, k)
            nxt = np.where(equal, nxt, k1)
            gamma = np.where(equal, gamma, g)
    a = np.take_along_axis(xs, prev, axis=-1)
    b = np.take_along_axis(xs, nxt, axis=-1)
    out = _lerp(a, b, gamma)
    out[nv == 0] = np.nan
    return np.moveaxis(out, -1, 0).reshape(q_shape + rest)


def effective_sample_size(weights, *, mask=None, axis: int = 0) -> np.ndarray:
    """(sum w)^2 / sum w^2 over the entries where ``mask`` (default: all) -- Kish's effective
    sample size; equals the number of entries for equal weights, 0 where there is none."""
    w = np.asarray(weights, dtype=float)
    if mask is not None:
        w = np.where(mask, w, 0.0)
    s1 = w.sum(axis=axis)
    s2 = (w * w).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s2 > 0, s1 * s1 / np.where(s2 > 0, s2, 1.0), 0.0)


# ---------------------------------------------------------------------------------------
# chiral-EFT importance weights
# ---------------------------------------------------------------------------------------
def chiral_eft_band_points(density_range=CHIRAL_EFT_DENSITY_RANGE_FM3):
    """Densities n (fm^-3), N3LO mean E/N and 1-sigma (MeV) of the Drischler et al. 2020 PNM
    band inside ``density_range`` (inclusive, tolerant to the file's float noise)."""
    from crustuq.models.tables.matter_tables import load_chiral_eft_band

    band = load_chiral_eft_band("NM")
    lo, hi = density_range
    sel = (band.n_fm3 >= lo - 1e-9) & (band.n_fm3 <= hi + 1e-9)
    return band.n_fm3[sel], band.e_per_particle_MeV[sel], band.sigma_MeV[sel]


def chiral_eft_chi2(params: np.ndarray, *, density_range=CHIRAL_EFT_DENSITY_RANGE_FM3,
                    batch: int = 65536) -> np.ndarray:
    """chi^2 of each sample's T = 0 meta-model PNM energy per neutron against the chiral-EFT
    band (module docstring). ``params``: (S, 13) in ``PARAMETER_NAMES`` order; rows with a
    non-finite parameter get NaN."""
    from crustuq.models.matter.metamodel import MetaModel
    from crustuq.models.matter.parameters import EmpiricalParameters

    params = np.asarray(params, dtype=float)
    n, e, s = chiral_eft_band_points(density_range)
    chi2 = np.full(params.shape[0], np.nan)
    rows = np.flatnonzero(np.all(np.isfinite(params), axis=1))
    for start in range(0, rows.size, batch):
        idx = rows[start:start + batch]
        mm = MetaModel.from_parameters(EmpiricalParameters.from_array(params[idx]))
        E = mm.energy_per_nucleon(n[:, None], 1.0)            # (n_dens, batch), MeV
        chi2[idx] = np.sum(((E - e[:, None]) / s[:, None]) ** 2, axis=0)
    return chi2


def chiral_eft_weights(params: np.ndarray, use: np.ndarray | None = None, **kw):
    """Normalised importance weights w = exp(-(chi^2 - min chi^2)/2) / sum (0 where ``use`` is
    False or chi^2 is not finite) and the chi^2 values."""
    chi2 = chiral_eft_chi2(params, **kw)
    ok = np.isfinite(chi2) if use is None else (np.asarray(use, bool) & np.isfinite(chi2))
    w = np.zeros(chi2.shape)
    if np.any(ok):
        w[ok] = np.exp(-0.5 * (chi2[ok] - chi2[ok].min()))
        w /= w.sum()
    return w, chi2


# ---------------------------------------------------------------------------------------
# interpolation onto a pressure grid
# ---------------------------------------------------------------------------------------
def interpolate_to_pressure(P, values, usable, grid) -> np.ndarray:
    """Values of each sample at the pressures ``grid``, linear in ln P (module docstring).

    ``P`` (S, N) MeV fm^-3 along the density grid; ``values`` (S, N, K) or a list of K (S, N)
    arrays; ``usable`` (S, N) bool: points whose pressure and values may enter (sample and
    status included); a value also needs to be finite. ``grid`` (G,) ascending, > 0.
    Returns (S, G, K), NaN where the value is not defined (outside the sample's own pressure
    range, next to an excluded or undefined point).
    """
    P = np.asarray(P, dtype=float)
    if isinstance(values, (list, tuple)):
        columns = [np.asarray(v, dtype=float) for v in values]
    else:
        values = np.asarray(values, dtype=float)
        columns = [values[:, :, k] for k in range(values.shape[2])]
    grid = np.asarray(grid, dtype=float)
    S, N = P.shape
    G = grid.size
    K = len(columns)
    out = np.empty((K, S, G))
    if S == 0 or G == 0 or N == 0:
        return np.full((S, G, K), np.nan)
    use = np.asarray(usable, bool) & np.isfinite(P) & (P > 0)
    # running maximum of the usable pressures; j1 = first index where it reaches grid_g
    M = np.maximum.accumulate(np.where(use, P, -np.inf), axis=1)
    r = np.searchsorted(grid, M, side="right")                 # #{grid <= M_j}, in [0, G]
    hist = np.bincount((np.arange(S)[:, None] * (G + 1) + r).ravel(), minlength=S * (G + 1))
    j1 = np.cumsum(hist.reshape(S, G + 1), axis=1)[:, :G]       # #{j: M_j < grid_g}
    del hist, r, M
    rows = np.arange(S)[:, None] * N
    has1 = j1 < N
    i1 = rows + np.minimum(j1, N - 1)                           # flat (sample, n_B) indices
    i0 = rows + np.maximum(j1 - 1, 0)
    use_flat = use.ravel()
    exact = has1 & (P.ravel()[i1] == grid[None, :])
    ok0 = use_flat[i0]
    ok1 = use_flat[i1]
    seg = has1 & (j1 >= 1) & ~exact & ok0 & ok1
    exact &= ok1
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        lnP = np.log(np.where(use, P, 1.0)).ravel()
        l0 = lnP[i0]
        t = (np.log(grid)[None, :] - l0) / (lnP[i1] - l0)
        for k, col in enumerate(columns):
            flat = np.ascontiguousarray(col).ravel()
            x0 = flat[i0]
            x1 = flat[i1]
            res = out[k]
            np.subtract(x1, x0, out=res)
            res *= t
            res += x0
            bad = ~(seg & np.isfinite(res))
            res[bad] = np.nan
            ex = exact & np.isfinite(x1)
            res[ex] = x1[ex]
    return np.moveaxis(out, 0, -1)


# ---------------------------------------------------------------------------------------
# store access and validation
# ---------------------------------------------------------------------------------------
def validate_band_options(quantiles, weights, pressure_points) -> tuple[np.ndarray, str, int]:
    """One-line ValueErrors for bad options; returns (sorted quantiles, weights, points)."""
    try:
        qa = np.atleast_1d(np.asarray(quantiles, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"quantiles={quantiles!r}: expected numbers in (0, 1)") from None
    if qa.ndim != 1 or qa.size == 0:
        raise ValueError(f"quantiles={quantiles!r}: expected a non-empty list of numbers in (0, 1)")
    bad = ~np.isfinite(qa) | (qa <= 0) | (qa >= 1)
    if np.any(bad):
        raise ValueError(f"quantiles: {qa[bad][0]:g} is outside (0, 1); allowed are numbers strictly between 0 and 1")
    if np.unique(qa).size != qa.size:
        raise ValueError(f"quantiles={qa.tolist()}: values must be distinct")
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"weights={weights!r}: allowed are {', '.join(WEIGHT_CHOICES)}")
    try:
        npts = int(pressure_points)
    except (TypeError, ValueError):
        raise ValueError(f"pressure_points={pressure_points!r}: expected an integer >= 2") from None
    if npts != pressure_points or npts < 2 or npts > 100_000:
        raise ValueError(f"pressure_points={pressure_points!r}: expected an integer in [2, 100000]")
    return np.sort(qa), weights, npts


def _open_checked(store_path):
    """The store's zarr root group, or a one-line ValueError if it is missing / not a store."""
    from crustuq.sweep.store import open_group

    path = Path(store_path)
    if not path.exists():
        raise ValueError(f"store {str(path)!r}: does not exist")
    try:
        root = open_group(path, "r")
    except Exception:
        raise ValueError(f"store {str(path)!r}: not a Zarr v3 group") from None
    missing = [k for k in ("done", "status", "filter_passed", "T", "n_B", "P") if k not in root]
    if missing or "block_size" not in root.attrs:
        what = f"array {missing[0]!r}" if missing else "attribute 'block_size'"
        raise ValueError(f"store {str(path)!r}: not a crustuq sweep store (no {what})")
    return root


def has_bands(store_path) -> bool:
    from crustuq.sweep.store import open_group

    try:
        return BANDS_GROUP in open_group(store_path, "r").group_keys()
    except Exception:
        return False


def open_bands(store_path):
    """The ``bands`` group as an xarray Dataset, or None if the store has none."""
    import xarray as xr

    if not has_bands(store_path):
        return None
    return xr.open_zarr(str(store_path), group=BANDS_GROUP, consolidated=False)


def check_store(store_path, *, refuse_bands: bool = False):
    """The store's root group after the checks every bands/plot command makes (one-line
    ValueErrors): it exists, is a sweep store and has a completed block; with
    ``refuse_bands``, it has no ``bands`` group yet."""
    root = _open_checked(store_path)
    if refuse_bands and BANDS_GROUP in root.group_keys():
        raise ValueError(f"store {str(store_path)!r}: already has a '{BANDS_GROUP}' group "
                         "(pass overwrite=True / --overwrite to replace it)")
    done = np.asarray(root["done"][:]) == 1
    if not done.any():
        raise ValueError(f"store {str(store_path)!r}: no completed block (done == 1 nowhere); "
                         "run the sweep first")
    return root


# ---------------------------------------------------------------------------------------
# dask kernels
# ---------------------------------------------------------------------------------------
def _good(status):
    g = status == GOOD_STATUS[0]
    for c in GOOD_STATUS[1:]:
        g |= status == c
    return g


def _band_kernel(x, status, ok, w, *, q):
    """x, status (S, 1, c); ok (S, 1) bool; w (S,) or None -> (nq + 2, 1, c): the quantiles,
    the number of included values and their effective sample size."""
    inc = ok[:, :, None] & np.isfinite(x)
    if status is not None:
        inc &= _good(status)
    ww = None if w is None else w[:, None, None]
    qv = weighted_quantile(x, q, ww, mask=inc, axis=0)
    n_inc = inc.sum(axis=0)
    ess = n_inc.astype(float) if w is None else effective_sample_size(np.broadcast_to(ww, x.shape), mask=inc, axis=0)
    return np.concatenate([qv, n_inc[None].astype(float), ess[None]], axis=0)


def _status_kernel(status, ok):
    """status (S, 1, c), ok (S, 1) -> (len(STATUS_CODES), 1, c) counts among ``ok`` samples."""
    okb = ok[:, :, None]
    return np.stack([np.count_nonzero((status == c) & okb, axis=0) for c in STATUS_CODES])


def _prange_kernel(P, status, ok):
    """(S, 1, N) -> (1, 1, 2): min and max of the included positive pressures (NaN if none)."""
    use = ok[:, :, None] & _good(status) & np.isfinite(P) & (P > 0)
    out = np.full((1, P.shape[1], 2), np.nan)
    for t in range(P.shape[1]):
        v = P[:, t][use[:, t]]
        if v.size:
            out[0, t] = v.min(), v.max()
    return out


def _interp_kernel(P, status, ok, grid, *values):
    """P, status, values (B, 1, N); ok (B, 1); grid (1, G) -> (B, 1, G, K)."""
    use = ok[:, :, None] & _good(status)
    out = interpolate_to_pressure(P[:, 0], [v[:, 0] for v in values], use[:, 0], grid[0])
    return out[:, None]


# ---------------------------------------------------------------------------------------
# the bands
# ---------------------------------------------------------------------------------------
def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crustuq")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _columns(total_bytes_per_column: float, n_cols: int, chunk_bytes: float) -> int:
    return int(max(1, min(n_cols, chunk_bytes // max(total_bytes_per_column, 1.0))))


def band_dataset(store_path, *, quantiles=DEFAULT_QUANTILES, weights: str = "none",
                 pressure_points: int = DEFAULT_PRESSURE_POINTS, memory_mb: float = DEFAULT_MEMORY_MB,
                 tmp_dir=None):
    """Compute the bands of a store in memory (nothing is written to the store).

    Returns an :class:`xarray.Dataset` with coordinates ``quantile``, ``T`` (MeV), ``n_B``
    (fm^-3), ``P_grid`` (index), ``status_code``, ``sample`` and variables

    * ``X`` (quantile, T, n_B) for every output X; ``X_vs_P`` (quantile, T, P_grid) for every
      output but P, and ``n_B_vs_P``; ``pressure`` (T, P_grid) MeV fm^-3;
    * ``n_computed``, ``n_excluded_filter``, ``n_excluded_not_converged`` (T, n_B);
      ``n_status`` (status_code, T, n_B) among filter-passing samples; ``n_included_X``,
      ``n_undefined_X``, ``ess_X`` (T, n_B); ``n_included_vs_P_X`` (T, P_grid);
    * ``weight`` (sample,) normalised to sum 1 over the filter-passing prepared samples,
      ``chi2`` (sample,) for chiral-EFT weights, ``ess_T`` (T,) the effective sample size of
      the samples computed at T, ``n_blocks_done`` (T,); attribute ``ess`` over all weighted
      samples.
    """
    import dask
    import dask.array as da
    import xarray as xr

    from crustuq.models.crust.profile import OUTPUT_UNITS, OUTPUTS
    from crustuq.models.matter.parameters import PARAMETER_NAMES

    q, weights, G = validate_band_options(quantiles, weights, pressure_points)
    if not (np.isfinite(memory_mb) and memory_mb > 0):
        raise ValueError(f"memory_mb={memory_mb!r}: must be > 0")
    root = _open_checked(store_path)
    done_blocks = np.asarray(root["done"][:]) == 1                      # (n_blocks, nT)
    if not done_blocks.any():
        raise ValueError(f"store {str(store_path)!r}: no completed block (done == 1 nowhere); "
                         "run the sweep first")
    t0 = time.perf_counter()
    T = np.asarray(root["T"][:])
    nB = np.asarray(root["n_B"][:])
    S, nT, N = int(root.attrs["n_samples"]), T.size, nB.size
    B = int(root.attrs["block_size"])
    block_of = np.arange(S) // B
    computed = done_blocks[block_of]                                     # (S, nT)
    prep = np.asarray(root["prep_done"][:]) == 1 if "prep_done" in root else np.ones(done_blocks.shape[0], bool)
    passed = np.asarray(root["filter_passed"][:]).astype(bool) & prep[block_of]
    ok = computed & passed[:, None]                                      # (S, nT)

    # ---- sample weights
    params = None
    chi2 = None
    if weights == "chiral-eft":
        params = np.stack([np.asarray(root[f"param_{k}"][:], float) for k in PARAMETER_NAMES], axis=1)
        w, chi2 = chiral_eft_weights(params, use=passed)
        w_use = w
    else:
        w = passed.astype(float)
        w /= max(w.sum(), 1.0)
        w_use = None
    weighted = passed & (w > 0)
    ess_all = float(effective_sample_size(w, mask=weighted))
    ess_T = np.array([float(effective_sample_size(w, mask=weighted & ok[:, t])) for t in range(nT)])

    # ---- open lazily: column chunks for the quantiles, block chunks for the interpolation
    mem = float(memory_mb) * 2**20
    chunk_bytes = mem / 32.0                                             # ~8 temporaries x 2 threads x 2
    cN = _columns(8.0 * S, N, chunk_bytes)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*separate the stored chunks.*")
        ds_col = xr.open_zarr(str(store_path), consolidated=False,
                              chunks={"sample": -1, "T": 1, "n_B": cN, "block": -1})
    ds_blk = xr.open_zarr(str(store_path), consolidated=False)
    ok_col = da.from_array(ok, chunks=(S, 1))
    w_da = None if w_use is None else da.from_array(w_use, chunks=(S,))
    nq = q.size

    def bands_of(arr, status_arr, ok_arr):
        args = [arr, "stn", status_arr, None if status_arr is None else "stn", ok_arr, "st",
                w_da, None if w_da is None else "s"]
        return da.blockwise(_band_kernel, "ktn", *args, new_axes={"k": nq + 2}, concatenate=True,
                            dtype=float, q=q, meta=np.empty((0, 0, 0)))

    # bands versus n_B, one temperature at a time (the status chunks shared by all outputs are
    # then held for one T at most)
    per_T = {name: [] for name in OUTPUTS + ("_status_passed",)}
    for t in range(nT):
        sl = slice(t, t + 1)
        status_col = ds_col["status"].data[:, sl]
        graph = {name: bands_of(ds_col[name].data[:, sl], status_col, ok_col[:, sl]) for name in OUTPUTS}
        graph["_status_passed"] = da.blockwise(_status_kernel, "ktn", status_col, "stn", ok_col[:, sl], "st",
                                               new_axes={"k": len(STATUS_CODES)}, concatenate=True,
                                               dtype=np.int64, meta=np.empty((0, 0, 0), np.int64))
        keys = list(graph)
        for key, r in zip(keys, dask.compute(*[graph[k] for k in keys])):
            per_T[key].append(r)
    results = {key: np.concatenate(v, axis=1) for key, v in per_T.items()}

    # ---- pressure range per T (pass over P and status in block chunks)
    Bc = ds_blk["P"].data.chunks[0]
    ok_blk = da.from_array(ok, chunks=(Bc, 1))
    prange = da.blockwise(_prange_kernel, "btr", ds_blk["P"].data, "btn", ds_blk["status"].data, "btn",
                          ok_blk, "bt", new_axes={"r": 2}, adjust_chunks={"b": 1}, concatenate=True,
                          dtype=float, meta=np.empty((0, 0, 0)))
    pr = prange.compute()                                                # (n_chunks, nT, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pmin = np.nanmin(pr[:, :, 0], axis=0)
        pmax = np.nanmax(pr[:, :, 1], axis=0)
    grids = np.full((nT, G), np.nan)
    for t in range(nT):
        if np.isfinite(pmin[t]) and pmin[t] > 0:
            grids[t] = np.geomspace(pmin[t], pmax[t], G)
            grids[t, 0], grids[t, -1] = pmin[t], pmax[t]

    p_outputs = [k for k in OUTPUTS if k != "P"] + ["n_B"]
    K = len(p_outputs)
    nb_arr = da.broadcast_to(da.from_array(nB, chunks=N)[None, None, :], (S, nT, N), chunks=ds_blk["P"].data.chunks)
    vals = [ds_blk[k].data if k != "n_B" else nb_arr for k in p_outputs]
    grid_da = da.from_array(np.where(np.isfinite(grids), grids, 1.0), chunks=(1, G))
    args = []
    for v in vals:
        args += [v, "btn"]
    interp = da.blockwise(_interp_kernel, "btgk", ds_blk["P"].data, "btn", ds_blk["status"].data, "btn",
                          ok_blk, "bt", grid_da, "tg", *args, new_axes={"k": K}, concatenate=True,
                          dtype=float, meta=np.empty((0, 0, 0, 0)))

    # ---- bands versus pressure, one temperature at a time: the interpolated values of all
    # samples (S, G, K) are handed over in memory if small, else through a temporary Zarr array
    slab_bytes = 8.0 * S * G * K
    ok_one = da.from_array(np.ones((S, 1), bool), chunks=(S, 1))
    per_T = {name: [] for name in p_outputs}
    tmp_path = None
    try:
        for t in range(nT):
            it = interp[:, t]                                            # (S, G, K), block chunks
            if not ok[:, t].any():
                empty = np.full((nq + 2, 1, G), np.nan)
                empty[nq:] = 0.0
                for name in p_outputs:
                    per_T[name].append(empty)
                continue
            if slab_bytes <= mem / 4.0:
                src = it.rechunk((S, G, 1))
            else:
                import zarr

                if tmp_path is None:
                    parent = Path(tmp_dir) if tmp_dir is not None else Path(store_path).resolve().parent
                    tmp_path = Path(tempfile.mkdtemp(prefix=".crustuq-bands-", dir=parent))
                tgt = zarr.create_array(str(tmp_path / f"interp_{t}.zarr"), shape=(S, G, K),
                                        chunks=(min(B, S), G, 1), dtype="float64", fill_value=np.nan,
                                        compressors=None, zarr_format=3, overwrite=True)
                it.rechunk((Bc, G, 1)).store(tgt, lock=False)
                src = da.from_zarr(tgt, chunks=(S, _columns(8.0 * S, G, chunk_bytes), 1))
            # samples not at this T have NaN everywhere: no mask needed beyond finiteness
            res = dask.compute(*[bands_of(src[:, None, :, k], None, ok_one) for k in range(K)])
            for name, r in zip(p_outputs, res):
                per_T[name].append(r)
    finally:
        if tmp_path is not None:
            shutil.rmtree(tmp_path, ignore_errors=True)
    for name in p_outputs:
        results[f"{name}_vs_P"] = np.concatenate(per_T[name], axis=1)

    # ---- assemble
    n_status = results.pop("_status_passed").astype(np.int64)            # (codes, nT, N)
    n_computed = np.broadcast_to(computed.sum(axis=0)[:, None], (nT, N)).astype(np.int64)
    n_filter = np.broadcast_to((computed & ~passed[:, None]).sum(axis=0)[:, None], (nT, N)).astype(np.int64)
    n_good = sum(n_status[STATUS_CODES.index(c)] for c in GOOD_STATUS)
    n_not_conv = ok.sum(axis=0)[:, None] - n_good
    data = {}
    qdims, cdims, pdims = ("quantile", "T", "n_B"), ("T", "n_B"), ("quantile", "T", "P_grid")
    for name in OUTPUTS:
        r = results[name]
        unit = OUTPUT_UNITS[name]
        data[name] = (qdims, r[:nq], {"units": unit, "long_name": f"quantiles of {name} over samples"})
        n_inc = np.rint(r[nq]).astype(np.int64)
        data[f"n_included_{name}"] = (cdims, n_inc)
        data[f"n_undefined_{name}"] = (cdims, (n_good - n_inc).astype(np.int64),
                                       {"long_name": f"good status but {name} is NaN"})
        data[f"ess_{name}"] = (cdims, r[nq + 1], {"long_name": "effective sample size (sum w)^2/sum w^2"})
    for name in p_outputs:
        r = results[f"{name}_vs_P"]
        unit = "fm^-3" if name == "n_B" else OUTPUT_UNITS[name]
        data[f"{name}_vs_P"] = (pdims, r[:nq], {"units": unit, "long_name": f"quantiles of {name} at fixed P"})
        data[f"n_included_vs_P_{name}"] = (("T", "P_grid"), np.rint(r[nq]).astype(np.int64))
    data["pressure"] = (("T", "P_grid"), grids, {"units": "MeV fm^-3", "long_name": "pressure grid"})
    data["n_computed"] = (cdims, np.array(n_computed), {"long_name": "samples in blocks done at this T"})
    data["n_excluded_filter"] = (cdims, np.array(n_filter))
    data["n_excluded_not_converged"] = (cdims, np.asarray(n_not_conv, np.int64),
                                        {"long_name": "filter passed, status not in GOOD_STATUS"})
    data["n_status"] = (("status_code",) + cdims, n_status, {"long_name": "status counts of filter-passing samples"})
    data["n_blocks_done"] = (("T",), done_blocks.sum(axis=0).astype(np.int64))
    data["weight"] = (("sample",), w, {"long_name": f"sample weight ({weights}), sum 1"})
    if chi2 is not None:
        data["chi2"] = (("sample",), chi2, {"long_name": "chi^2 against the chiral-EFT PNM band"})
    data["ess_T"] = (("T",), ess_T)
    attrs = {
        "quantiles": [float(v) for v in q],
        "weights": weights,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - t0, 3),
        "code_version": _package_version(),
        "source_config_hash": str(root.attrs.get("config_hash", "")),
        "good_status": list(GOOD_STATUS),
        "pressure_points": int(G),
        "pressure_grid": "per T: geomspace(min, max) of the included pressures; ln-P interpolation "
                         "between neighbouring included points, never extrapolated",
        "weighted_quantile": WEIGHTED_QUANTILE_DEFINITION,
        "memory_mb": float(memory_mb),
        "n_samples": S,
        "ess": ess_all,
    }
    if weights == "chiral-eft":
        attrs["chiral_eft_band"] = "Drischler et al. 2020 PNM, N3LO mean and 1-sigma (2020-MBPT-NM.csv)"
        attrs["chiral_eft_density_range_fm3"] = list(CHIRAL_EFT_DENSITY_RANGE_FM3)
    coords = {"quantile": ("quantile", q), "T": ("T", T, {"units": "MeV"}),
              "n_B": ("n_B", nB, {"units": "fm^-3"}), "P_grid": ("P_grid", np.arange(G)),
              "status_code": ("status_code", np.array(STATUS_CODES, np.int64)),
              "sample": ("sample", np.arange(S))}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def summary(ds, store_path=None) -> dict:
    """A short JSON-able summary of a bands dataset (counts per T)."""
    T = ds["T"].values
    out = {
        "store": None if store_path is None else str(store_path),
        "weights": ds.attrs.get("weights"),
        "quantiles": list(ds.attrs.get("quantiles", ds["quantile"].values.tolist())),
        "T_MeV": [float(t) for t in T],
        "blocks_done": [int(v) for v in ds["n_blocks_done"].values],
        "samples_computed": [int(v) for v in ds["n_computed"].values[:, 0]],
        "samples_excluded_filter": [int(v) for v in ds["n_excluded_filter"].values[:, 0]],
        "points_excluded_not_converged": [int(v) for v in ds["n_excluded_not_converged"].values.sum(axis=1)],
        "points_included_P": [int(v) for v in ds["n_included_P"].values.sum(axis=1)],
        "points_undefined_Z": [int(v) for v in ds["n_undefined_Z"].values.sum(axis=1)],
        "ess": float(ds.attrs["ess"]),
        "seconds": ds.attrs.get("seconds"),
    }
    return out


def compute_bands(store_path, *, quantiles=DEFAULT_QUANTILES, weights: str = "none",
                  pressure_points: int = DEFAULT_PRESSURE_POINTS, overwrite: bool = False,
                  memory_mb: float = DEFAULT_MEMORY_MB, tmp_dir=None) -> dict:
    """Compute the bands (:func:`band_dataset`) and write them into the ``bands`` group of the
    store; returns :func:`summary`. Refuses (one-line ValueError, nothing written) bad options,
    a missing store, a store without a completed block, or an existing ``bands`` group unless
    ``overwrite`` (the old group is replaced only once the new bands are computed)."""
    validate_band_options(quantiles, weights, pressure_points)
    check_store(store_path, refuse_bands=not overwrite)
    ds = band_dataset(store_path, quantiles=quantiles, weights=weights, pressure_points=pressure_points,
                      memory_mb=memory_mb, tmp_dir=tmp_dir)
    from crustuq.sweep.store import open_group

    root = open_group(store_path, "r+")
    if BANDS_GROUP in root.group_keys():
        if not overwrite:  # appeared meanwhile
            raise ValueError(f"store {str(store_path)!r}: already has a '{BANDS_GROUP}' group "
                             "(pass overwrite=True / --overwrite to replace it)")
        del root[BANDS_GROUP]
    ds.to_zarr(str(store_path), group=BANDS_GROUP, mode="w-", zarr_format=3, consolidated=False)
    return summary(ds, store_path)


__all__ = ["weighted_quantile", "effective_sample_size", "chiral_eft_chi2", "chiral_eft_weights",
           "chiral_eft_band_points", "interpolate_to_pressure", "band_dataset", "compute_bands",
           "open_bands", "has_bands", "check_store", "summary", "validate_band_options", "GOOD_STATUS",
           "DEFAULT_QUANTILES", "WEIGHT_CHOICES", "CHIRAL_EFT_DENSITY_RANGE_FM3", "BANDS_GROUP"]
