"""emcee surface posterior: exact linear-Gaussian case, Zarr chain store (kill -9 and resume gives
bit-identical samples), convergence refusal, stored diagnostics, draws for sweeps, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from crustuq.models.cldm.fit_targets import target_set
from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.cldm.vacuum_mass import vacuum_bulk_terms
from crustuq.models.matter.parameters import EmpiricalParameters
from crustuq.sweep.posterior import surface_posterior as sp
from crustuq.sweep.posterior.zarr_backend import ZarrBackend

BSK24 = EmpiricalParameters.named("BSk24")
CLI = [sys.executable, "-m", "crustuq.sweep.cli"]  # the `crustuq` command, by this interpreter


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """A converged AME2020 posterior (32 walkers x 1500 steps, tau ~ 17 steps)."""
    path = tmp_path_factory.mktemp("chain") / "fit.zarr"
    cfg = sp.make_config(BSK24, target_set("AME2020"), nwalkers=32, seed=4)
    sp.run_surface_posterior(cfg, path, 1500)
    return path


def test_linear_gaussian_posterior_is_recovered(tmp_path):
    """b_s, beta, p fixed, fixed width, wide flat priors: E/A is linear in (sigma0, sigma0c), so
    the posterior is exactly Gaussian with mean = linear least squares, cov = s^2 (G^T G)^-1."""
    ts = target_set("AME2020-atomic")
    fixed = dict(b_s=30.45764, beta=0.66720, p=3.0)
    width = 0.05
    # design matrix from the reference path (surface.py tensions), by exact linearity
    terms = vacuum_bulk_terms(BSK24, ts.Z, ts.A)
    e = lambda s0, s0c: terms.energy_per_nucleon(SurfaceParameters(s0, s0c, **fixed))  # noqa: E731
    e11, e21, e12 = e(1.0, 0.1), e(2.0, 0.1), e(1.0, 0.2)
    G = np.column_stack([e21 - e11, (e12 - e11) / 0.1])
    y = ts.energy_per_nucleon_MeV - (e11 - G @ [1.0, 0.1])
    mean = np.linalg.solve(G.T @ G, G.T @ y)
    cov = width**2 * np.linalg.inv(G.T @ G)
    sd = np.sqrt(np.diag(cov))

    cfg = sp.make_config(BSK24, ts, free=("sigma0", "sigma0c"), fixed=fixed, sigma_model=width, nwalkers=16, seed=2,
                         priors={"sigma0": sp.Prior1D("flat", 0.5, 1.5), "sigma0c": sp.Prior1D("flat", -0.5, 0.8)})
    path = tmp_path / "lin.zarr"
    sp.run_surface_posterior(cfg, path, 2500)
    s = json.loads(json.dumps(ZarrBackend(path, read_only=True).group.attrs["summary"]))
    assert s["converged"]
    be = ZarrBackend(path, read_only=True)
    x = be.get_chain(discard=s["burn"], flat=True)
    ess = np.asarray(s["effective_sample_size"])
    assert np.all(ess > 500)
    # mean within 4 Monte Carlo standard errors sd/sqrt(ESS)
    assert np.all(np.abs(x.mean(0) - mean) < 4 * sd / np.sqrt(ess))
    # standard deviations within 4 x their MC error ~ sd/sqrt(2 ESS); correlation within 0.05
    assert np.all(np.abs(x.std(0) / sd - 1) < 4 / np.sqrt(2 * ess))
    rho = cov[0, 1] / (sd[0] * sd[1])
    assert np.corrcoef(x.T)[0, 1] == pytest.approx(rho, abs=0.05)


def test_stored_chain_diagnostics_and_report(chain):
    import xarray as xr

    ds = xr.open_zarr(chain, consolidated=False)
    assert ds["chain"].dims == ("step", "walker", "parameter")
    assert ds["chain"].shape == (1500, 32, 5)
    assert ds["acceptance_fraction"].dims == ("walker",)
    assert ds["autocorr_time"].dims == ("parameter",) and ds["effective_sample_size"].dims == ("parameter",)
    assert ds["target_Z"].dims == ("nucleus",) and ds.sizes["nucleus"] == 2457
    cfg = ds.attrs["config"]["posterior"]
    assert cfg["target"]["name"] == "AME2020" and cfg["nwalkers"] == 32 and cfg["fixed"] == {"p": 3.0}
    s = ds.attrs["summary"]
    assert s["converged"] and 0.1 < s["mean_acceptance_fraction"] < 0.9
    rep = sp.report_posterior(chain)
    # posterior median close to the least-squares best fit, quantiles bracket it
    for k, ref, tol in (("sigma0", 1.0516, 0.003), ("sigma0c", 0.1200, 0.01), ("b_s", 30.53, 1.0), ("beta", 0.663, 0.02)):
        assert rep[k] == pytest.approx(ref, abs=tol)
        assert rep["q16"][k] < rep[k] < rep["q84"][k]
    assert rep["p"] == 3.0 and rep["n_nuclei"] == 2457
    assert rep["rms_MeV"] == pytest.approx(0.0402, abs=5e-4)
    assert rep["sigma_model_MeV"]["median"] == pytest.approx(0.0402, rel=0.05)


def test_posterior_draws_and_joint_samples(chain):
    d1 = sp.posterior_draws(chain, 50, seed=9)
    d2 = sp.posterior_draws(chain, 50, seed=9)
    assert isinstance(d1, SurfaceParameters) and d1.batch_shape == (50,)
    np.testing.assert_array_equal(d1.to_array(), d2.to_array())
    assert np.all(d1.p == 3.0)
    rep = sp.report_posterior(chain)
    assert np.median(d1.sigma0) == pytest.approx(rep["sigma0"], abs=0.003)
    # pair mode: plain pairing
    bulk = EmpiricalParameters.from_array(np.repeat(BSK24.to_array()[None], 4, axis=0))
    js = sp.joint_sweep_samples(chain, bulk, seed=1, mode="pair")
    assert js.surface.shape == (4, 5) and js.ok.all()
    # recentre mode with the chain's own bulk set: per-sample fit = LSQ best fit ~ posterior median,
    # so recentred draws stay within the posterior spread of the plain draws
    jr = sp.joint_sweep_samples(chain, bulk, seed=1, mode="recentre")
    assert jr.ok.all()
    spread = np.array([rep["q84"][k] - rep["q16"][k] for k in ("sigma0", "sigma0c", "b_s", "beta")])
    assert np.all(np.abs(jr.surface[:, :4] - js.surface[:, :4]) < 0.5 * spread)
    b, s = jr.usable()
    assert b.batch_shape == (4,) and s.batch_shape == (4,)
    # a bulk sample without vacuum solution is flagged, not raised
    bad = BSK24.to_array().copy()
    bad[2], bad[7] = 10.0, -2000.0
    jb = sp.joint_sweep_samples(chain, np.stack([BSK24.to_array(), bad]), seed=1)
    assert jb.status.tolist() == [0, 2]


def test_unconverged_chain_is_refused_unless_forced(tmp_path):
    path = tmp_path / "short.zarr"
    cfg = sp.make_config(BSK24, target_set("AME2020"), nwalkers=12, seed=1)
    sp.run_surface_posterior(cfg, path, 60)
    with pytest.raises(sp.ConvergenceError, match="not converged"):
        sp.report_posterior(path)
    with pytest.raises(sp.ConvergenceError):
        sp.posterior_draws(path, 5, seed=1)
    with pytest.warns(RuntimeWarning, match="forced"):
        rep = sp.report_posterior(path, force=True)
    assert rep["converged"] is False


def test_bad_input_writes_nothing(tmp_path):
    ts = target_set("AME2020")
    cfg = sp.make_config(BSK24, ts, nwalkers=12, seed=1)
    path = tmp_path / "x.zarr"
    p0 = np.full((12, 5), np.nan)
    with pytest.raises(ValueError, match="non-finite"):
        sp.run_surface_posterior(cfg, path, 10, initial=p0)
    with pytest.raises(ValueError, match="shape"):
        sp.run_surface_posterior(cfg, path, 10, initial=np.zeros((10, 5)))
    p0 = np.tile([1.05, 0.12, 30.0, 0.66, np.log(0.04)], (12, 1))
    p0[3, 0] = -1.0                                   # outside the prior support
    with pytest.raises(ValueError, match="outside the prior"):
        sp.run_surface_posterior(cfg, path, 10, initial=p0)
    assert not path.exists()
    with pytest.raises(ValueError, match="too few"):
        sp.make_config(BSK24, ts, nwalkers=8)         # 5 sampled parameters need >= 10
    with pytest.raises(ValueError, match="too few"):
        sp.make_config(BSK24, ts, nwalkers=11)        # odd
    with pytest.raises(ValueError, match="--prior"):
        sp.parse_prior("sigma0=uniform:0:1")
    with pytest.raises(ValueError, match="unknown parameter"):
        sp.parse_prior("alpha=flat:0:1")
    with pytest.raises(ValueError, match="sigma-model"):
        sp.make_config(BSK24, ts, sigma_model=-0.1)


def test_resume_with_other_configuration_is_refused(tmp_path):
    path = tmp_path / "c.zarr"
    cfg = sp.make_config(BSK24, target_set("AME2020"), nwalkers=12, seed=1, sigma_model=0.04)
    sp.run_surface_posterior(cfg, path, 20)
    other = sp.make_config(BSK24, target_set("AME2020"), nwalkers=12, seed=2, sigma_model=0.04)
    with pytest.raises(ValueError, match="different configuration .*seed"):
        sp.run_surface_posterior(other, path, 40, resume=True)
    assert ZarrBackend(path, read_only=True).iteration == 20


def test_prior_densities():
    pr = sp.Prior1D("gauss", 1.0, 0.1)
    assert float(pr.logpdf(1.1)) == pytest.approx(-0.5 - np.log(0.1 * np.sqrt(2 * np.pi)))
    fl = sp.Prior1D("flat", 0.0, 4.0)
    assert float(fl.logpdf(1.0)) == pytest.approx(-np.log(4.0)) and fl.logpdf(5.0) == -np.inf
    cfg = sp.make_config(BSK24, target_set("AME2020"), sigma_model=0.04,
                         priors={"sigma0": pr, "b_s": sp.Prior1D("flat", 0.0, 100.0)})
    lp = sp.SurfaceLogProb(cfg)
    x = np.array([[1.1, 0.12, 30.0, 0.66], [1.0, 0.12, 101.0, 0.66]])
    th = lp.full_theta(x)
    chi2 = lp.model.chi2(th)
    n = lp.n
    ll = -0.5 * chi2 / 0.04**2 - n * np.log(0.04) - 0.5 * n * np.log(2 * np.pi)
    lpr = pr.logpdf(1.1) + fl.logpdf(0.12) * 0 + sp.Prior1D(*sp.DEFAULT_PRIORS["sigma0c"]).logpdf(0.12) \
        + sp.Prior1D("flat", 0.0, 100.0).logpdf(30.0) + sp.Prior1D(*sp.DEFAULT_PRIORS["beta"]).logpdf(0.66)
    got = lp(x)
    assert got[0] == pytest.approx(ll[0] + lpr, rel=1e-12)
    assert got[1] == -np.inf


def _committed(path: Path) -> int:
    try:
        return int(json.loads((path / "zarr.json").read_text())["attributes"].get("iteration", 0))
    except (OSError, ValueError, KeyError):
        return 0


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    args = ["fit-surface", "--method", "emcee", "--target", "AME2020", "--walkers", "12", "--seed", "7",
            "--sigma-model", "0.04", "--flush-every", "20", "--force"]
    killed = tmp_path / "killed.zarr"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([*CLI, *args, "--steps", "1000000", "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        t0 = time.time()
        while _committed(killed) < 200:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() - t0 < 60, "chain did not start"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    n_killed = _committed(killed)
    assert 200 <= n_killed < 800
    # resume (by the command line) to 800 steps; an uninterrupted run to 800 steps with the same seed
    r = subprocess.run([*CLI, "fit-surface", "--resume", str(killed), "--steps", "800",
                        "--force"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    full = tmp_path / "full.zarr"
    r = subprocess.run([*CLI, *args, "--steps", "800", "--out", str(full)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    a, b = ZarrBackend(killed, read_only=True), ZarrBackend(full, read_only=True)
    assert a.iteration == b.iteration == 800
    diff = np.flatnonzero(np.any(a.get_chain() != b.get_chain(), axis=(1, 2)))
    assert diff.size == 0, f"killed at {n_killed}: chains differ from step {diff[0]} on"
    assert np.array_equal(a.get_log_prob(), b.get_log_prob())
    assert np.array_equal(a.accepted, b.accepted)
    assert np.array_equal(a.random_state[1], b.random_state[1]) and a.random_state[2:] == b.random_state[2:]
