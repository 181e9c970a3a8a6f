"""Parameter and surface sources of a sweep: named sets, priors, an emcee chain of bulk
parameters, an earlier sweep store, surface posterior draws; every sample is a function of its
index only (the same whatever the block); filters; the CLDM-mass outer crust."""

from __future__ import annotations

import emcee
import numpy as np
import pytest

from crustuq.models.cldm.fit_targets import target_set
from crustuq.models.cldm.surface import SurfaceParameters
from crustuq.models.crust import status as st
from crustuq.models.crust.profile import CrustOptions, solve_crust
from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters
from crustuq.sweep.config import parse_config
from crustuq.sweep.samples import FILTER_PASSED, block_inputs, filter_codes
from crustuq.sweep.store import StoreShape, create_store
from crustuq.sweep.tasks import prepare_block

GRID = {"T": [0.0], "n_B": {"start": 1e-3, "stop": 0.05, "num": 5}}


def _cfg(parameters, surface=None, n=6, block=2, **extra):
    d = {"sweep": {"n_samples": n, "seed": 3, "block_size": block}, "parameters": parameters,
         "surface": surface or {"treatment": "fixed"}, "grid": GRID}
    d.update(extra)
    return parse_config(d)


def _all_inputs(cfg, block):
    shape = StoreShape(cfg.sweep.n_samples, np.array(cfg.grid.T), cfg.grid.densities(), block)
    parts = [block_inputs(cfg, shape, b) for b in range(shape.n_blocks)]
    return (np.concatenate([p.bulk for p in parts]), np.concatenate([p.surface for p in parts]),
            np.concatenate([p.filter_code for p in parts]))


def test_named_set_with_overrides():
    cfg = _cfg({"source": "named", "set": "SLy4", "overrides": {"L_sym": 55.0}})
    bulk, surf, code = _all_inputs(cfg, 4)
    expected = EmpiricalParameters.named("SLy4").with_overrides(L_sym=55.0).to_array()
    assert np.array_equal(bulk, np.repeat(expected[None], 6, 0))
    assert np.array_equal(surf[0], SurfaceParameters.named("BSk24-AME2020").to_array())


@pytest.mark.parametrize("sampling", ["random", "sobol", "lhs"])
def test_prior_samples_do_not_depend_on_the_block_size(sampling):
    cfg = _cfg({"source": "prior", "prior": "carreau2019-uniform", "sampling": sampling}, n=7)
    a = _all_inputs(cfg, 2)[0]
    b = _all_inputs(cfg, 3)[0]
    assert np.array_equal(a, b)
    from crustuq.models.matter.priors import carreau2019_uniform_prior

    if sampling != "lhs":
        assert np.array_equal(a, carreau2019_uniform_prior().sample(7, 3, method=sampling))


def test_custom_prior_fixes_the_other_parameters_to_the_named_set():
    cfg = _cfg({"source": "prior", "set": "BSk24", "uniform": {"L_sym": [30.0, 70.0]},
                "gaussian": {"K_sym": [-50.0, 20.0]}})
    bulk = _all_inputs(cfg, 2)[0]
    base = EmpiricalParameters.named("BSk24").to_array()
    j_l, j_k = PARAMETER_NAMES.index("L_sym"), PARAMETER_NAMES.index("K_sym")
    assert np.all((bulk[:, j_l] >= 30) & (bulk[:, j_l] <= 70))
    others = [j for j in range(13) if j not in (j_l, j_k)]
    assert np.array_equal(bulk[:, others], np.repeat(base[None, others], 6, 0))


def test_chain_draws_are_rows_of_the_chain(tmp_path):
    """A bulk-parameter chain (emcee with the crustuq Zarr backend, columns L_sym and K_sym):
    every sample is a row of the burned, thinned chain, the same whatever the block size."""
    from crustuq.sweep.posterior.zarr_backend import ZarrBackend

    path = tmp_path / "bulk_chain.zarr"
    be = ZarrBackend(path, config={"kind": "test"}, parameter_names=["L_sym", "K_sym"])
    rng = np.random.default_rng(0)

    def logp(x):
        return -0.5 * (((x[0] - 50.0) / 8.0) ** 2 + ((x[1] + 60.0) / 40.0) ** 2)

    sampler = emcee.EnsembleSampler(8, 2, logp, backend=be)
    sampler.run_mcmc(np.column_stack([rng.normal(50, 1, 8), rng.normal(-60, 5, 8)]), 400, progress=False)
    cfg = _cfg({"source": "chain", "chain": str(path), "set": "BSk24"}, n=9)
    a = _all_inputs(cfg, 2)[0]
    b = _all_inputs(cfg, 4)[0]
    assert np.array_equal(a, b)
    rows = ZarrBackend(path, read_only=True).get_chain(flat=True)
    j_l, j_k = PARAMETER_NAMES.index("L_sym"), PARAMETER_NAMES.index("K_sym")
    pairs = {(x, y) for x, y in rows}
    assert all((x, y) in pairs for x, y in a[:, [j_l, j_k]])
    assert len({tuple(r) for r in a}) > 1


