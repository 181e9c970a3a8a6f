"""Layout of a sweep store: one Zarr v3 group that ``xarray.open_zarr`` opens directly.

Dimensions: ``sample`` (n_samples), ``T`` (temperatures, MeV), ``n_B`` (densities, fm^-3),
``block`` (blocks of ``block_size`` consecutive samples).

Variables (every array carries ``dimension_names``):

* crust outputs ``Z, A_cl, A_cell, I, n_cl, n_g, r_N, r_WS, u, Y_e, P, F_per_A, mu_n, mu_e,
  S_per_A`` (float64, dims (sample, T, n_B)), ``status`` and ``layer`` (int8, same dims; codes in
  the attributes ``status_codes``/``layer_codes``), ``residual`` (MeV);
* transition ``n_t``, ``P_t``, ``n_core`` (sample, T);
* per-sample inputs ``param_<name>`` for the 13 bulk parameters and ``surface_<name>`` for the 5
  surface parameters, ``surface_fit_status`` (int8) and ``surface_rms`` (MeV), the filter outcome
  ``filter_passed`` (bool) and ``filter_code`` (int16; 0 = passed, meanings in the attribute
  ``filter_codes``) (all dims (sample,));
* bookkeeping ``prep_done`` (block,), ``done`` (block, T) (uint8: 1 once the block's data are
  written) and ``task_seconds`` (block, T), ``prep_seconds`` (block,).

Chunks: a block of samples is one chunk along ``sample``, one temperature one chunk along ``T``,
the whole density grid one chunk along ``n_B``. The task computing (block b, temperature t)
writes exactly the chunks [b, t, :] of every crust output and then chunk (b, t) of ``done``;
the preparation task of block b writes chunk b of the per-sample arrays and of ``prep_done``.
No two tasks ever write the same chunk, and chunks equal to the fill value are not stored, so
``done`` (not the data) says what has been computed.

Group attributes: ``crustuq_config`` (the validated configuration, JSON), ``config_hash``,
``package_versions``, ``code_version``, ``created``, ``block_size``, ``n_blocks``, units.
The ``bands`` sub-group is written by ``crustuq bands``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES
from crustuq.models.crust.profile import OUTPUT_UNITS, OUTPUTS
from crustuq.models.crust.status import LAYER_NAMES, STATUS_NAMES
from crustuq.models.matter.parameters import PARAMETER_NAMES, PARAMETER_UNITS

#: float fill value of crust outputs never computed (the done mask says which)
FILL = np.nan
STATUS_FILL = -1  #: status of a point not computed yet


@dataclass(frozen=True)
class StoreShape:
    n_samples: int
    T: np.ndarray
    n_B: np.ndarray
    block_size: int

    @property
    def n_blocks(self) -> int:
        return -(-self.n_samples // self.block_size)

    def block_slice(self, b: int) -> slice:
        return slice(b * self.block_size, min((b + 1) * self.block_size, self.n_samples))


def _array(group, name, shape, chunks, dtype, dims, fill, attrs=None):
    arr = group.create_array(name, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                             dimension_names=dims, overwrite=False)
    if attrs:
        arr.attrs.update(attrs)
    return arr


def create_store(path, shape: StoreShape, attrs: dict, *, filter_codes: dict[int, str]):
    """Create the (empty) store with every array and coordinate; fails if ``path`` exists."""
    import zarr

    S, nT, N, B = shape.n_samples, len(shape.T), len(shape.n_B), shape.block_size
    root = zarr.open_group(str(path), mode="w-", zarr_format=3)
    # coordinates
    _array(root, "sample", (S,), (B,), "int64", ("sample",), 0)[:] = np.arange(S)
    _array(root, "T", (nT,), (nT,), "float64", ("T",), 0.0, {"units": "MeV"})[:] = np.asarray(shape.T)
    _array(root, "n_B", (N,), (N,), "float64", ("n_B",), 0.0, {"units": "fm^-3"})[:] = np.asarray(shape.n_B)
    _array(root, "block", (shape.n_blocks,), (shape.n_blocks,), "int64", ("block",), 0)[:] = np.arange(shape.n_blocks)
    # crust outputs
    dims3 = ("sample", "T", "n_B")
    ch3 = (B, 1, N)
    for k in OUTPUTS:
        _array(root, k, (S, nT, N), ch3, "float64", dims3, FILL, {"units": OUTPUT_UNITS[k]})
    _array(root, "residual", (S, nT, N), ch3, "float64", dims3, FILL, {"units": "MeV"})
    _array(root, "status", (S, nT, N), ch3, "int8", dims3, STATUS_FILL,
           {"flag_values": list(STATUS_NAMES), "flag_meanings": " ".join(STATUS_NAMES.values())})
    _array(root, "layer", (S, nT, N), ch3, "int8", dims3, -1,
           {"flag_values": list(LAYER_NAMES), "flag_meanings": " ".join(LAYER_NAMES.values())})
    for k, unit in (("n_t", "fm^-3"), ("P_t", "MeV fm^-3"), ("n_core", "fm^-3")):
        _array(root, k, (S, nT), (B, 1), "float64", ("sample", "T"), FILL, {"units": unit})
    # per-sample inputs and filters
    for k in PARAMETER_NAMES:
        _array(root, f"param_{k}", (S,), (B,), "float64", ("sample",), FILL, {"units": PARAMETER_UNITS[k]})
    for k in SURFACE_PARAMETER_NAMES:
        _array(root, f"surface_{k}", (S,), (B,), "float64", ("sample",), FILL)
    _array(root, "surface_fit_status", (S,), (B,), "int8", ("sample",), -1)
    _array(root, "surface_rms", (S,), (B,), "float64", ("sample",), FILL, {"units": "MeV"})
    _array(root, "filter_passed", (S,), (B,), "bool", ("sample",), False)
    _array(root, "filter_code", (S,), (B,), "int16", ("sample",), -1)
    # bookkeeping
    _array(root, "prep_done", (shape.n_blocks,), (1,), "uint8", ("block",), 0)
    _array(root, "prep_seconds", (shape.n_blocks,), (1,), "float64", ("block",), 0.0, {"units": "s"})
    _array(root, "done", (shape.n_blocks, nT), (1, 1), "uint8", ("block", "T"), 0)
    _array(root, "task_seconds", (shape.n_blocks, nT), (1, 1), "float64", ("block", "T"), 0.0, {"units": "s"})
    meta = dict(attrs)
    meta.update({
        "block_size": B, "n_blocks": shape.n_blocks, "n_samples": S,
        "status_codes": {str(k): v for k, v in STATUS_NAMES.items()},
        "layer_codes": {str(k): v for k, v in LAYER_NAMES.items()},
        "filter_codes": {str(k): v for k, v in filter_codes.items()},
    })
    root.update_attributes(meta)
    return root


def open_group(path, mode: str = "r"):
    import zarr

    return zarr.open_group(str(path), mode=mode, zarr_format=3)


def _gather(path, mode: str, ops: dict) -> dict:
    """Run array reads/writes on one store concurrently (zarr's asynchronous API): a task's ~40
    small chunk operations take ~10 ms instead of ~1 ms each one after the other. ``ops`` maps
    an array name to ``(selection, value)`` (write) or ``(selection, None)`` (read)."""
    import asyncio

    import zarr.api.asynchronous as za

    async def one(group, name, sel, value):
        arr = await group.getitem(name)
        if value is None:
            return name, await arr.getitem(sel)
        await arr.setitem(sel, value)
        return name, None

    async def run():
        group = await za.open_group(store=str(path), mode=mode, zarr_format=3)
        done = await asyncio.gather(*(one(group, k, sel, v) for k, (sel, v) in ops.items()))
        return {k: v for k, v in done if v is not None}

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread (Dask task threads, scripts): concurrent
        return asyncio.run(run())
    group = open_group(path, mode)  # inside a running loop (e.g. a notebook cell): one by one
    out = {}
    for k, (sel, v) in ops.items():
        if v is None:
            out[k] = group[k][sel]
        else:
            group[k][sel] = v
    return out


def read_arrays(path, selections: dict) -> dict[str, np.ndarray]:
    """``{name: array[selection]}`` for several arrays of the store at once."""
    return _gather(path, "r", {k: (sel, None) for k, sel in selections.items()})


def write_arrays(path, writes: dict) -> None:
    """Write ``{name: (selection, value)}`` into several arrays of the store at once. Callers
    write their data first and their done mark in a later call (a crash between the two leaves
    the mark unset, so the task is redone)."""
    for k, (_, v) in writes.items():
        if v is None:
            raise ValueError(f"write_arrays: value for {k!r} is None")
    _gather(path, "r+", writes)


def open_sweep_group(path, label: str, mode: str = "r"):
    """The root group of an existing sweep store; ``label`` names the input in the one-line
    error (e.g. ``"STORE='x.zarr'"``) when ``path`` is missing or not a crustuq sweep store."""
    from pathlib import Path

    if not (Path(path) / "zarr.json").exists():
        raise ValueError(f"{label}: not found or not a sweep store")
    g = open_group(path, mode)
    if "crustuq_config" not in g.attrs:
        raise ValueError(f"{label}: not a crustuq sweep store")
    return g


def store_shape(group) -> StoreShape:
    a = group.attrs
    return StoreShape(n_samples=int(a["n_samples"]), T=group["T"][:], n_B=group["n_B"][:],
                      block_size=int(a["block_size"]))


def open_store(path):
    """The sweep store as an :class:`xarray.Dataset` (lazy, dask-backed)."""
    import xarray as xr

    ds = xr.open_zarr(str(path), consolidated=False)
    cfg = ds.attrs.get("crustuq_config")
    if isinstance(cfg, str):
        try:
            ds.attrs["config"] = json.loads(cfg)
        except ValueError:  # pragma: no cover
            pass
    return ds


__all__ = ["StoreShape", "create_store", "open_group", "open_store", "store_shape", "FILL", "STATUS_FILL"]
