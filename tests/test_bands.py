"""Bands of a sweep store: weighted quantiles, exclusions and counts, pressure bands,
chiral-EFT importance weights, the ``bands`` group and the command line.

Every expected number is recomputed here from the planted synthetic data with numpy alone
(``np.quantile``, ``np.interp``, a direct loop over the documented weighted-quantile definition).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from _bands_store import included, make_store
from crustuq.models.crust.profile import OUTPUTS
from crustuq.sweep import bands as bd
from crustuq.sweep.cli import main

Q = np.array(bd.DEFAULT_QUANTILES)
GOOD = (0, 2, 3)


# ---------------------------------------------------------------------------------------
# independent reference computations
# ---------------------------------------------------------------------------------------
def direct_weighted_quantile(x, w, q):
    """The documented definition, column by column: midpoints M_i = C_i - w_i/2 of the sorted
    values, linear interpolation at M_1 + q (M_n - M_1)."""
    keep = np.isfinite(x) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        return np.full(np.shape(q), np.nan)
    o = np.argsort(x, kind="stable")
    x, w = x[o], w[o]
    M = np.cumsum(w) - 0.5 * w
    return np.interp(M[0] + np.asarray(q) * (M[-1] - M[0]), M, x)


def expected_bands(truth, name, q=Q, weights=None):
    inc = included(truth, name)
    v = truth["values"][name]
    S, nT, N = v.shape
    out = np.full((len(q), nT, N), np.nan)
    for t in range(nT):
        for j in range(N):
            m = inc[:, t, j]
            if m.any():
                if weights is None:
                    out[:, t, j] = np.quantile(v[m, t, j], q)
                else:
                    out[:, t, j] = direct_weighted_quantile(v[m, t, j], weights[m], q)
    return out


def direct_values_at_pressure(truth, name, t, grid):
    """Each sample's value at the grid pressures: np.interp in ln P between two neighbouring
    included points of the sample (P increases with n_B in the synthetic store), the value
    itself at an included point whose pressure equals a grid pressure, NaN otherwise."""
    incP = included(truth, "P")[:, t]
    P = truth["values"]["P"][:, t]
    if name == "n_B":
        x = np.broadcast_to(truth["n_B"], P.shape)
    else:
        x = truth["values"][name][:, t]
    incx = incP & np.isfinite(x)
    S, N = P.shape
    out = np.full((S, grid.size), np.nan)
    lg = np.log(grid)
    for s in range(S):
        for j in range(N - 1):
            if incx[s, j] and incx[s, j + 1]:
                m = (grid > P[s, j]) & (grid < P[s, j + 1])
                out[s, m] = np.interp(lg[m], np.log(P[s, j:j + 2]), x[s, j:j + 2])
        for j in range(N):
            if incx[s, j]:
                out[s, grid == P[s, j]] = x[s, j]
    return out


def chi2_direct(params):
    from crustuq.models.matter.metamodel import MetaModel
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.models.tables.matter_tables import load_chiral_eft_band

    band = load_chiral_eft_band("NM")
    sel = (band.n_fm3 > 0.05 - 1e-6) & (band.n_fm3 < 0.16 + 1e-6)
    n, e, s = band.n_fm3[sel], band.e_per_particle_MeV[sel], band.sigma_MeV[sel]
    assert n.size == 23 and abs(n[0] - 0.05) < 1e-9 and abs(n[-1] - 0.16) < 1e-9
    out = []
    for row in params:
        mm = MetaModel.from_parameters(EmpiricalParameters.from_array(row))
        E = np.array([float(mm.energy_per_nucleon(ni, 1.0)) for ni in n])
        out.append(np.sum(((E - e) / s) ** 2))
    return np.array(out)


def tree_snapshot(path):
    snap = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            st_ = os.stat(p)
            snap[p] = (st_.st_size, st_.st_mtime_ns)
    return snap


# ---------------------------------------------------------------------------------------
# weighted quantiles
# ---------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9),
                    elements=st.floats(-1e6, 1e6, allow_nan=False)),
       q=st.lists(st.floats(0, 1), min_size=1, max_size=6), axis_pick=st.integers(0, 2),
       scale=st.floats(1e-3, 1e3))
def test_equal_weights_is_numpy_exactly(x, q, axis_pick, scale):
    axis = axis_pick % x.ndim
    expected = np.quantile(x, np.array(q), axis=axis)
    np.testing.assert_array_equal(bd.weighted_quantile(x, q, axis=axis), expected)
    w = np.full(x.shape[axis], scale)
    np.testing.assert_array_equal(bd.weighted_quantile(x, q, w, axis=axis), expected)


def test_masked_columns_are_numpy_of_included_values():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 7))
    mask = rng.random((40, 7)) > 0.4
    x[rng.random((40, 7)) > 0.9] = np.nan          # NaN entries are left out as well
    mask[:, 6] = False                             # an empty column -> NaN
    mask[:, 5] = False
    mask[11, 5] = True                             # a single value
    got = bd.weighted_quantile(x, Q, mask=mask)
    for j in range(7):
        m = mask[:, j] & np.isfinite(x[:, j])
        exp = np.quantile(x[m, j], Q) if m.any() else np.full(Q.size, np.nan)
        np.testing.assert_array_equal(got[:, j], exp)


def test_unequal_weights_against_direct_definition():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(57, 5))
    w = rng.exponential(size=57)
    w[3] = 0.0                                       # zero weight = left out
    q = np.linspace(0, 1, 23)
    got = bd.weighted_quantile(x, q, w)
    for j in range(5):
        np.testing.assert_allclose(got[:, j], direct_weighted_quantile(x[:, j], w, q), rtol=1e-12, atol=1e-14)
    # a hand-computed value: x = 1, 2, 3 with w = 1, 1, 10: M = 0.5, 1.5, 7; target 3.75 -> 2 + 2.25/5.5
    hand = bd.weighted_quantile(np.array([3.0, 1.0, 2.0]), 0.5, np.array([10.0, 1.0, 1.0]))
    assert hand == pytest.approx(53 / 22, rel=1e-15)
    # properties: extremes, symmetry, scale invariance, monotonicity in q
    np.testing.assert_allclose(got[0], np.delete(x, 3, axis=0).min(axis=0), rtol=0, atol=0)
    np.testing.assert_allclose(got[-1], np.delete(x, 3, axis=0).max(axis=0), rtol=1e-15)
    np.testing.assert_allclose(bd.weighted_quantile(-x, 1 - q, w), -got, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bd.weighted_quantile(x, q, 7.5 * w), got, rtol=1e-12, atol=1e-14)
    assert np.all(np.diff(got, axis=0) >= -1e-14)
    # the unequal-weight branch reduces to type 7 as the weights become equal
    near = 1.0 + 1e-12 * rng.random(57)
    np.testing.assert_allclose(bd.weighted_quantile(x, q, near), np.quantile(x, q, axis=0), rtol=1e-9, atol=1e-12)


def test_weighted_quantile_bad_input():
    with pytest.raises(ValueError, match="quantiles must lie in"):
        bd.weighted_quantile(np.arange(5.0), 1.5)
    with pytest.raises(ValueError, match="weights: must be finite and >= 0"):
        bd.weighted_quantile(np.arange(5.0), 0.5, np.array([1, 1, -1, 1, 1.0]))


def test_interpolation_skips_falling_pressure_and_gaps():
    # P rises 1 -> 4, falls to 2, rises to 8; a gap (excluded point) between 8 and 16
    P = np.array([[1.0, 4.0, 2.0, 8.0, 9.0, 16.0]])
    x = np.array([[10.0, 40.0, 20.0, 80.0, 90.0, 160.0]])
    use = np.array([[True, True, True, True, False, True]])
    grid = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0])
    got = bd.interpolate_to_pressure(P, x[:, :, None], use, grid)[0, :, 0]
    lin = lambda p, a, b, fa, fb: fa + (np.log(p) - np.log(a)) / (np.log(b) - np.log(a)) * (fb - fa)  # noqa: E731
    expected = [np.nan, 10.0, lin(2, 1, 4, 10, 40), lin(3, 1, 4, 10, 40), 40.0,
                lin(6, 2, 8, 20, 80),   # first rise through 6 is the segment 2 -> 8
                80.0, np.nan,           # 12 lies in the gap next to the excluded point
                160.0, np.nan]          # never extrapolated
    np.testing.assert_allclose(got, expected, rtol=1e-13)


# ---------------------------------------------------------------------------------------
# bands of a synthetic store
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("bands") / "sweep.zarr"
    truth = make_store(path)
    summary = bd.compute_bands(path, pressure_points=40)
    return path, truth, summary


def test_bands_equal_numpy_quantiles_of_included_values(store):
    path, truth, _ = store
    ds = bd.open_bands(path).load()
    np.testing.assert_array_equal(ds["quantile"].values, Q)
    np.testing.assert_array_equal(ds["T"].values, truth["T"])
    for name in OUTPUTS:
        assert ds[name].dims == ("quantile", "T", "n_B")
        np.testing.assert_array_equal(ds[name].values, expected_bands(truth, name), err_msg=name)
    # nothing absurd leaked in from failed points, filter failures or undone blocks
    assert np.nanmax(np.abs(ds["Z"].values)) < 1e3


def test_counts(store):
    path, truth, summary = store
    ds = bd.open_bands(path).load()
    st_ = truth["status"]
    comp = truth["computed"][:, :, None]
    passed = truth["passed"][:, None, None]
    good = np.isin(st_, GOOD)
    n_comp = np.broadcast_to(comp, st_.shape).sum(axis=0)
    np.testing.assert_array_equal(ds["n_computed"].values, n_comp)
    np.testing.assert_array_equal(ds["n_excluded_filter"].values,
                                  np.broadcast_to(comp & ~passed, st_.shape).sum(axis=0))
    np.testing.assert_array_equal(ds["n_excluded_not_converged"].values, (comp & passed & ~good).sum(axis=0))
    for c in (-1, 0, 1, 2, 3, 4, 5):
        np.testing.assert_array_equal(ds["n_status"].sel(status_code=c).values,
                                      (comp & passed & (st_ == c)).sum(axis=0))
    for name in OUTPUTS:
        inc = included(truth, name)
        undef = comp & passed & good & ~np.isfinite(truth["values"][name])
        np.testing.assert_array_equal(ds[f"n_included_{name}"].values, inc.sum(axis=0))
        np.testing.assert_array_equal(ds[f"n_undefined_{name}"].values, undef.sum(axis=0))
        total = (ds["n_excluded_filter"] + ds["n_excluded_not_converged"] + ds[f"n_undefined_{name}"]
                 + ds[f"n_included_{name}"])
        np.testing.assert_array_equal(total.values, ds["n_computed"].values)
        np.testing.assert_allclose(ds[f"ess_{name}"].values, inc.sum(axis=0))
    # the core makes Z undefined, not failed; the planted NaN n_g too
    assert ds["n_undefined_Z"].values.sum() == (comp & passed & truth["core"] & good).sum()
    assert ds["n_undefined_n_g"].values.sum() == (comp & passed & truth["undefined_ng"]).sum() > 0
    assert ds["n_status"].sel(status_code=-1).values.sum() == 1
    np.testing.assert_array_equal(ds["n_blocks_done"].values, truth["done"].sum(axis=0))
    assert summary["blocks_done"] == truth["done"].sum(axis=0).tolist()
    assert summary["samples_computed"] == truth["computed"].sum(axis=0).tolist()


def test_pressure_bands_against_direct_interpolation(store):
    path, truth, _ = store
    ds = bd.open_bands(path).load()
    incP = included(truth, "P")
    P = truth["values"]["P"]
    for t in range(truth["T"].size):
        grid = ds["pressure"].values[t]
        pt = P[:, t][incP[:, t]]
        np.testing.assert_allclose(grid, np.geomspace(pt.min(), pt.max(), 40), rtol=1e-13)
        assert grid[0] == pt.min() and grid[-1] == pt.max()
        for name in [k for k in OUTPUTS if k != "P"] + ["n_B"]:
            vals = direct_values_at_pressure(truth, name, t, grid)
            defined = np.isfinite(vals)
            np.testing.assert_array_equal(ds[f"n_included_vs_P_{name}"].values[t], defined.sum(axis=0))
            exp = np.full((Q.size, grid.size), np.nan)
            for g in range(grid.size):
                if defined[:, g].any():
                    exp[:, g] = np.quantile(vals[defined[:, g], g], Q)
            np.testing.assert_allclose(ds[f"{name}_vs_P"].values[:, t], exp, rtol=1e-12, atol=1e-300,
                                       err_msg=f"{name} at T index {t}")


def test_bands_group_layout(store):
    import xarray as xr
    import zarr

    path, truth, _ = store
    g = zarr.open_group(str(path), mode="r")["bands"]
    for name, arr in g.arrays():
        assert arr.metadata.dimension_names is not None and None not in arr.metadata.dimension_names, name
    ds = xr.open_zarr(str(path), group="bands", consolidated=False)
    assert ds.attrs["quantiles"] == list(Q) and ds.attrs["weights"] == "none"
    assert "created" in ds.attrs and ds.attrs["good_status"] == [0, 2, 3]
    assert ds["pressure"].attrs["units"] == "MeV fm^-3"
    # the sweep store itself still opens as before (the bands group is not a variable of it)
    from crustuq.sweep.store import open_store

    assert "Z" in open_store(path) and "bands" not in open_store(path)


def test_low_memory_path_gives_the_same_numbers(tmp_path):
    """A tiny memory budget: several n_B chunks per T and the pressure stage through a
    temporary Zarr array (removed afterwards) -- still numpy's quantiles."""
    path = tmp_path / "s.zarr"
    truth = make_store(path, n_samples=40, block_size=8, T=(0.0, 2.0), n_points=9, seed=5)
    ds = bd.band_dataset(path, pressure_points=12, memory_mb=1e-3, tmp_dir=tmp_path)
    for name in ("Z", "P", "n_g", "Y_e"):
        np.testing.assert_array_equal(ds[name].values, expected_bands(truth, name), err_msg=name)
    for t in range(2):
        grid = ds["pressure"].values[t]
        vals = direct_values_at_pressure(truth, "A_cl", t, grid)
        exp = np.array([np.quantile(vals[np.isfinite(vals[:, g]), g], Q) if np.isfinite(vals[:, g]).any()
                        else np.full(Q.size, np.nan) for g in range(grid.size)]).T
        np.testing.assert_allclose(ds["A_cl_vs_P"].values[:, t], exp, rtol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]     # no temporary left