def test_earlier_store_samples_and_filters(tmp_path):
    """Samples of an earlier sweep store (only those that passed its filters, in order)."""
    first = _cfg({"source": "prior", "prior": "margueron2018-gaussian"}, n=8, block=4,
                 filters={"physical": True})
    store = tmp_path / "first.zarr"
    shape = StoreShape(8, np.array([0.0]), first.grid.densities(), 4)
    create_store(store, shape, {"crustuq_config": first.to_json()}, filter_codes=filter_codes())
    for b in range(2):
        prepare_block(first.to_json(), str(store), b)
    first_bulk, _, codes = _all_inputs(first, 4)
    passed = codes == FILTER_PASSED
    assert passed.sum() >= 3
    again = _cfg({"source": "store", "store": str(store)}, n=int(passed.sum()))
    bulk = _all_inputs(again, 2)[0]
    assert np.array_equal(bulk, first_bulk[passed])
    too_many = _cfg({"source": "store", "store": str(store)}, n=9)
    with pytest.raises(ValueError, match="usable samples"):
        _all_inputs(too_many, 2)


def test_surface_refit_and_posterior_draws(tmp_path):
    from crustuq.sweep.posterior import surface_posterior as sp

    chain = tmp_path / "fit.zarr"
    bsk24 = EmpiricalParameters.named("BSk24")
    sp.run_surface_posterior(sp.make_config(bsk24, target_set("AME2020"), nwalkers=32, seed=4), chain, 1500)
    theta, _, _ = sp.posterior_samples(chain)
    params = {"source": "named", "set": "BSk24"}
    pair = _cfg(params, {"treatment": "posterior", "chain": str(chain), "mode": "pair"})
    surf = _all_inputs(pair, 2)[1]
    rows = {tuple(r) for r in theta}
    assert all(tuple(r) in rows for r in surf)
    assert np.array_equal(surf, _all_inputs(pair, 3)[1])
    # recentre on a bulk set equal to the chain's: the median of the draws is near the fit
    refit = _all_inputs(_cfg(params, {"treatment": "refit", "target": "AME2020"}), 2)[1]
    assert refit[0, 0] == pytest.approx(1.0516, rel=2e-3)  # sigma0 of BSk24 fitted to AME2020
    rec = _all_inputs(_cfg(params, {"treatment": "posterior", "chain": str(chain), "mode": "recentre"}, n=40), 4)[1]
    assert np.median(rec[:, 0]) == pytest.approx(refit[0, 0], rel=5e-3)


def test_physical_and_low_density_filters_give_codes():
    cfg = _cfg({"source": "prior", "prior": "carreau2019-uniform"}, n=40, filters={"low_density": True})
    _, _, code = _all_inputs(cfg, 8)
    meanings = filter_codes()
    assert all(int(c) in meanings for c in code)
    assert np.any(code >= 100)          # most of this prior fails the chiral-EFT filter
    bsk = _cfg({"source": "named", "set": "BSk24"}, filters={"low_density": True})
    assert np.all(_all_inputs(bsk, 2)[2] == 200)   # PNM fails first at 0.02 fm^-3


def test_outer_crust_from_the_cldm_vacuum_masses_of_each_sample():
    """mass_table = "CLDM": each sample's outer crust uses its own vacuum CLDM masses; the
    inner crust joins it; different surface parameters give different outer crusts."""
    arr = np.repeat(EmpiricalParameters.named("BSk24").to_array()[None], 2, 0)
    surf = np.stack([SurfaceParameters.named("BSk24-AME2020").to_array(),
                     SurfaceParameters.named("BSk24-ETF-table").to_array()])
    nb = np.geomspace(1e-6, 0.01, 16)
    r = solve_crust(nb, [0.0], EmpiricalParameters.from_array(arr), SurfaceParameters.from_array(surf),
                    CrustOptions(mass_table="CLDM"))
    assert np.all(np.isfinite(r.n_drip)) and np.all((r.n_drip > 1e-4) & (r.n_drip < 1e-3))
    outer = r.layer[:, 0] == st.LAYER_OUTER
    assert outer.any(axis=1).all()
    assert not np.array_equal(r["Z"][0, 0, outer[0]], r["Z"][1, 0, outer[1]])
    assert np.all(r.status[:, 0] == st.CONVERGED)
