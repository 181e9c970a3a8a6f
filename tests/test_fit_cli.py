"""`crustuq fit-surface`: JSON output (least squares and emcee), stores, corner plot, one-line
errors that write nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crustuq.sweep.cli import main as app_main

KEYS = ("sigma0", "sigma0c", "b_s", "beta", "p", "rms_MeV", "n_nuclei")


def _run(capsys, argv):
    rc = app_main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_lsq_reproduces_table1_and_writes_store(capsys, tmp_path):
    import xarray as xr

    out = tmp_path / "fit.zarr"
    plot = tmp_path / "lsq.png"
    rc, stdout, err = _run(capsys, ["fit-surface", "--params", "BSk24", "--target", "AME2020-atomic",
                                    "--method", "lsq", "--out", str(out), "--plot", str(plot)])
    assert rc == 0, err
    d = json.loads(stdout)
    assert all(k in d for k in KEYS)
    # Grams et al. 2025, Table 1, row 3
    for k, ref in (("sigma0", 1.04971), ("sigma0c", 0.12094), ("b_s", 30.45764), ("beta", 0.66720)):
        assert d[k] == pytest.approx(ref, abs=5e-6)
    assert d["p"] == 3.0 and d["n_nuclei"] == 2457 and d["rms_MeV"] == pytest.approx(0.0406, abs=2e-4)
    ds = xr.open_zarr(out, consolidated=False)
    assert ds["residual_MeV"].dims == ("nucleus",) and ds.sizes["nucleus"] == 2457
    assert ds["covariance"].shape == (4, 4)
    np.testing.assert_allclose(np.sqrt(np.diag(ds["covariance"].values)), [d["stderr"][k] for k in KEYS[:4]])
    assert plot.stat().st_size > 10_000


def test_emcee_json_quantiles_plot_and_resume(capsys, tmp_path):
    out = tmp_path / "chain.zarr"
    plot = tmp_path / "corner.png"
    args = ["fit-surface", "--target", "AME2020", "--method", "emcee", "--walkers", "16", "--seed", "3",
            "--out", str(out)]
    rc, stdout, err = _run(capsys, [*args, "--steps", "400", "--plot", str(plot)])
    assert rc == 2 and "not converged" in err and "--resume" in err      # refused, chain kept
    assert not plot.exists()
    rc, stdout, err = _run(capsys, ["fit-surface", "--resume", str(out), "--steps", "1600", "--plot", str(plot)])
    assert rc == 0, err
    d = json.loads(stdout)
    assert all(k in d for k in KEYS) and d["converged"] and d["steps"] == 1600
    for k in KEYS[:4]:
        assert d["q16"][k] < d[k] < d["q84"][k]
    assert d["sigma0"] == pytest.approx(1.0516, abs=0.003) and d["n_nuclei"] == 2457
    assert plot.stat().st_size > 10_000
    # same options again: the store exists
    rc, _, err = _run(capsys, [*args, "--steps", "400"])
    assert rc == 2 and "already exists" in err
    # resume with another configuration: refused, chain untouched; --overwrite starts over
    rc, _, err = _run(capsys, ["fit-surface", "--resume", str(out), "--walkers", "20"])
    assert rc == 2 and "different configuration" in err and "nwalkers" in err
    rc, stdout, err = _run(capsys, ["fit-surface", "--resume", str(out), "--walkers", "20", "--steps", "50",
                                    "--overwrite", "--force"])
    assert rc == 0, err
    assert json.loads(stdout)["nwalkers"] == 20 and json.loads(stdout)["converged"] is False


def test_emcee_force_reports_unconverged(capsys, tmp_path):
    rc, stdout, err = _run(capsys, ["fit-surface", "--method", "emcee", "--walkers", "12", "--steps", "40",
                                    "--sigma-model", "0.04", "--out", str(tmp_path / "c.zarr"), "--force"])
    assert rc == 0
    d = json.loads(stdout)
    assert d["converged"] is False and d["sigma_model_MeV"] == 0.04
    assert err.startswith("crustuq: warning: posterior") and "not converged" in err and "forced" in err


@pytest.mark.parametrize("extra,match", [
    (["--target", "AME2030"], "--target='AME2030': unknown target set"),
    (["--target", "AME2020", "--z-min", "200"], "no nucleus left"),
    (["--method", "emcee", "--walkers", "6"], "--walkers=6: too few"),
    (["--method", "emcee", "--walkers", "9"], "--walkers=9: too few"),
    (["--method", "mcmc"], "--method='mcmc'"),
    (["--method", "emcee", "--prior", "sigma0=flat:2:1"], "--prior"),
    (["--method", "emcee", "--sigma-model", "wide"], "--sigma-model"),
    (["--params", "NOPE"], "unknown parameter set"),
    (["--walkers", "32"], "--walkers: only with --method emcee"),
    (["--plot", "x.jpg"], "--plot"),
    (["--free-p", "--p", "3"], "--p"),
])
def test_bad_input_one_line_nothing_written(capsys, tmp_path, extra, match):
    out = tmp_path / "never.zarr"
    args = ["fit-surface", "--out", str(out), *extra]
    if "--plot" in extra:
        args[args.index("--plot") + 1] = str(tmp_path / "x.jpg")
    rc, stdout, err = _run(capsys, args)
    assert rc == 2
    assert match in err and err.count("\n") == 1 and stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_resume_of_missing_store(capsys, tmp_path):
    rc, _, err = _run(capsys, ["fit-surface", "--resume", str(tmp_path / "none.zarr")])
    assert rc == 2 and "not found" in err
    assert list(tmp_path.iterdir()) == []
