"""Generator of the coefficient tables used by :mod:`crustuq.models.special.fermi_dirac`.

Run as ``python -m crustuq.models.special.fermi_dirac_fit`` (about a minute on one
core).  It writes ``fermi_dirac_tables.npz`` next to this file.  Everything in the
tables is computed here from first principles with mpmath (``mp.dps = 40``); no
coefficients are taken from any other project.

What is tabulated (non-normalised integrals F_j(eta) = int_0^inf x^j/(1+e^{x-eta}) dx,
j = -3/2, -1/2, 1/2, 3/2, 5/2, with F_{-3/2} = -2 dF_{-1/2}/deta; physics_reference §8):

* ``cheb_<name>``: for eta in [ETA_LO, ETA_HI) split into unit intervals
  [ETA_LO + i, ETA_LO + i + 1), the monomial coefficients (highest power first, for
  Horner) of the degree-``DEG`` polynomial in the local variable t = 2(eta - eta_i) - 1
  in [-1, 1] that interpolates F_j at the DEG+1 Chebyshev points of the first kind
  (near-minimax).  Reference values: F_j = -Gamma(j+1) Li_{j+1}(-e^eta) (mpmath
  ``polylog``), i.e. §8's normalised relation.
* ``ser_<name>``: coefficients of the convergent series for eta < ETA_LO,
  F_j = Gamma(j+1) sum_{k>=1} (-1)^{k+1} e^{k eta} / k^{j+1} (Horner in z = e^eta,
  highest power first, the common factor z taken out).
* ``asy_<name>``: coefficients a_k of the large-eta (Sommerfeld) expansion for
  eta >= ETA_HI, F_j = eta^{j+1} sum_k a_k eta^{-2k} with
  a_k = 2 (1 - 2^{1-2k}) zeta(2k) Gamma(j+1)/Gamma(j+2-2k) (a_0 = 1/(j+1)).  For
  half-integer j the cos(pi j) F_j(-eta) term of the exact inversion formula vanishes;
  the series is asymptotic and its optimal-truncation error is ~e^{-eta} < 1e-19 here.
* ``inv_cheb``: eta(u) = F_{1/2}^{-1}(e^u) on unit intervals of u in [U_LO, U_HI),
  same construction, degree ``DEG_INV``; used as the starting point of one Newton step.

``python -m crustuq.models.special.fermi_dirac_fit --check`` compares the shipped
module against mpmath on a dense grid and prints the maximum relative errors.
"""

from __future__ import annotations

import argparse
import os
import sys

import mpmath as mp
import numpy as np

#: left end of the tabulated eta range (series below it)
ETA_LO = -8.0
#: right end of the tabulated eta range (asymptotic expansion above it)
ETA_HI = 45.0
#: polynomial degree on each unit interval of eta
DEG = 15
#: number of terms of the eta < ETA_LO series (e^{7 ETA_LO} / 7^{-1/2} ~ 1e-24)
N_SER = 7
#: number of terms of the eta >= ETA_HI asymptotic expansion
N_ASY = 12
#: u = ln y range of the table for the inverse of F_{1/2}
U_LO = -8.0
U_HI = 5.5
#: degree of the inverse polynomials (on unit intervals of u)
DEG_INV = 12

#: j values (as 2j) and the names used in the npz
ORDERS = {"m3h": -3, "m1h": -1, "1h": 1, "3h": 3, "5h": 5}

TABLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fermi_dirac_tables.npz")


def fd_mp(two_j: int, eta) -> mp.mpf:
    """Reference F_j(eta) (non-normalised) at the current mpmath precision.

    F_j = -Gamma(j+1) Li_{j+1}(-e^eta), physics_reference §8 (valid for j = -3/2 too,
    where Gamma(-1/2) < 0 gives the negative F_{-3/2} = -2 dF_{-1/2}/deta).
    """
    j = mp.mpf(two_j) / 2
    v = -mp.gamma(j + 1) * mp.polylog(j + 1, -mp.exp(mp.mpf(eta)))
    return mp.re(v)


def fd_inv_mp(y) -> mp.mpf:
    """Reference eta with F_{1/2}(eta) = y (mpmath root finder, secant/Newton)."""
    y = mp.mpf(y)
    if y < mp.mpf("0.01"):
        x0 = mp.log(y / mp.gamma(mp.mpf(3) / 2))
    else:
        x0 = (mp.mpf(3) / 2 * y) ** (mp.mpf(2) / 3) if y > 3 else mp.log(mp.expm1(y * 1.2) + 1)
    return mp.findroot(lambda e: fd_mp(1, e) - y, x0, tol=mp.mpf(10) ** (-mp.mp.dps + 5))


