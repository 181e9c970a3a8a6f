"""`crustuq matter`, `crustuq version`, `crustuq --help`: outputs and one-line errors that
write nothing."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from crustuq.models.matter.metamodel import meta_model, state_from_nb_delta
from crustuq.sweep.cli import main

COLUMNS = ["n_B", "delta", "T", "F_per_A", "P", "mu_n", "mu_p", "S_per_A"]


def test_console_script_help_and_version():
    out = subprocess.run([sys.executable, "-m", "crustuq.sweep.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "matter" in out.stdout
    out = subprocess.run([sys.executable, "-m", "crustuq.sweep.cli", "version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("crustuq ")


def test_matter_csv_table(tmp_path):
    path = tmp_path / "m.csv"
    rc = main(["matter", "--params", "BSk24", "--T", "0,1,2", "--delta", "0,0.5,1",
               "--nb", "0.001:0.3:50", "--out", str(path)])
    assert rc == 0
    with open(path) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == COLUMNS
    data = np.array(rows[1:], dtype=float)
    assert data.shape == (3 * 3 * 50, 8)
    # spot-check a row against the model
    mm = meta_model("BSk24")
    row = data[(data[:, 1] == 0.5) & (data[:, 2] == 1.0)][10]
    st = state_from_nb_delta(mm, row[0], 0.5, 1.0)
    np.testing.assert_allclose(row[3:], [st.F_per_A, st.P, st.mu_n, st.mu_p, st.S_per_A], rtol=1e-10)


def test_matter_zarr_and_override(tmp_path):
    import xarray as xr

    path = tmp_path / "m.zarr"
    assert main(["matter", "--T", "1", "--delta", "1", "--nb", "0.01:0.1:5", "--param", "L_sym=60",
                 "--out", str(path)]) == 0
    ds = xr.open_zarr(path, consolidated=False)
    assert ds["P"].dims == ("T", "delta", "n_B")
    assert ds.attrs["param_L_sym"] == 60.0
    base = xr.open_zarr(path, consolidated=False)  # reopen works
    assert base.sizes["n_B"] == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--nb", "-0.1:0.3:5"], "densities must be > 0"),
        (["--T", "-1,2"], "temperatures must be >= 0"),
        (["--delta", "0,1.5"], "asymmetry must lie in [-1, 1]"),
        (["--params", "BSk99"], "known sets are"),
        (["--param", "Lsym=60"], "unknown parameter 'Lsym'"),
        (["--nb", "0.001:0.3"], "expected start:stop:num"),
        (["--nb", "0.3:0.001:5"], "must be > start"),
        (["--nb", "a,b"], "comma-separated list of numbers"),
    ],
)
def test_bad_input_one_line_and_nothing_written(tmp_path, capsys, args, message):
    out = tmp_path / "x.csv"
    rc = main(["matter", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_output_folder_and_existing_output(tmp_path, capsys):
    rc = main(["matter", "--out", str(tmp_path / "nope" / "x.csv")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    target = tmp_path / "x.csv"
    target.write_text("keep me")
    rc = main(["matter", "--out", str(target)])
    assert rc == 2 and "already exists" in capsys.readouterr().err
    assert target.read_text() == "keep me"
    rc = main(["matter", "--out", str(tmp_path / "x.txt")])
    assert rc == 2 and ".csv or .zarr" in capsys.readouterr().err