def test_temperature_without_done_block(tmp_path):
    path = tmp_path / "s.zarr"
    truth = make_store(path, n_samples=12, block_size=6, T=(0.0, 2.0), n_points=5, done_pattern="last T undone")
    ds = bd.band_dataset(path, pressure_points=6)
    assert ds["n_blocks_done"].values.tolist() == [2, 0]
    for name in ("Z", "P", "A_cl_vs_P", "n_B_vs_P"):
        assert np.all(np.isnan(ds[name].values[:, 1])) and np.isfinite(ds[name].values[:, 0]).any()
    np.testing.assert_array_equal(ds["P"].values[:, 0], expected_bands(truth, "P")[:, 0])
    assert np.all(ds["n_computed"].values[1] == 0) and np.all(ds["n_included_vs_P_Z"].values[1] == 0)
    assert np.all(np.isnan(ds["pressure"].values[1])) and ds["ess_T"].values[1] == 0
    assert not bd.has_bands(path)                                  # band_dataset writes nothing


# ---------------------------------------------------------------------------------------
# chiral-EFT importance weights
# ---------------------------------------------------------------------------------------
def test_chiral_eft_weights_favour_the_sample_near_the_band():
    from crustuq.models.matter.parameters import EmpiricalParameters

    bsk24 = EmpiricalParameters.named("BSk24")
    params = np.stack([bsk24.to_array(), bsk24.with_overrides(L_sym=120.0).to_array()])
    w, chi2 = bd.chiral_eft_weights(params)
    np.testing.assert_allclose(chi2, chi2_direct(params), rtol=1e-10)
    assert chi2[0] < chi2[1]
    assert w[0] > w[1] and w.sum() == pytest.approx(1.0)
    ess = bd.effective_sample_size(w)
    assert np.isfinite(ess) and 1.0 <= ess <= 2.0
    np.testing.assert_allclose(ess, w.sum() ** 2 / np.sum(w ** 2))


