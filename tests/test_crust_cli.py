"""`crustuq crust`: CSV columns, Zarr store, plot, one-line errors that write nothing."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from crustuq.sweep.cli import main

COLUMNS = ["n_B", "T", "Z", "A_cl", "A_cell", "I", "n_cl", "n_g", "r_N", "r_WS", "u", "Y_e", "P",
           "F_per_A", "mu_n", "mu_e", "S_per_A", "status", "layer"]
SURF = "sigma0=1.04971,sigma0c=0.12094,b_s=30.45764,beta=0.66720,p=3"


def test_crust_csv_zarr_and_plot(tmp_path, capsys):
    out = tmp_path / "c.csv"
    png = tmp_path / "c.png"
    rc = main(["crust", "--params", "BSk24", "--surface", SURF, "--T", "0,1", "--nb", "1e-4:0.08:12:log",
               "--out", str(out), "--plot", str(png)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "crust-core transition" in err
    rows = list(csv.reader(open(out)))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 2 * 12
    layers = [r[-1] for r in rows[1:]]
    assert set(layers) == {"outer", "inner", "core"}
    assert all(r[-2] in ("converged", "beyond_transition") for r in rows[1:])
    assert png.stat().st_size > 10_000
    import xarray as xr

    z = tmp_path / "c.zarr"
    assert main(["crust", "--surface", "BSk24-ETF-medium", "--T", "0", "--nb", "1e-3,1e-2", "--out", str(z)]) == 0
    ds = xr.open_zarr(z, consolidated=False)
    assert ds["Z"].dims == ("T", "n_B") and ds.attrs["surface_set"] == "BSk24-ETF-medium"
    assert np.all(ds["status"].values == 0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--surface", "BSk24-XYZ"], "unknown surface set 'BSk24-XYZ'"),
        (["--surface", "sigma0=-1,sigma0c=0.1,b_s=30,beta=0.7,p=3"], "sigma0=-1"),
        (["--surface", "sigma0=1,sigma0c=0.1,bs=30,beta=0.7"], "unknown surface parameter 'bs'"),
        (["--nb", "1e-4:0.5:10"], "the crust model covers"),
        (["--T", "0,-2"], "T=-2 MeV"),
        (["--params", "nope"], "known sets are"),
        (["--plot", "x.jpg"], "must end in .png"),
    ],
)
def test_bad_input(tmp_path, capsys, args, message):
    out = tmp_path / "c.csv"
    if "--plot" in args:
        args = [a if a != "x.jpg" else str(tmp_path / "x.jpg") for a in args]
    rc = main(["crust", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_temperature_without_clusters_does_not_crash(tmp_path):
    out = tmp_path / "hot.csv"
    assert main(["crust", "--T", "20", "--nb", "1e-3:0.05:4:log", "--out", str(out)]) == 0
    rows = list(csv.reader(open(out)))[1:]
    inner_or_core = [r for r in rows if r[-1] != "outer"]
    assert all(r[-1] == "core" and r[-2] == "no_cluster_solution" for r in inner_or_core)