def _cheb_monomial(func, a, b, deg):
    """Monomial coefficients (highest first) in t in [-1,1], x = a + (b-a)(t+1)/2, of
    the Chebyshev interpolant of func at the deg+1 first-kind Chebyshev points."""
    n = deg + 1
    nodes = [mp.cos(mp.pi * (i + mp.mpf(1) / 2) / n) for i in range(n)]
    vals = [func(a + (b - a) * (t + 1) / 2) for t in nodes]
    # Chebyshev coefficients c_k = (2/n) sum_i f_i T_k(t_i)  (c_0 halved)
    cheb = []
    for k in range(n):
        s = mp.fsum(vals[i] * mp.cos(k * mp.pi * (i + mp.mpf(1) / 2) / n) for i in range(n))
        cheb.append(2 * s / n)
    cheb[0] /= 2
    # T_k -> monomials, exact in mp arithmetic
    mono = [mp.mpf(0)] * n
    t_prev = [mp.mpf(1)]  # T_0
    t_cur = [mp.mpf(0), mp.mpf(1)]  # T_1
    for k in range(n):
        tk = t_prev if k == 0 else t_cur
        if k >= 2:
            nxt = [mp.mpf(0)] * (k + 1)
            for i, c in enumerate(t_cur):
                nxt[i + 1] += 2 * c
            for i, c in enumerate(t_prev):
                nxt[i] -= c
            t_prev, t_cur = t_cur, nxt
            tk = t_cur
        for i, c in enumerate(tk):
            mono[i] += cheb[k] * c
    return np.array([float(c) for c in reversed(mono)])


def build_tables(verbose: bool = True) -> dict[str, np.ndarray]:
    """Compute all tables with mpmath (dps = 40)."""
    mp.mp.dps = 40
    out: dict[str, np.ndarray] = {}
    n_int = int(round(ETA_HI - ETA_LO))
    for name, two_j in ORDERS.items():
        j = mp.mpf(two_j) / 2
        tab = np.empty((n_int, DEG + 1))
        for i in range(n_int):
            a = mp.mpf(ETA_LO) + i
            tab[i] = _cheb_monomial(lambda e: fd_mp(two_j, e), a, a + 1, DEG)
        out[f"cheb_{name}"] = tab
        g = mp.gamma(j + 1)
        ser = [g * (-1) ** (k + 1) / mp.mpf(k) ** (j + 1) for k in range(1, N_SER + 1)]
        out[f"ser_{name}"] = np.array([float(c) for c in reversed(ser)])
        asy = []
        for k in range(N_ASY):
            t2k = mp.mpf(1) / 2 if k == 0 else (1 - mp.mpf(2) ** (1 - 2 * k)) * mp.zeta(2 * k)
            asy.append(2 * t2k * g * mp.rgamma(j + 2 - 2 * k))
        out[f"asy_{name}"] = np.array([float(c) for c in asy])
        if verbose:
            print(f"F_{{{two_j}/2}}: table {tab.shape}", file=sys.stderr)
    n_inv = int(round(U_HI - U_LO))
    tab = np.empty((n_inv, DEG_INV + 1))
    for i in range(n_inv):
        a = mp.mpf(U_LO) + i
        tab[i] = _cheb_monomial(lambda u: fd_inv_mp(mp.exp(u)), a, a + 1, DEG_INV)
    out["inv_cheb"] = tab
    out["params"] = np.array([ETA_LO, ETA_HI, U_LO, U_HI], dtype=float)
    return out


def check(n_eta: int = 1500, n_inv: int = 400, seed: int = 1) -> dict[str, float]:
    """Max relative error of the shipped module vs mpmath (dps 30) on a dense grid of
    eta in [-60, 300] (uniform grid + random points), and of the inverse."""
    from crustuq.models.special import fermi_dirac as fd

    mp.mp.dps = 30
    rng = np.random.default_rng(seed)
    eta = np.concatenate([np.linspace(-60, 300, n_eta), rng.uniform(-10, 50, n_eta)])
    res = {}
    for name, two_j in ORDERS.items():
        got = getattr(fd, f"fd_{name}")(eta)
        ref = np.array([float(fd_mp(two_j, e)) for e in eta])
        res[f"fd_{name}"] = float(np.max(np.abs(got / ref - 1)))
        print(f"fd_{name}: max rel err {res[f'fd_{name}']:.3e}", flush=True)
    eta_t = np.concatenate([np.linspace(-60, 300, n_inv), rng.uniform(-10, 50, n_inv)])
    y = np.array([float(fd_mp(1, e)) for e in eta_t])
    got = fd.fd_inv_1h(y)
    ref = np.array([float(fd_inv_mp(v)) for v in y])
    res["fd_inv_1h (|d eta|/max(1,|eta|))"] = float(np.max(np.abs(got - ref) / np.maximum(1, np.abs(ref))))
    res["F_1/2(fd_inv_1h(y))/y - 1"] = float(np.max(np.abs(fd.fd_1h(got) / y - 1)))
    for k, v in res.items():
        print(f"{k}: {v:.3e}")
    return res


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="validate the shipped tables vs mpmath")
    p.add_argument("--out", default=TABLE_FILE)
    a = p.parse_args(argv)
    if a.check:
        check()
        return
    tabs = build_tables()
    np.savez(a.out, **tabs)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
