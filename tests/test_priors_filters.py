"""Priors: reproducible sampling (sample i independent of the batch), correct marginals,
correlations; the chiral-EFT low-density filter."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crustuq.models.matter.filters import CHIRAL_EFT_BAND, low_density_filter
from crustuq.models.matter.metamodel import MetaModel
from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters
from crustuq.models.matter.priors import (
    CARREAU2019_UNIFORM,
    MARGUERON2018_GAUSSIAN,
    Prior,
    carreau2019_uniform_prior,
    margueron2018_gaussian_prior,
    named_prior,
)


@pytest.mark.parametrize("method", ["random", "sobol"])
def test_sample_i_is_the_same_whatever_the_batch(method):
    prior = carreau2019_uniform_prior()
    full = prior.sample(10000, seed=3, method=method)
    for start, n in ((0, 1), (4095, 3), (5000, 1234), (9999, 1)):
        np.testing.assert_array_equal(prior.sample(n, seed=3, start=start, method=method), full[start:start + n])
    assert not np.array_equal(prior.sample(10, seed=4, method=method), full[:10])


def test_uniform_marginals_match_the_published_ranges():
    x = carreau2019_uniform_prior().sample(20000, seed=1)
    for j, key in enumerate(PARAMETER_NAMES):
        lo, hi = CARREAU2019_UNIFORM[key]
        assert lo <= x[:, j].min() and x[:, j].max() <= hi
        # Kolmogorov-Smirnov against U(lo, hi)
        assert stats.kstest(x[:, j], stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3


def test_gaussian_prior_means_widths_and_correlation():
    keys = list(MARGUERON2018_GAUSSIAN)
    corr = np.eye(len(keys))
    i, j = keys.index("E_sym"), keys.index("L_sym")
    corr[i, j] = corr[j, i] = 0.7
    x = margueron2018_gaussian_prior(correlation=corr).sample(40000, seed=2)
    for k, key in enumerate(PARAMETER_NAMES[:12]):
        mean, sigma = MARGUERON2018_GAUSSIAN[key]
        col = x[:, k]
        assert abs(col.mean() - mean) < 5 * sigma / np.sqrt(len(col))
        assert col.std() == pytest.approx(sigma, rel=0.03)
    r = np.corrcoef(x[:, PARAMETER_NAMES.index("E_sym")], x[:, PARAMETER_NAMES.index("L_sym")])[0, 1]
    assert r == pytest.approx(0.7, abs=0.02)
    assert np.all(x[:, PARAMETER_NAMES.index("b")] == pytest.approx(10 * np.log(2)))


def test_latin_hypercube_strata():
    prior = carreau2019_uniform_prior()
    u = prior.unit_points(100, seed=5, method="lhs")
    for j in range(u.shape[1]):  # one point per stratum in every dimension
        assert sorted(np.floor(u[:, j] * 100).astype(int)) == list(range(100))


def test_prior_log_density():
    prior = carreau2019_uniform_prior()
    x = prior.sample(3, seed=1)
    assert np.all(np.isfinite(prior.log_density(x)))
    x[0, 0] = 0.2  # n_sat outside [0.15, 0.17]
    assert prior.log_density(x)[0] == -np.inf


def _uniform_with(**changes):
    u = dict(CARREAU2019_UNIFORM)
    u.update(changes)
    return u


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(uniform=_uniform_with(Lsym=(10, 80))), "unknown parameter 'Lsym'"),
        (dict(uniform=_uniform_with(L_sym=(80, 10))), r"L_sym=\(80, 10\): need finite low < high"),
        (dict(uniform={k: v for k, v in CARREAU2019_UNIFORM.items() if k != "L_sym"},
              gaussian={"L_sym": (60, -5)}), "sigma > 0"),
        (dict(uniform={"L_sym": (10, 80)}), "have no distribution"),
        (dict(uniform=dict(CARREAU2019_UNIFORM), fixed={"b": 6.9}), "given in both"),
    ],
)
def test_bad_priors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Prior(**kwargs)
    with pytest.raises(ValueError, match="known priors"):
        named_prior("flat")


def test_low_density_filter_band_edges():
    """A set passes iff all its SNM/PNM energies lie inside the widened band; the reason names
    the first failing point. Checked on prior samples against a direct evaluation."""
    x = carreau2019_uniform_prior().sample(4000, seed=11)
    params = EmpiricalParameters.from_array(x)
    res = low_density_filter(params)
    mm = MetaModel.from_parameters(params)
    n = CHIRAL_EFT_BAND[:, :1]
    e_s = mm.energy_per_nucleon(n, 0.0)
    e_n = mm.energy_per_nucleon(n, 1.0)
    inside = ((e_s >= 1.05 * CHIRAL_EFT_BAND[:, 1:2]) & (e_s <= 0.95 * CHIRAL_EFT_BAND[:, 2:3])
              & (e_n >= 0.95 * CHIRAL_EFT_BAND[:, 3:4]) & (e_n <= 1.05 * CHIRAL_EFT_BAND[:, 4:5])).all(axis=0)
    np.testing.assert_array_equal(res.passed, inside)
    assert all(r == "" for r in res.reason[res.passed])
    assert all(("SNM" in r or "PNM" in r) and "fm^-3" in r for r in res.reason[~res.passed])


def test_bsk24_fails_the_filter_on_the_dilute_neutron_matter_point():
    # BSk24 PNM E/A at 0.02 fm^-3 is 5.55 MeV (physics_reference 1.7), above the chiral band
    res = low_density_filter(EmpiricalParameters.named("BSk24"))
    assert not bool(res.passed)
    assert str(res.reason).startswith("PNM E/A=5.546 MeV at n=0.02")
