"""Fermi–Dirac integrals (models/special/fermi_dirac.py) against independent references:
mpmath polylogarithms / tanh-sinh quadrature (mp.dps = 30), exact values at eta = 0,
the derivative identities of physics_reference §8, and limits."""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crustuq.models.special import fermi_dirac as fd

ORDERS = {"m3h": -1.5, "m1h": -0.5, "1h": 0.5, "3h": 1.5, "5h": 2.5}
FUNCS = {"m3h": fd.fd_m3h, "m1h": fd.fd_m1h, "1h": fd.fd_1h, "3h": fd.fd_3h, "5h": fd.fd_5h}
RTOL = 1e-12


def fd_ref(j, eta):
    """F_j(eta) = -Gamma(j+1) Li_{j+1}(-e^eta) (§8), also for j = -3/2."""
    with mp.workdps(30):
        j = mp.mpf(j)
        return float(mp.re(-mp.gamma(j + 1) * mp.polylog(j + 1, -mp.exp(mp.mpf(eta)))))


def gfd_ref(k, eta, beta, deriv=False):
    """Generalised FD integral (or d/deta) by tanh-sinh quadrature in x, with breakpoints
    around the Fermi edge; e^eta factored out for eta < 0."""
    with mp.workdps(30):
        eta, beta, k = mp.mpf(eta), mp.mpf(beta), mp.mpf(k)
        e0 = max(eta, 0)
        pts = [mp.mpf(0)] + [e0 + d for d in (-30, -10, -3, 0, 1, 3, 6, 10, 20, 30, 45, 70) if e0 + d > 0]
        g = lambda x: x**k * mp.sqrt(1 + beta * x / 2)  # noqa: E731
        if eta < 0:
            s = mp.exp(eta)
            if deriv:
                return float(s * mp.quad(lambda x: g(x) * mp.exp(x) / (mp.exp(x) + s) ** 2, pts))
            return float(s * mp.quad(lambda x: g(x) / (mp.exp(x) + s), pts))
        if deriv:
            return float(mp.quad(lambda x: g(x) / (4 * mp.cosh((x - eta) / 2) ** 2), pts))
        return float(mp.quad(lambda x: g(x) / (1 + mp.exp(x - eta)), pts))


# grid: every region (series, each table interval incl. both ends, asymptotic), eta in [-60, 300]
ETA_GRID = np.unique(
    np.concatenate(
        [
            np.linspace(-60, 300, 37),
            np.arange(fd.ETA_LO, fd.ETA_HI + 1) + 1e-9,  # left end of every interval
            np.arange(fd.ETA_LO, fd.ETA_HI + 1) - 1e-9,  # right end of every interval
            np.arange(fd.ETA_LO, fd.ETA_HI) + 0.37,  # interior
            [0.0, 1.3, -3.7, 44.99, 45.0, 45.01, 1e3],
        ]
    )
)


@pytest.fixture(scope="module")
def ref_table():
    return {name: np.array([fd_ref(j, e) for e in ETA_GRID]) for name, j in ORDERS.items()}


@pytest.mark.parametrize("name", list(ORDERS))
def test_complete_fd_vs_mpmath(name, ref_table):
    got = FUNCS[name](ETA_GRID)
    err = np.abs(got / ref_table[name] - 1)
    assert err.max() < RTOL, (name, ETA_GRID[err.argmax()], err.max())


def test_known_value_and_eta0_exact():
    # physics_reference §8: F_{1/2}(1.3) = 1.68722587137
    assert fd.fd_1h(1.3) == pytest.approx(1.68722587137, rel=1e-11)
    # F_j(0) = Gamma(j+1) (1 - 2^{-j}) zeta(j+1)  (eta function), j = 1/2, 3/2, 5/2, -1/2
    for name, j in ORDERS.items():
        if j == -1.5:
            continue
        exact = math.gamma(j + 1) * (1 - 2.0**-j) * float(mp.zeta(j + 1))
        assert FUNCS[name](0.0) == pytest.approx(exact, rel=1e-14)
    # F_{-3/2}(0) = Gamma(-1/2) (1 - 2^{3/2}) zeta(-1/2)
    exact = math.gamma(-0.5) * (1 - 2.0**1.5) * float(mp.zeta(-0.5))
    assert fd.fd_m3h(0.0) == pytest.approx(exact, rel=1e-14)
    assert fd.fd_m3h(0.0) < 0


