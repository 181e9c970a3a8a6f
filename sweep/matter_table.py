"""The ``crustuq matter`` job: a meta-model table over (T, delta, n_B) for one parameter set.

Columns (CSV) / variables (Zarr): ``n_B`` [fm^-3], ``delta``, ``T`` [MeV], ``F_per_A`` [MeV,
free energy per nucleon without rest mass], ``P`` [MeV fm^-3], ``mu_n``, ``mu_p`` [MeV,
including rest masses], ``S_per_A`` [k_B per nucleon].
"""

from __future__ import annotations

import numpy as np

from crustuq.models.matter.metamodel import MetaModel, state_from_nb_delta
from crustuq.models.matter.parameters import EmpiricalParameters

COLUMNS = ("n_B", "delta", "T", "F_per_A", "P", "mu_n", "mu_p", "S_per_A")


def validate_grid(n_B: np.ndarray, delta: np.ndarray, T: np.ndarray) -> None:
    """One-line errors for out-of-range grids (nothing is computed or written)."""
    n_B, delta, T = (np.asarray(a, dtype=float) for a in (n_B, delta, T))
    if n_B.size == 0 or np.any(~(n_B > 0)) or np.any(~np.isfinite(n_B)):
        bad = n_B[~(n_B > 0)] if n_B.size else n_B
        raise ValueError(f"--nb: n_B={bad.ravel()[0] if bad.size else 'empty'} fm^-3; densities must be > 0 fm^-3")
    if np.any(n_B > 2.0):
        raise ValueError(f"--nb: n_B={n_B.max():g} fm^-3; the meta-model is not meant above 2 fm^-3")
    if delta.size == 0 or np.any(np.abs(delta) > 1):
        bad = delta[np.abs(delta) > 1] if delta.size else delta
        raise ValueError(f"--delta: delta={bad.ravel()[0] if bad.size else 'empty'}; asymmetry must lie in [-1, 1]")
    if T.size == 0 or np.any(T < 0):
        bad = T[T < 0] if T.size else T
        raise ValueError(f"--T: T={bad.ravel()[0] if bad.size else 'empty'} MeV; temperatures must be >= 0 MeV")
    if np.any(T > 100):
        raise ValueError(f"--T: T={T.max():g} MeV; temperatures must be <= 100 MeV")


def matter_table(params: EmpiricalParameters, n_B, delta, T, *, order: int = 4):
    """Compute the table as an :class:`xarray.Dataset` with dims (T, delta, n_B)."""
    import xarray as xr

    n_B, delta, T = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (n_B, delta, T))
    validate_grid(n_B, delta, T)
    mm = MetaModel.from_parameters(params, order=order)
    TT, DD, NN = np.meshgrid(T, delta, n_B, indexing="ij")
    st = state_from_nb_delta(mm, NN, DD, TT)
    dims = ("T", "delta", "n_B")
    ds = xr.Dataset(
        {
            "F_per_A": (dims, st.F_per_A, {"units": "MeV", "long_name": "free energy per nucleon, rest mass excluded"}),
            "P": (dims, st.P, {"units": "MeV fm^-3", "long_name": "pressure"}),
            "mu_n": (dims, st.mu_n, {"units": "MeV", "long_name": "neutron chemical potential, rest mass included"}),
            "mu_p": (dims, st.mu_p, {"units": "MeV", "long_name": "proton chemical potential, rest mass included"}),
            "S_per_A": (dims, st.S_per_A, {"units": "1", "long_name": "entropy per nucleon (k_B = 1)"}),
        },
        coords={"T": ("T", T, {"units": "MeV"}), "delta": ("delta", delta), "n_B": ("n_B", n_B, {"units": "fm^-3"})},
        attrs={"parameter_set": params.name, "meta_model": f"ELFc N={order}",
               **{f"param_{k}": float(v) for k, v in params.as_dict().items()}},
    )
    return ds


def table_columns(ds) -> dict[str, np.ndarray]:
    """Flatten the dataset to the CSV columns (n_B fastest, then delta, then T)."""
    TT, DD, NN = np.meshgrid(ds["T"].values, ds["delta"].values, ds["n_B"].values, indexing="ij")
    return {
        "n_B": NN.ravel(), "delta": DD.ravel(), "T": TT.ravel(),
        "F_per_A": ds["F_per_A"].values.ravel(), "P": ds["P"].values.ravel(),
        "mu_n": ds["mu_n"].values.ravel(), "mu_p": ds["mu_p"].values.ravel(),
        "S_per_A": ds["S_per_A"].values.ravel(),
    }
