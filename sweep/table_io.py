"""Writing result tables (CSV or Zarr) without ever overwriting or half-writing a file.

* The output folder must exist; an existing output is refused unless ``overwrite``.
* CSV: written to a temporary file in the same folder, then moved into place.
* Zarr: an :class:`xarray.Dataset` written as a Zarr v3 store (dimension names on every
  array, so ``xarray.open_zarr`` reads it back) into a temporary folder, then renamed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def output_format(path: str | os.PathLike, option: str = "--out") -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".zarr":
        return "zarr"
    raise ValueError(f"{option}={str(path)!r}: the file name must end in .csv or .zarr")


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False, option: str = "--out",
                      formats: tuple[str, ...] = (".csv", ".zarr")) -> Path:
    """Validate an output path before any computation: known format (suffix in ``formats``),
    existing folder, no existing file (unless ``overwrite``)."""
    path = Path(path)
    if path.suffix.lower() not in formats:
        raise ValueError(f"{option}={str(path)!r}: the file name must end in {' or '.join(formats)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{option}={str(path)!r}: folder {str(parent)!r} does not exist")
    if path.exists() and not overwrite:
        raise ValueError(f"{option}={str(path)!r}: already exists (pass --overwrite to replace it)")
    return path


def write_csv(path: str | os.PathLike, columns: dict[str, np.ndarray], *, overwrite: bool = False) -> Path:
    """Write equal-length 1-D columns to CSV with a header row of the column names.
    Floats are written with 12 significant digits, integers and strings as they are."""
    path = check_output_path(path, overwrite=overwrite)
    names = list(columns)
    cols = []
    length = None
    for k in names:
        col = np.asarray(columns[k]).ravel()
        if length is None:
            length = col.size
        elif col.size != length:
            raise ValueError(f"column {k!r} has {col.size} rows, expected {length}")
        if col.dtype.kind == "f":
            cols.append(np.char.mod("%.12g", col))
        else:
            cols.append(col.astype(str))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(",".join(names) + "\n")
            if length:
                rows = cols[0]
                for c in cols[1:]:
                    rows = np.char.add(np.char.add(rows, ","), c)
                fh.write("\n".join(rows.tolist()) + "\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_zarr(path: str | os.PathLike, dataset, *, overwrite: bool = False) -> Path:
    """Write an xarray Dataset as a Zarr v3 store (dimension names included)."""
    path = check_output_path(path, overwrite=overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", suffix=".zarr", dir=path.parent))
    try:
        shutil.rmtree(tmp)
        dataset.to_zarr(tmp, mode="w-", zarr_format=3, consolidated=False)
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