def test_shapes_scalars_and_broadcast():
    x = np.linspace(-5, 5, 12).reshape(3, 4)
    for f in FUNCS.values():
        assert f(x).shape == (3, 4)
        assert np.ndim(f(0.5)) == 0
        assert f(x[:, ::2]).shape == (3, 2)  # non-contiguous input
    assert fd.fd_inv_1h(np.ones((2, 3))).shape == (2, 3)
    assert fd.fd_generalized(1.5, np.zeros((4, 1)), np.array([0.0, 1.0])).shape == (4, 2)


def test_derivative_identities_finite_difference():
    # §8: dF_{1/2} = F_{-1/2}/2, dF_{3/2} = (3/2) F_{1/2}, dF_{5/2} = (5/2) F_{3/2},
    #     dF_{-1/2} = -F_{-3/2}/2 (central differences, h = 1e-4: error ~1e-9)
    eta = np.concatenate([np.linspace(-30, 80, 221), [fd.ETA_LO, fd.ETA_HI]])
    h = 1e-4

    def d(f):
        return (f(eta + h) - f(eta - h)) / (2 * h)

    np.testing.assert_allclose(d(fd.fd_1h), 0.5 * fd.fd_m1h(eta), rtol=1e-8)
    np.testing.assert_allclose(d(fd.fd_3h), 1.5 * fd.fd_1h(eta), rtol=1e-8)
    np.testing.assert_allclose(d(fd.fd_5h), 2.5 * fd.fd_3h(eta), rtol=1e-8)
    np.testing.assert_allclose(d(fd.fd_m1h), -0.5 * fd.fd_m3h(eta), rtol=1e-7)


def test_limits_far_outside_the_grid():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            lo = np.array([-700.0, -1e4, -np.inf])
            for name, j in ORDERS.items():
                v = FUNCS[name](lo)
                assert np.all(np.isfinite(v))
                # non-degenerate limit F_j -> Gamma(j+1) e^eta
                assert v[0] == pytest.approx(math.gamma(j + 1) * math.exp(-700.0), rel=1e-14)
                assert v[1] == 0.0 and v[2] == 0.0
            hi = np.array([1e4, 1e8, 1e30])
            for name, j in ORDERS.items():
                v = FUNCS[name](hi)
                # degenerate limit eta^{j+1}/(j+1) [1 + (pi^2/6) j (j+1)/eta^2]
                lead = hi ** (j + 1) / (j + 1) * (1 + math.pi**2 / 6 * j * (j + 1) / hi**2)
                np.testing.assert_allclose(v, lead, rtol=1e-14)
            assert fd.fd_1h(np.inf) == np.inf
            y = np.array([1e-300, 1e-30, 1e30, 1e300])
            eta = fd.fd_inv_1h(y)
            assert np.all(np.isfinite(eta))
            np.testing.assert_allclose(eta[:2], np.log(y[:2] / math.gamma(1.5)), rtol=1e-14)
            np.testing.assert_allclose(fd.fd_1h(eta[2:]), y[2:], rtol=1e-14)


def test_inverse_vs_mpmath_root():
    # the inverse against an independent mpmath root of the mpmath F_{1/2}
    etas = [-60.0, -20.0, -8.0001, -7.9, -3.3, -0.2, 0.0, 0.01, 2.2, 7.5, 19.0, 44.0, 48.5, 120.0, 300.0]
    with mp.workdps(30):
        for e in etas:
            y = fd_ref(0.5, e)
            root = mp.findroot(lambda x: -mp.gamma(1.5) * mp.polylog(1.5, -mp.exp(x)) - y, mp.mpf(e) + 0.1)
            got = fd.fd_inv_1h(y)
            assert abs(got - float(mp.re(root))) <= RTOL * max(1.0, abs(e)), (e, got)


def test_inverse_roundtrip_dense():
    eta = np.concatenate([np.linspace(-60, 300, 20001), np.linspace(-8.5, 6, 2001)])
    y = fd.fd_1h(eta)
    back = fd.fd_inv_1h(y)
    assert np.max(np.abs(back - eta) / np.maximum(1.0, np.abs(eta))) < 1e-14
    assert np.max(np.abs(fd.fd_1h(back) / y - 1)) < 1e-14


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-300.0, max_value=700.0))
def test_inverse_roundtrip_random_log_y(log_y):
    y = math.exp(log_y)
    eta = fd.fd_inv_1h(y)
    assert fd.fd_1h(eta) == pytest.approx(y, rel=1e-14)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-70.0, max_value=400.0))
