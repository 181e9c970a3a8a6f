"""The two kinds of Dask task of a sweep. Each writes its own whole Zarr chunks, then its done
mark; results never pass through the client (tasks return a few counts and timings).

* :func:`prepare_block`: the inputs of block b (bulk and surface parameters, filter codes),
  chunk b of the per-sample arrays, then ``prep_done[b]``;
* :func:`crust_block`: the crust of the samples of block b that passed the filters (or all of
  them with ``filters.compute_filtered``) at temperature index t, chunks [b, t, :] of every
  crust output, then ``done[b, t]``.

Both are idempotent: a task re-run after a worker died rewrites the same chunks with the same
numbers.
"""

from __future__ import annotations

import os
import time

import numpy as np

from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES, SurfaceParameters
from crustuq.models.crust import status as st
from crustuq.models.crust.profile import OUTPUTS, solve_crust
from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters
from crustuq.sweep.store import open_group, read_arrays, store_shape, write_arrays

_CONFIG_CACHE: dict = {}


def _config(config_json: str):
    """The validated configuration (cached per worker process)."""
    cfg = _CONFIG_CACHE.get(config_json)
    if cfg is None:
        import json

        from crustuq.sweep.config import parse_config

        cfg = parse_config(json.loads(config_json))
        _CONFIG_CACHE.clear()
        _CONFIG_CACHE[config_json] = cfg
    return cfg


def _single_thread() -> None:
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(k, "1")


def _open_block(config_json: str, store_path: str, b: int):
    """Start of a task: (start time, configuration, store group, store shape, sample slice of
    block b)."""
    _single_thread()
    t0 = time.perf_counter()
    cfg = _config(config_json)
    g = open_group(store_path, "r+")
    shape = store_shape(g)
    return t0, cfg, g, shape, shape.block_slice(b)


def prepare_block(config_json: str, store_path: str, b: int) -> dict:
    """Compute and write the inputs of block b; returns counts and the time taken."""
    from crustuq.sweep.samples import block_inputs

    t0, cfg, g, shape, sl = _open_block(config_json, store_path, b)
    t_model = time.perf_counter()
    inp = block_inputs(cfg, shape, b)          # samples, surface fits, filters: model time
    model_seconds = time.perf_counter() - t_model
    data = {f"param_{k}": (sl, inp.bulk[:, j]) for j, k in enumerate(PARAMETER_NAMES)}
    data.update({f"surface_{k}": (sl, inp.surface[:, j]) for j, k in enumerate(SURFACE_PARAMETER_NAMES)})
    data.update({"surface_fit_status": (sl, inp.surface_status), "surface_rms": (sl, inp.surface_rms),
                 "filter_passed": (sl, inp.passed), "filter_code": (sl, inp.filter_code)})
    write_arrays(store_path, data)
    seconds = time.perf_counter() - t0
    g["prep_seconds"][b:b + 1] = np.array([seconds])
    g["prep_done"][b:b + 1] = np.array([1], dtype=np.uint8)  # after the data
    return {"kind": "prep", "block": b, "seconds": seconds, "model_seconds": model_seconds,
            "passed": int(inp.passed.sum()), "n": int(sl.stop - sl.start)}


def crust_block(config_json: str, store_path: str, b: int, t: int, _after=None) -> dict:
    """Solve the crust of block b at temperature index t and write its chunks.

    ``_after`` is the result of the block's preparation task when it ran in the same sweep
    (a dependency only: the inputs are read back from the store)."""
    t0, cfg, g, shape, sl = _open_block(config_json, store_path, b)
    n = sl.stop - sl.start
    N = len(shape.n_B)
    T = float(shape.T[t])
    names = [f"param_{k}" for k in PARAMETER_NAMES] + [f"surface_{k}" for k in SURFACE_PARAMETER_NAMES]
    got = read_arrays(store_path, {k: sl for k in [*names, "filter_passed"]})
    bulk = np.stack([got[f"param_{k}"] for k in PARAMETER_NAMES], axis=-1)
    surf = np.stack([got[f"surface_{k}"] for k in SURFACE_PARAMETER_NAMES], axis=-1)
    passed = got["filter_passed"]
    todo = passed if not cfg.filters.compute_filtered else np.all(np.isfinite(surf), axis=1) & \
        np.all(np.isfinite(bulk), axis=1)
    values = {k: np.full((n, 1, N), np.nan) for k in OUTPUTS}
    status = np.full((n, 1, N), st.INVALID, dtype=np.int8)
    layer = np.full((n, 1, N), -1, dtype=np.int8)
    residual = np.full((n, 1, N), np.nan)
    trans = {k: np.full((n, 1), np.nan) for k in ("n_t", "P_t", "n_core")}
    rows = np.nonzero(todo)[0]
    solve_seconds = 0.0
    if rows.size:
        try:
            params = EmpiricalParameters.from_array(bulk[rows])
            surface = SurfaceParameters.from_array(surf[rows])
        except ValueError:
            params = None
        if params is not None:
            t_solve = time.perf_counter()
            res = solve_crust(shape.n_B, [T], params, surface, cfg.model.crust_options())
            solve_seconds = time.perf_counter() - t_solve
            for k in OUTPUTS:
                values[k][rows] = res[k]
            status[rows] = res.status
            layer[rows] = res.layer
            residual[rows] = res.residual
            trans["n_t"][rows], trans["P_t"][rows], trans["n_core"][rows] = res.n_t, res.P_t, res.n_core
    cell = (sl, slice(t, t + 1), slice(None))
    data = {k: (cell, values[k]) for k in OUTPUTS}
    data.update({"status": (cell, status), "layer": (cell, layer), "residual": (cell, residual)})
    data.update({k: ((sl, slice(t, t + 1)), v) for k, v in trans.items()})
    write_arrays(store_path, data)
    seconds = time.perf_counter() - t0
    g["task_seconds"][b:b + 1, t:t + 1] = np.array([[seconds]])
    g["done"][b:b + 1, t:t + 1] = np.array([[1]], dtype=np.uint8)  # after the data
    counts = np.bincount(status.ravel(), minlength=6) if status.size else np.zeros(6)
    return {"kind": "crust", "block": b, "t": t, "seconds": seconds, "solve_seconds": solve_seconds,
            "points": int(rows.size * N),
            "status_counts": {st.STATUS_NAMES[k]: int(c) for k, c in enumerate(counts) if c and k in st.STATUS_NAMES}}