def test_chiral_eft_weighted_bands(tmp_path):
    path = tmp_path / "w.zarr"
    truth = make_store(path, n_samples=30, block_size=10, T=(0.0, 1.0), n_points=8, seed=7)
    summary = bd.compute_bands(path, weights="chiral-eft", pressure_points=10)
    ds = bd.open_bands(path).load()
    chi2 = chi2_direct(truth["params"])
    np.testing.assert_allclose(ds["chi2"].values, chi2, rtol=1e-10)
    w = np.where(truth["passed"], np.exp(-0.5 * (chi2 - chi2[truth["passed"]].min())), 0.0)
    w /= w.sum()
    np.testing.assert_allclose(ds["weight"].values, w, rtol=1e-9, atol=1e-300)
    ess = w.sum() ** 2 / np.sum(w ** 2)
    assert 2.0 < ess < truth["passed"].sum()                      # weights neither flat nor degenerate
    assert summary["ess"] == pytest.approx(ess, rel=1e-9)
    for name in ("Z", "A_cl", "P", "n_g"):
        np.testing.assert_allclose(ds[name].values, expected_bands(truth, name, weights=w), rtol=1e-9,
                                   err_msg=name)
    inc = included(truth, "A_cl")
    ww = np.where(inc, w[:, None, None], 0.0)
    np.testing.assert_allclose(ds["ess_A_cl"].values,
                               np.where(inc.any(0), ww.sum(0) ** 2 / np.maximum((ww ** 2).sum(0), 1e-300), 0.0),
                               rtol=1e-9)
    assert ds.attrs["weights"] == "chiral-eft" and ds.attrs["chiral_eft_density_range_fm3"] == [0.05, 0.16]