def test_monotone_and_signs(eta):
    a = np.array([eta, eta + 1e-3])
    for name in ("m1h", "1h", "3h", "5h"):
        v = FUNCS[name](a)
        assert v[0] > 0 and v[1] > v[0]
    assert fd.fd_m3h(eta) < 0


@pytest.mark.parametrize("beta", [0.0, 1e-6, 1e-3, 0.1, 1.0, 4.0, 10.0, 100.0])
def test_generalized_vs_mpmath(beta):
    etas = np.array([-60.0, -12.0, -2.5, 0.0, 1.4, 3.0, 8.0, 17.0, 33.0, 47.0, 120.0, 300.0])
    r = fd.fd_generalized_all(etas, beta)
    for i, e in enumerate(etas):
        for ik, k in enumerate((0.5, 1.5, 2.5)):
            ref = gfd_ref(k, e, beta)
            assert r[ik][i] == pytest.approx(ref, rel=RTOL), (k, e, beta)
        if i % 3 == 1:
            # eta-derivative (k = 3/2; all three are checked by finite differences below)
            ref = gfd_ref(1.5, e, beta, deriv=True)
            assert r.df3h[i] == pytest.approx(ref, rel=RTOL), ("d", e, beta)


def test_generalized_beta0_is_complete_fd_and_derivatives():
    eta = np.linspace(-60, 300, 3001)
    np.testing.assert_allclose(fd.fd_generalized(0.5, eta, 0.0), fd.fd_1h(eta), rtol=1e-13)
    np.testing.assert_allclose(fd.fd_generalized(1.5, eta, 0.0), fd.fd_3h(eta), rtol=1e-13)
    np.testing.assert_allclose(fd.fd_generalized(2.5, eta, 0.0), fd.fd_5h(eta), rtol=1e-13)
    np.testing.assert_allclose(fd.fd_generalized_deta(0.5, eta, 0.0), 0.5 * fd.fd_m1h(eta), rtol=1e-13)
    np.testing.assert_allclose(fd.fd_generalized_deta(2.5, eta, 0.0), 2.5 * fd.fd_3h(eta), rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-50.0, max_value=250.0), st.floats(min_value=0.0, max_value=200.0))
def test_generalized_derivative_is_d_deta(eta, beta):
    # central difference of F_k in eta vs the quadrature of x^k sqrt(1+beta x/2) f(1-f)
    h = 1e-4 * max(1.0, abs(eta))
    for k in (0.5, 1.5, 2.5):
        fd_num = (fd.fd_generalized(k, eta + h, beta) - fd.fd_generalized(k, eta - h, beta)) / (2 * h)
        assert fd.fd_generalized_deta(k, eta, beta) == pytest.approx(fd_num, rel=1e-6)


def test_generalized_large_beta_limit():
    # beta -> inf: sqrt(1 + beta x/2) -> sqrt(beta/2) x^{1/2}  =>  F_k -> sqrt(beta/2) F_{k+1/2}
    # (integer order: F_1, F_2, F_3 from mpmath); relative correction ~ 1/beta
    beta = 1e8
    for eta in (-3.0, 2.0, 30.0):
        for k in (0.5, 1.5, 2.5):
            with mp.workdps(30):
                ref = float(-mp.gamma(k + 1.5) * mp.polylog(k + 1.5, -mp.exp(eta))) * math.sqrt(beta / 2)
            assert fd.fd_generalized(k, eta, beta) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fd.fd_1h(np.array([0.0, np.nan])), "eta = nan"),
        (lambda: fd.fd_inv_1h(0.0), "y = 0.0"),
        (lambda: fd.fd_inv_1h(-1.0), "y = -1.0"),
        (lambda: fd.fd_inv_1h(np.inf), "y = inf"),
        (lambda: fd.fd_generalized(1.5, 0.0, -1.0), "beta = -1.0"),
        (lambda: fd.fd_generalized(1.5, 0.0, np.nan), "beta = nan"),
        (lambda: fd.fd_generalized(1.0, 0.0, 1.0), "k = 1.0"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_table_generator_interpolant():
    # the generator's Chebyshev -> monomial construction reproduces an analytic function
    from crustuq.models.special import fermi_dirac_fit as fit

    with mp.workdps(30):
        c = fit._cheb_monomial(mp.exp, mp.mpf(0), mp.mpf(1), 15)
    t = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(np.polyval(c, t), np.exp((t + 1) / 2), rtol=2e-16 * 8)