# ---------------------------------------------------------------------------------------
# refusals and the command line
# ---------------------------------------------------------------------------------------
def test_cli_bands_and_overwrite(tmp_path, capsys):
    path = tmp_path / "c.zarr"
    truth = make_store(path, n_samples=20, block_size=10, T=(0.0,), n_points=6, seed=2)
    assert main(["bands", str(path), "--quantiles", "10,50,90", "--pressure-points", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quantiles"] == [0.1, 0.5, 0.9]
    assert out["samples_excluded_filter"] == [int((~truth["passed"]).sum())]
    before = tree_snapshot(path)
    rc = main(["bands", str(path)])
    err = capsys.readouterr().err
    assert rc == 2 and "already has a 'bands' group" in err and err.count("\n") == 1
    assert tree_snapshot(path) == before
    assert main(["bands", str(path), "--overwrite"]) == 0
    capsys.readouterr()
    ds = bd.open_bands(path).load()
    np.testing.assert_array_equal(ds["quantile"].values, Q)
    np.testing.assert_array_equal(ds["Z"].values, expected_bands(truth, "Z"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quantiles", "0,50"], "--quantiles='0,50': 0 is outside (0, 100)"),
        (["--quantiles", "5,150"], "150 is outside (0, 100)"),
        (["--quantiles", "5,x"], "--quantiles='5,x': expected a comma-separated list"),
        (["--quantiles", "50,50"], "must be distinct"),
        (["--weights", "flat"], "--weights='flat': allowed are none, chiral-eft"),
        (["--pressure-points", "1"], "--pressure-points=1"),
        (["MISSING"], "does not exist"),
        (["NODONE"], "no completed block"),
        (["EXISTING"], "already has a 'bands' group"),
    ],
)
def test_cli_bad_input_writes_nothing(tmp_path, capsys, args, message):
    path = tmp_path / "s.zarr"
    make_store(path, n_samples=10, block_size=5, T=(0.0,), n_points=4,
               done_pattern="none" if "NODONE" in args else "default")
    if "EXISTING" in args:
        bd.compute_bands(path, pressure_points=4)
    target = str(tmp_path / "missing.zarr") if "MISSING" in args else str(path)
    opts = [a for a in args if a not in ("MISSING", "NODONE", "EXISTING")]
    before = tree_snapshot(tmp_path)
    rc = main(["bands", target, *opts])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err and err.count("\n") == 1, err
    assert tree_snapshot(tmp_path) == before


def test_api_bad_input(tmp_path):
    path = tmp_path / "s.zarr"
    make_store(path, n_samples=10, block_size=5, T=(0.0,), n_points=4)
    for kw, msg in [({"quantiles": (0.5, 1.0)}, "quantiles: 1 is outside (0, 1)"),
                    ({"quantiles": (-0.1,)}, "outside (0, 1)"),
                    ({"weights": "chiral"}, "weights='chiral': allowed are none, chiral-eft"),
                    ({"pressure_points": 1}, "pressure_points=1")]:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            bd.compute_bands(path, **kw)
    assert not bd.has_bands(path)
    not_a_store = tmp_path / "plain"
    not_a_store.mkdir()
    with pytest.raises(ValueError, match="not a"):
        bd.compute_bands(not_a_store)
