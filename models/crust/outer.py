r"""Outer crust of a cold, non-accreted neutron star from a nuclear mass table.

Model (Baym, Pethick & Sutherland 1971, ApJ 170, 299 [BPS]; as used by Pearson et al. 2018,
MNRAS 481, 2994, Sect. 3; lattice/Gibbs formulation of Chamel & Fantina 2016, PRD 93,
063001): each layer holds one nuclide (A, Z) (bare nuclei, no free neutrons) on a bcc
lattice, neutralised by a uniform ideal relativistic electron gas. Units: MeV, fm, fm^-3,
MeV fm^-3; all energies and chemical potentials **include rest masses** unless a name says
otherwise (``F_per_A`` has the neutron rest mass subtracted).

Equations (numbers are quoted in the code)
------------------------------------------
Nuclear mass (bare nucleus) from the atomic mass excess ME of a table,
Lunney, Pearson & Thibault 2003 (RMP 75, 1021) Eq. A4::

    M'(A,Z) c^2 = A m_u c^2 + ME - Z m_e c^2 + B_el(Z)                            (O1)

Densities: nuclei n_N, baryons n_B = A n_N, electrons n_e = Z n_N. Energy density::

    eps = n_N M' + eps_e(n_e) + eps_L,   eps_L = n_N E_L = -C e^2 Z^{2/3} n_e^{4/3}  (O2)

with E_L = -C Z^{5/3} e^2 n_e^{1/3} = -C_M Z^2 e^2 / a_N the bcc lattice energy per nucleus,
C = C_M (4 pi/3)^{1/3} = 1.444231 (``crustuq.models.crust.lattice``). Pressure
(P = n^2 d(eps/n)/dn at fixed composition; eps_L ~ n^{4/3})::

    P = P_e(n_e) + eps_L / 3                                                       (O3)

Gibbs energy per nucleon (= baryon chemical potential at fixed composition). With the
electron Euler relation eps_e + P_e = n_e mu_e (T = 0) and eps_L + eps_L/3 = (4/3) n_N E_L::

    g = (eps + P) / n_B = [ M' + Z mu_e + (4/3) E_L ] / A                          (O4)

(Chamel & Fantina 2016, Eq. 9 with their C < 0.) Because (O3) depends on the nuclide only
through Z, at fixed P the electron density n_e(Z, P) is common to all isotopes of Z and

    g(A, Z; P) = [ M'(A,Z) + h_Z(P) ] / A,     h_Z = Z mu_e + (4/3) E_L(Z, n_e(Z,P))   (O5)

which is what makes the minimisation over ~8000 nuclides cheap. At fixed composition the
Gibbs-Duhem relation (T = 0) gives

    dg/dP = 1 / n_B                                                                (O6)

used for Newton steps. Ground state at P: the nuclide minimising g (the equilibrium of
matter at fixed pressure, BPS). A transition a -> b is at g_a(P_t) = g_b(P_t); P and g are
continuous there, n_B jumps up. Neutron drip (Pearson et al. 2018, Sect. 3): the lowest
pressure where min g = m_n c^2 (a free neutron at rest; the neutron row of a table, Z = 0,
is ignored and m_n c^2 from ``constants`` is used instead). Nuclides with Z = 0 are never
candidates.

Numerics: g (minus m_u c^2, to keep ~1e-15 MeV resolution) is evaluated on a pressure grid
{0} U logspace(P_grid_min, P_grid_max) for all nuclides at once via (O5); n_e(Z, P) is solved
once per (Z, P) with Newton in ln n_e (started from a log-log interpolation of a tabulated
P_e(n_e); P(ln n_e) is convex and increasing right of the root, so convergence is monotone).
Before that, each element's isotopes are pruned to the lower envelope of the lines
g_A(h) = (M'_A + h)/A over the h range of the grid (exact; ~2700 of ~8500 nuclides remain). Every change of ground state between two grid points is then
located exactly by a bracketed Newton iteration on g_a - g_b using (O6), and the full table
is re-minimised at the root: if a third nuclide is lower there, it is a layer thinner than
the grid step and the interval is split (so thin layers are found, not grid-limited).

Fixed baryon density, T >= 0 (for the full-crust assembly, :func:`outer_crust_state`)
------------------------------------------------------------------------------------
**Approximation: cold nuclei in a hot electron gas; no ion thermal terms** (no ion
translational/phonon free energy, no thermal change of composition). The nuclide of each
layer is the T = 0 ground state; only the electron gas is evaluated at T (exactly, with
``crustuq.models.leptons.electrons``). Free-energy density, pressure, chemical potential::

    f = n_N M' + f_e(n_e, T) + eps_L,  P = P_e(n_e, T) + eps_L/3,
    mu_n = df/dn_B = [ M' + Z mu_e(n_e, T) + (4/3) E_L ] / A,   s = s_e(n_e, T)      (O7)

Between two layers the density jumps. For n_B inside a jump both phases coexist (Maxwell
construction): at the transition the two nuclides have equal P and mu_n (at T; for T > 0 the
pair of densities is re-solved by 2-d Newton from the T = 0 values), and with chi the volume
fraction of the denser phase::

    n_B = (1 - chi) n_a + chi n_b,   f = (1 - chi) f_a + chi f_b = mu_n n_B - P        (O8)

(lever rule). Composition fields then describe the phase with the larger volume fraction;
``coexistence`` flags such points. At T > 0 the boundaries move; if the constructions of a
layer with its two neighbours overlap, that (thin) layer has no stable range at this T and its
neighbours are joined directly (the construction stays the lower convex envelope of the
layers' f(n_B)). At high T and low density the T-independent lattice pressure can exceed the
stiffness of the non-degenerate electron gas (dP/dn_B < 0): such points are flagged
``STATE_UNSTABLE``; there the ions are a Coulomb liquid (``Gamma`` << 175) and the cold-crystal
approximation is not meant to be used.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from crustuq.models.constants import E2, HBARC, M_E, M_N, M_U, PI
from crustuq.models.crust.lattice import LATTICE_C, ion_sphere_radius, lattice_energy_per_nucleus
from crustuq.models.leptons.electrons import electron_gas
from crustuq.models.tables.mass_tables import (
    MassTable,
    electron_binding_energy_MeV,
    list_mass_tables,
    load_mass_table,
    merge_tables,
    nuclear_to_atomic_mass_excess,
)

__all__ = [
    "DEFAULT_MASS_TABLE",
    "NuclearMasses",
    "nuclear_mass_table",
    "resolve_mass_table",
    "FixedPressureState",
    "fixed_pressure_state",
    "OuterCrustLayer",
    "DripPoint",
    "OuterCrust",
    "outer_crust",
    "OuterCrustState",
    "outer_crust_state",
    "STATUS_OK",
    "STATUS_DRIP_NOT_REACHED",
    "STATUS_NO_CRUST",
    "STATUS_NOT_CONVERGED",
    "STATE_NEGATIVE_PRESSURE",
    "STATE_MAXWELL_NOT_CONVERGED",
    "STATE_UNSTABLE",
]

#: default table spec: measured AME2020 masses, HFB-24 elsewhere (Pearson et al. 2018)
DEFAULT_MASS_TABLE = "AME2020+HFB-24"

# --- status codes of :func:`outer_crust` (OuterCrust.status) -------------------------------
#: sequence and drip point found
STATUS_OK = 0
#: min g stays below m_n c^2 up to P_grid_max: no drip point (layers up to P_grid_max)
STATUS_DRIP_NOT_REACHED = 1
#: min g >= m_n c^2 already at P = 0: the table has no outer crust
STATUS_NO_CRUST = 2
#: a Newton solve (n_e(P), a transition or the drip point) did not converge; see message
STATUS_NOT_CONVERGED = 4

# --- status bits of :func:`outer_crust_state` (OuterCrustState.status) ----------------------
#: P < 0: n_B below the zero-pressure density of the first layer (the point-ion model of
#: matter is outside its validity there; values are still those of Eq. O7)
STATE_NEGATIVE_PRESSURE = 1
#: the finite-T Maxwell construction did not converge; T = 0 phase densities were used
STATE_MAXWELL_NOT_CONVERGED = 2
#: dP/dn_B <= 0 in a pure layer: at high T and low density the (negative, T-independent)
#: lattice pressure outgrows the stiffness of a non-degenerate electron gas; the cold-crystal
#: approximation is invalid there (the ions are a Coulomb liquid, see ``Gamma``)
STATE_UNSTABLE = 4

_M_N_RED = M_N - M_U                   # drip threshold for g - m_u c^2 (MeV)
#: ultra-relativistic electron pressure constant, P_e <= K_UR n_e^{4/3} (MeV fm)
_K_UR = HBARC * (3.0 * PI**2) ** (1.0 / 3.0) / 4.0
#: non-relativistic electron pressure constant, P_e <= K_NR n_e^{5/3} (MeV fm^2)
_K_NR = (3.0 * PI**2) ** (2.0 / 3.0) * HBARC**2 / (5.0 * M_E)
_THIRD_NUCLIDE_TOL = 1e-11             # MeV: a third nuclide must beat g_a = g_b by more


# =========================================================================================
# mass-table selection
# =========================================================================================
@runtime_checkable
class NuclearMasses(Protocol):
    """Anything with nuclide arrays and **nuclear** (bare-nucleus) rest energies.

    Attributes: ``Z``, ``N`` (integer arrays) and ``nuclear_mass_MeV`` (M'(A, Z) c^2 in MeV,
    rest mass and nuclear binding included, no electrons), e.g. CLDM vacuum masses. Optional
    ``name`` (str). Converted with :func:`nuclear_mass_table`.
    """

    Z: np.ndarray
    N: np.ndarray
    nuclear_mass_MeV: np.ndarray


def nuclear_mass_table(Z, N, nuclear_mass_MeV, *, name: str = "custom", source: str = "") -> MassTable:
    """A :class:`MassTable` from nuclear rest energies M'(A, Z) c^2 (MeV), e.g. CLDM vacuum masses.

    The atomic mass excess stored is ME = M' - A m_u + Z m_e - B_el(Z) (inverse of Eq. O1;
    ``nuclear_to_atomic_mass_excess``), so the outer crust recovers M' exactly (to rounding).
    """
    Zi = np.asarray(Z)
    Ni = np.asarray(N)
    if not (np.issubdtype(Zi.dtype, np.integer) and np.issubdtype(Ni.dtype, np.integer)):
        raise ValueError(f"Z, N: must be integer arrays, got dtypes {Zi.dtype}, {Ni.dtype}")
    Zi = np.atleast_1d(Zi).astype(np.int64)
    Ni = np.atleast_1d(Ni).astype(np.int64)
    m = np.atleast_1d(np.asarray(nuclear_mass_MeV, dtype=np.float64))
    if not (Zi.shape == Ni.shape == m.shape and Zi.ndim == 1):
        raise ValueError(f"Z, N, nuclear_mass_MeV: must be 1-d of equal length, got shapes {Zi.shape}, {Ni.shape}, {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"nuclear_mass_MeV: must be finite, got {m[~np.isfinite(m)][0]:.6g}")
    A = Zi + Ni
    me = nuclear_to_atomic_mass_excess(Zi, A, m)
    n = Zi.shape[0]
    return MassTable(name=name, source=source or f"{name}: nuclear masses supplied by the caller",
                     Z=Zi, N=Ni, A=A, mass_excess_MeV=np.atleast_1d(me), uncertainty_MeV=np.full(n, np.nan),
                     measured=np.zeros(n, dtype=bool), provenance=np.full(n, name))


def resolve_mass_table(table=DEFAULT_MASS_TABLE) -> MassTable:
    """Mass table from a spec.

    * ``MassTable``: used as is;
    * an object following :class:`NuclearMasses` (nuclear masses, e.g. CLDM vacuum masses);
    * a string: a shipped table name (``list_mass_tables()``, case-insensitive), or
      ``"P+F"``: table P where it has the nuclide, F elsewhere. If P is ``AME2020`` only its
      *measured* masses are used (estimated ``#`` values are replaced by F), otherwise all of
      P. Default ``"AME2020+HFB-24"`` (Pearson et al. 2018). A single ``"AME2020"`` uses all
      its entries, estimated ones included.
    """
    if isinstance(table, MassTable):
        return table
    if isinstance(table, NuclearMasses) and not isinstance(table, str):
        return nuclear_mass_table(table.Z, table.N, table.nuclear_mass_MeV, name=str(getattr(table, "name", "custom")))
    known = list_mass_tables()
    allowed = f"a MassTable, an object with Z, N, nuclear_mass_MeV, or a name / 'P+F' from {', '.join(known)}"
    if not isinstance(table, str):
        raise ValueError(f"table: got {type(table).__name__} {table!r}; allowed: {allowed}")
    parts = [p.strip() for p in table.split("+")]
    if not 1 <= len(parts) <= 2 or any(p.lower() not in {k.lower() for k in known} for p in parts):
        raise ValueError(f"table: unknown table spec {table!r}; allowed: {allowed}")
    tabs = [load_mass_table(p) for p in parts]
    if len(tabs) == 1:
        return tabs[0]
    return merge_tables(tabs[0], tabs[1], primary_measured_only=(tabs[0].name == "AME2020"))


@dataclass(frozen=True, eq=False)
class _Nuclides:
    """Candidate nuclides (Z >= 1) with reduced nuclear masses dm = M' - A m_u c^2 (MeV)."""

    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    dm: np.ndarray
    provenance: np.ndarray
    zu: np.ndarray       # unique Z
    zi: np.ndarray       # index into zu for every nuclide
    invA: np.ndarray

    def select(self, mask) -> "_Nuclides":
        Z = self.Z[mask]
        zu, zi = np.unique(Z, return_inverse=True)
        return _Nuclides(Z=Z, N=self.N[mask], A=self.A[mask], dm=self.dm[mask], provenance=self.provenance[mask],
                         zu=zu.astype(np.float64), zi=zi, invA=self.invA[mask])

    @classmethod
    def from_table(cls, t: MassTable) -> "_Nuclides":
        keep = t.Z >= 1                                  # the free neutron is treated explicitly
        Z, N, A = t.Z[keep], t.N[keep], t.A[keep]
        # Eq. (O1) minus A m_u: ME - Z m_e + B_el(Z)
        dm = t.mass_excess_MeV[keep] - Z * M_E + np.asarray(electron_binding_energy_MeV(Z), dtype=np.float64)
        zu, zi = np.unique(Z, return_inverse=True)
        return cls(Z=Z, N=N, A=A, dm=dm, provenance=t.provenance[keep], zu=zu.astype(np.float64), zi=zi,
                   invA=1.0 / A.astype(np.float64))


# =========================================================================================
# electrons at fixed total pressure (T = 0)
# =========================================================================================
def _solve_ne_T0(Z, P, max_iter: int = 80):
    """n_e (fm^-3) with P_e(n_e) + eps_L(Z, n_e)/3 = P (Eq. O3), T = 0, vectorised over Z, P.

    Newton in u = ln n_e from a point left of the root, n0 = max of the roots of the bounds
    P_e <= K_UR n^{4/3} and P_e <= K_NR n^{5/3} (so n0 <= n_e); the first step overshoots to
    the right, after which the convex increasing P(u) gives monotone quadratic convergence.
    Returns (n_e, electron state, converged mask, residual P(n_e) - P in MeV fm^-3).
    """
    Z, P = np.broadcast_arrays(np.asarray(Z, dtype=np.float64), np.asarray(P, dtype=np.float64))
    Lc = LATTICE_C * E2 / 3.0 * Z ** (2.0 / 3.0)          # P_L = -Lc n_e^{4/3}
    n_ur = (P / (_K_UR - Lc)) ** 0.75
    t_nr = np.maximum(Lc / _K_NR, (P / _K_NR) ** 0.2)     # n^{1/3} lower bounds (NR)
    u = np.log(np.maximum(n_ur, t_nr**3))
    u = np.array(u, dtype=np.float64).ravel()
    Pf, Lf = P.ravel(), Lc.ravel()
    _refine_initial_guess(u, Z.ravel(), Pf)
    conv = np.zeros(u.shape, dtype=bool)
    act = np.arange(u.size)
    du_prev = np.full(u.shape, np.inf)
    for _ in range(max_iter):
        if act.size == 0:
            break
        n = np.exp(u[act])
        eg = electron_gas(n, 0.0)
        n13 = np.cbrt(n)
        ptot = np.asarray(eg.P_e) - Lf[act] * n * n13
        dp_du = n * (n * np.asarray(eg.dmu_dn) - (4.0 / 3.0) * Lf[act] * n13)
        du = -(ptot - Pf[act]) / dp_du
        du = np.clip(du, -2.0, 2.0)
        u[act] += du
        # converged: step small (error after it ~ 1.5 du^2 < 2e-14), or residual at the rounding level of
        # P_e (~1e-12 n_e mu_e when P_e << n_e mu_e, i.e. near P = 0 for light nuclei), or the
        # steps stopped shrinking quadratically at a tiny size (noise floor of P_e)
        adu = np.abs(du)
        done = ((adu < 1e-7) | (np.abs(ptot - Pf[act]) <= 1e-12 * n * np.asarray(eg.mu_e))
                | ((adu < 1e-8) & (adu > 0.5 * du_prev[act])))
        du_prev[act] = adu
        conv[act[done]] = True
        act = act[~done]
    n = np.exp(u)
    eg = electron_gas(n, 0.0)
    resid = np.asarray(eg.P_e) - Lf * n * np.cbrt(n) - Pf
    shape = P.shape
    return n.reshape(shape), eg, conv.reshape(shape), resid.reshape(shape)


@functools.lru_cache(maxsize=1)
def _electron_pressure_table():
    """ln n_e, n_e^{4/3} and P_e(n_e) at T = 0 on a log grid 1e-22..1 fm^-3 (for initial guesses)."""
    n = np.geomspace(1e-22, 1.0, 3001)
    return np.log(n), n * np.cbrt(n), np.asarray(electron_gas(n, 0.0).P_e, dtype=np.float64)


def _refine_initial_guess(u, Z, P) -> None:
    """Replace the bound-based ln n_e guesses ``u`` (in place) by log-log interpolation of the
    tabulated P(n_e) = P_e - Lc(Z) n_e^{4/3} on its increasing, positive branch (relative
    error ~1e-5, so two Newton steps reach machine precision). Points below the table
    (P = 0 and tiny P) keep their guess."""
    lnn, n43, Pe = _electron_pressure_table()
    zu, inv = np.unique(Z, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(zu.size + 1))
    for k, z in enumerate(zu):
        idx = order[bounds[k]:bounds[k + 1]]
        ptot = Pe - LATTICE_C * E2 / 3.0 * z ** (2.0 / 3.0) * n43
        neg = np.flatnonzero(ptot <= 0)
        start = int(neg[-1]) + 1 if neg.size else 0
        if start >= ptot.size - 2:
            continue
        lp = np.log(ptot[start:])
        p = P[idx]
        inside = (p > ptot[start]) & (p < ptot[-1])
        u[idx[inside]] = np.interp(np.log(p[inside]), lp, lnn[start:])


def _h_of_Z(Z, P):
    """h_Z(P) = Z mu_e + (4/3) E_L of Eq. (O5) (MeV), with n_e, mu_e, converged mask."""
    n_e, eg, conv, _ = _solve_ne_T0(Z, P)
    mu_e = np.asarray(eg.mu_e).reshape(n_e.shape)
    h = Z * mu_e + (4.0 / 3.0) * lattice_energy_per_nucleus(Z, n_e)
    return h, n_e, mu_e, conv


def _nuclide_at_P(Z, A, dm, P):
    """Reduced Gibbs energy g - m_u (Eq. O4), n_B, n_e, mu_e of nuclides (Z, A) at pressure P."""
    Zf = np.asarray(Z, dtype=np.float64)
    Af = np.asarray(A, dtype=np.float64)
    h, n_e, mu_e, conv = _h_of_Z(Zf, P)
    g = (dm + h) / Af
    return g, n_e * Af / Zf, n_e, mu_e, conv


@dataclass(frozen=True, eq=False)
class FixedPressureState:
    """State of a one-component layer of nuclide (A, Z) at fixed pressure, T = 0 (Eqs. O2-O4).

    Fields (arrays of the broadcast shape): ``P`` (MeV fm^-3), ``n_B``, ``n_e`` (fm^-3),
    ``mu_e`` (MeV, rest mass incl.), ``mu_n`` = g, the Gibbs energy per nucleon (MeV, rest
    masses incl.), ``eps`` (energy density incl. rest masses, MeV fm^-3), ``converged``
    (bool) and ``residual`` (P(n_e) - P, MeV fm^-3).
    """

    P: np.ndarray
    n_B: np.ndarray
    n_e: np.ndarray
    mu_e: np.ndarray
    mu_n: np.ndarray
    eps: np.ndarray
    converged: np.ndarray
    residual: np.ndarray


def fixed_pressure_state(Z, A, nuclear_mass_MeV, P) -> FixedPressureState:
    """Layer of nuclide (A, Z) with nuclear rest energy M' (MeV) at pressure P (MeV fm^-3), T = 0.

    Solves Eq. (O3) for n_e (relativistic electrons from ``leptons.electrons`` + bcc lattice)
    and returns g (Eq. O4) and the densities. Vectorised, broadcasting Z, A, M', P. This is
    the "state at fixed pressure" primitive of the BPS construction.
    """
    Zf = np.asarray(Z, dtype=np.float64)
    Af = np.asarray(A, dtype=np.float64)
    M = np.asarray(nuclear_mass_MeV, dtype=np.float64)
    Pf = np.asarray(P, dtype=np.float64)
    if np.any(~np.isfinite(Pf)) or np.any(Pf < 0):
        bad = Pf[~(np.isfinite(Pf) & (Pf >= 0))].ravel()[0]
        raise ValueError(f"P: must be finite and >= 0 MeV fm^-3, got {float(bad):.6g}")
    if np.any(~(Zf >= 1)):
        raise ValueError(f"Z: must be >= 1 (the free neutron is not a layer), got {Zf[~(Zf >= 1)].ravel()[0]:.6g}")
    if np.any(~(Af >= Zf)):
        raise ValueError(f"A: must be >= Z, got A = {np.broadcast_to(Af, np.broadcast(Af, Zf).shape)[~(Af >= Zf)].ravel()[0]:.6g}")
    Zb, Ab, Mb, Pb = np.broadcast_arrays(Zf, Af, M, Pf)
    n_e, eg, conv, resid = _solve_ne_T0(Zb, Pb)
    mu_e = np.asarray(eg.mu_e).reshape(n_e.shape)
    E_L = lattice_energy_per_nucleus(Zb, n_e)
    g = (Mb + Zb * mu_e + (4.0 / 3.0) * E_L) / Ab
    n_B = n_e * Ab / Zb
    eps = n_B * g - Pb                                   # eps = n_B g - P (Eq. O4)
    return FixedPressureState(P=Pb, n_B=n_B, n_e=n_e, mu_e=mu_e, mu_n=g, eps=eps, converged=conv, residual=resid)


# =========================================================================================
# ground-state sequence
# =========================================================================================
def _envelope_candidates(nuc: _Nuclides, h_lo: np.ndarray, h_hi: np.ndarray) -> np.ndarray:
    """Mask of nuclides that can minimise g for some h_Z in [h_lo[Z], h_hi[Z]] (Eq. O5).

    For fixed Z, g_A(h) = dm_A / A + h / A is a straight line in h with slope 1/A; only lines
    on the lower envelope (convex-hull trick, slopes decreasing with A) can be the minimum,
    and only those whose envelope interval meets [h_lo, h_hi]. Exact pruning; a tiny margin
    keeps near-degenerate lines.
    """
    keep = np.zeros(nuc.Z.size, dtype=bool)
    starts = np.flatnonzero(np.r_[True, np.diff(nuc.zi) != 0])
    ends = np.r_[starts[1:], nuc.Z.size]
    for iz, (s0, s1) in enumerate(zip(starts, ends)):
        rows = np.arange(s0, s1)[np.argsort(nuc.A[s0:s1], kind="stable")]     # slopes 1/A decreasing
        m = nuc.invA[rows]
        c = nuc.dm[rows] * m
        hull: list[int] = []
        for k in range(rows.size):
            while len(hull) >= 2:
                i, j = hull[-2], hull[-1]
                # j is useless if line k undercuts i no later than j does
                x_ik = (c[k] - c[i]) / (m[i] - m[k])
                x_ij = (c[j] - c[i]) / (m[i] - m[j])
                if x_ik <= x_ij:
                    hull.pop()
                else:
                    break
            hull.append(k)
        hull_a = np.array(hull)
        # envelope interval of hull line q: [x(q-1, q), x(q, q+1)]
        mh, ch = m[hull_a], c[hull_a]
        x = (ch[1:] - ch[:-1]) / (mh[:-1] - mh[1:])
        left = np.r_[-np.inf, x]
        right = np.r_[x, np.inf]
        span = max(abs(h_lo[iz]), abs(h_hi[iz]), 1.0) * 1e-9
        ok = (right >= h_lo[iz] - span) & (left <= h_hi[iz] + span)
        keep[rows[hull_a[ok]]] = True
    return keep


def _grid_ground_state(nuc: _Nuclides, P: np.ndarray, block: int = 256):
    """Index of the nuclide minimising g at each P (Eq. O5) and that minimum (g - m_u, MeV)."""
    h, _, _, conv = _h_of_Z(nuc.zu[None, :], P[:, None])           # (nP, nZ)
    idx = np.empty(P.size, dtype=np.int64)
    gmin = np.empty(P.size)
    for s in range(0, P.size, block):
        G = h[s:s + block][:, nuc.zi]                                # (block, n_nuclides)
        G += nuc.dm
        G *= nuc.invA
        j = np.argmin(G, axis=1)
        idx[s:s + block] = j
        gmin[s:s + block] = G[np.arange(G.shape[0]), j]
    return idx, gmin, bool(np.all(conv))


def _bracketed_newton(fun, lo, hi, max_iter: int = 200):
    """Vectorised root of increasing functions D(P) on [lo, hi] (D(lo) <= 0 <= D(hi)).

    ``fun(P)`` returns (D, dD/dP, converged-mask of inner solves). Newton steps, bisection
    (geometric unless lo = 0) whenever a step leaves the bracket. Returns (P, ok).
    """
    lo = np.array(lo, dtype=np.float64)
    hi = np.array(hi, dtype=np.float64)
    P = np.where(lo > 0, np.sqrt(lo * np.maximum(hi, lo)), 0.5 * hi)
    ok = np.zeros(P.shape, dtype=bool)
    for _ in range(max_iter):
        D, dD, inner = fun(P)
        lo = np.where(D <= 0, P, lo)
        hi = np.where(D >= 0, P, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            Pn = P - D / dD
        bis = np.where(lo > 0, np.sqrt(lo * hi), 0.5 * (lo + hi))
        bad = ~np.isfinite(Pn) | (Pn <= lo) | (Pn >= hi)
        Pn = np.where(bad, bis, Pn)
        done = (D == 0) | (np.abs(Pn - P) <= 1e-15 * np.abs(P)) | (hi - lo <= 1e-15 * hi)
        ok = done & inner
        P = np.where(D == 0, P, Pn)
        if np.all(done):
            break
    return P, ok


@dataclass(frozen=True, eq=False)
class OuterCrustLayer:
    """One layer of the outer crust (T = 0 ground state over a pressure interval).

    ``P_min``..``P_max`` (MeV fm^-3), ``n_B_min``..``n_B_max`` (fm^-3; baryon density at the
    bottom/top of the layer; densities jump at a transition), ``mu_e_min``..``mu_e_max``
    (MeV, rest mass incl.), ``mu_n_min``..``mu_n_max`` (g = baryon chemical potential, MeV,
    rest mass incl.), ``nuclear_mass_MeV`` (M'(A,Z), Eq. O1), ``provenance`` (table the mass
    came from). The first layer starts at P = 0 (n_B_min = zero-pressure density).
    """

    Z: int
    N: int
    A: int
    P_min: float
    P_max: float
    n_B_min: float
    n_B_max: float
    mu_e_min: float
    mu_e_max: float
    mu_n_min: float
    mu_n_max: float
    nuclear_mass_MeV: float
    provenance: str

    @property
    def name(self) -> str:
        """Nuclide label such as ``56Fe``."""
        return f"{self.A}{_element(self.Z)}"


@dataclass(frozen=True, eq=False)
class DripPoint:
    """Neutron drip: lowest P where min g = m_n c^2. ``P`` (MeV fm^-3), ``n_B`` (fm^-3, of the
    last layer), ``mu_e`` (MeV), ``mu_n`` (= m_n c^2, MeV), nuclide ``Z, N, A``."""

    P: float
    n_B: float
    mu_e: float
    mu_n: float
    Z: int
    N: int
    A: int

    @property
    def name(self) -> str:
        return f"{self.A}{_element(self.Z)}"


@dataclass(frozen=True, eq=False)
class OuterCrust:
    """Ground-state sequence of the outer crust (result of :func:`outer_crust`).

    ``layers`` (tuple of :class:`OuterCrustLayer`, increasing pressure), ``drip``
    (:class:`DripPoint` or None), ``status`` (``STATUS_*`` code, 0 = OK), ``message``,
    ``table_name``, ``table_source``, grid parameters. Array views: :attr:`Z`, :attr:`A`, ...
    """

    table_name: str
    table_source: str
    layers: tuple
    drip: DripPoint | None
    status: int
    message: str
    P_grid_min: float
    P_grid_max: float
    n_grid: int
    _arrays: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        L = self.layers
        arr = {k: np.array([getattr(l, k) for l in L]) for k in (
            "Z", "N", "A", "P_min", "P_max", "n_B_min", "n_B_max", "mu_e_min", "mu_e_max",
            "mu_n_min", "mu_n_max", "nuclear_mass_MeV")}
        for a in arr.values():
            a.setflags(write=False)
        object.__setattr__(self, "_arrays", arr)

    def __getattr__(self, name):
        arrays = self.__dict__.get("_arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def names(self) -> list[str]:
        """Nuclide labels of the layers, e.g. ``['56Fe', '62Ni', ...]``."""
        return [l.name for l in self.layers]

    @property
    def n_B_end(self) -> float:
        """Largest baryon density of the outer crust (fm^-3): drip density, else the top layer's."""
        return float(self.drip.n_B if self.drip is not None else self.layers[-1].n_B_max) if self.layers else 0.0

    def summary(self) -> str:
        """Human-readable table of the layers and the drip point."""
        rows = [f"outer crust, table {self.table_name} (status {self.status}: {self.message})",
                f"{'nuclide':>8} {'Z':>4} {'N':>4} {'P_min':>11} {'P_max':>11} {'n_B_min':>11} {'n_B_max':>11} "
                f"{'mu_e_min':>9} {'mu_e_max':>9}   [MeV fm^-3, fm^-3, MeV]"]
        for l in self.layers:
            rows.append(f"{l.name:>8} {l.Z:4d} {l.N:4d} {l.P_min:11.4e} {l.P_max:11.4e} {l.n_B_min:11.4e} "
                        f"{l.n_B_max:11.4e} {l.mu_e_min:9.4f} {l.mu_e_max:9.4f}")
        if self.drip is not None:
            d = self.drip
            rows.append(f"neutron drip: {d.name}, P = {d.P:.5e} MeV fm^-3, n_B = {d.n_B:.5e} fm^-3, "
                        f"mu_e = {d.mu_e:.4f} MeV")
        return "\n".join(rows)


def outer_crust(table=DEFAULT_MASS_TABLE, *, P_grid_min: float = 1e-14, P_grid_max: float = 1e-2,
                n_grid: int = 2000) -> OuterCrust:
    """Ground-state sequence of the cold outer crust and the neutron-drip point.

    Parameters
    ----------
    table : str, MassTable or NuclearMasses
        Mass table spec, see :func:`resolve_mass_table` (default ``"AME2020+HFB-24"``).
    P_grid_min, P_grid_max : float
        Range (MeV fm^-3) of the logarithmic search grid; P = 0 is always added. Transition
        pressures are solved exactly, so the grid only has to resolve layers (thinner ones
        are still found when they separate two grid-detected layers).
    n_grid : int
        Number of logarithmic grid points (>= 10).

    Returns an :class:`OuterCrust` (layers, drip point, status; Eqs. O4-O6 of the module
    docstring). String specs with the default grid are cached.
    """
    _check_grid(P_grid_min, P_grid_max, n_grid)
    if isinstance(table, str):
        return _outer_crust_cached(table.strip(), float(P_grid_min), float(P_grid_max), int(n_grid))
    return _outer_crust(table, P_grid_min, P_grid_max, n_grid)


@functools.lru_cache(maxsize=32)
def _outer_crust_cached(table: str, P_grid_min: float, P_grid_max: float, n_grid: int) -> OuterCrust:
    return _outer_crust(table, P_grid_min, P_grid_max, n_grid)


def _check_grid(P_grid_min, P_grid_max, n_grid) -> None:
    for label, v in (("P_grid_min", P_grid_min), ("P_grid_max", P_grid_max)):
        if not (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                and math.isfinite(v) and v > 0):
            raise ValueError(f"{label}: must be a finite pressure > 0 MeV fm^-3, got {v!r}")
    if not P_grid_max > P_grid_min:
        raise ValueError(f"P_grid_max: must exceed P_grid_min = {P_grid_min!r}, got {P_grid_max!r}")
    if not (isinstance(n_grid, (int, np.integer)) and not isinstance(n_grid, bool) and n_grid >= 10):
        raise ValueError(f"n_grid: must be an integer >= 10, got {n_grid!r}")


def _outer_crust(table, P_grid_min, P_grid_max, n_grid) -> OuterCrust:
    _check_grid(P_grid_min, P_grid_max, n_grid)
    t = resolve_mass_table(table)
    nuc = _Nuclides.from_table(t)
    if nuc.Z.size == 0:
        raise ValueError(f"table: {t.name!r} has no nuclide with Z >= 1")
    notes = []
    P = np.concatenate([[0.0], np.geomspace(P_grid_min, P_grid_max, int(n_grid))])
    # prune to nuclides on the per-Z lower envelope over the h range of the grid (exact)
    h_ends = _h_of_Z(nuc.zu[:, None], np.array([[P[0], P[-1]]]))[0]
    nuc = nuc.select(_envelope_candidates(nuc, h_ends[:, 0], h_ends[:, 1]))
    win, gmin, conv = _grid_ground_state(nuc, P)
    if not conv:
        notes.append("n_e(P) not converged on part of the grid")

    def make(status, msg, layers=(), drip=None):
        if notes:
            status |= STATUS_NOT_CONVERGED
            msg = "; ".join([msg, *notes])
        return OuterCrust(table_name=t.name, table_source=t.source, layers=tuple(layers), drip=drip,
                          status=status, message=msg, P_grid_min=float(P_grid_min), P_grid_max=float(P_grid_max),
                          n_grid=int(n_grid))

    above = np.flatnonzero(gmin >= _M_N_RED)
    if above.size and above[0] == 0:
        return make(STATUS_NO_CRUST, "min g >= m_n c^2 already at P = 0: no outer crust")
    k_end = int(above[0]) if above.size else P.size - 1          # last grid point considered

    # --- exact transitions between grid points (recursive splitting for thin layers) ---------
    ch = np.flatnonzero(win[1:k_end + 1] != win[:k_end])
    pending = [(int(win[k]), int(win[k + 1]), float(P[k]), float(P[k + 1])) for k in ch]
    transitions = []                                            # (P_t, a, b)
    while pending:
        a = np.array([p[0] for p in pending]); b = np.array([p[1] for p in pending])
        lo = np.array([p[2] for p in pending]); hi = np.array([p[3] for p in pending])

        def D(Pq, a=a, b=b):
            ga, na, _, _, ca = _nuclide_at_P(nuc.Z[a], nuc.A[a], nuc.dm[a], Pq)
            gb, nb, _, _, cb = _nuclide_at_P(nuc.Z[b], nuc.A[b], nuc.dm[b], Pq)
            return ga - gb, 1.0 / na - 1.0 / nb, ca & cb

        Pt, ok = _bracketed_newton(D, lo, hi)
        if not np.all(ok):
            notes.append(f"{int((~ok).sum())} transition pressure(s) not converged")
        jw, gw, _ = _grid_ground_state(nuc, Pt)
        ga = _nuclide_at_P(nuc.Z[a], nuc.A[a], nuc.dm[a], Pt)[0]
        gb = _nuclide_at_P(nuc.Z[b], nuc.A[b], nuc.dm[b], Pt)[0]
        pending = []
        for i in range(Pt.size):
            j = int(jw[i])
            if j not in (a[i], b[i]) and gw[i] < min(ga[i], gb[i]) - _THIRD_NUCLIDE_TOL:
                pending += [(int(a[i]), j, float(lo[i]), float(Pt[i])), (j, int(b[i]), float(Pt[i]), float(hi[i]))]
            else:
                transitions.append((float(Pt[i]), int(a[i]), int(b[i])))
    transitions.sort()
    seq = [int(win[0])] + [tr[2] for tr in transitions]
    bottoms = [0.0] + [tr[0] for tr in transitions]
    tops = [tr[0] for tr in transitions] + [float(P[k_end])]

    # --- neutron drip (Eq. O6 Newton on g = m_n) -----------------------------------------------
    seq_a = np.array(seq)
    g_top = _nuclide_at_P(nuc.Z[seq_a], nuc.A[seq_a], nuc.dm[seq_a], np.array(tops))[0]
    drip = None
    if above.size:
        i_d = int(np.flatnonzero(g_top >= _M_N_RED)[0])
        j = seq[i_d]

        def Dd(Pq, j=j):
            g, n, _, _, c = _nuclide_at_P(nuc.Z[j], nuc.A[j], nuc.dm[j], Pq)
            return g - _M_N_RED, 1.0 / n, c

        Pd, okd = _bracketed_newton(Dd, np.array([bottoms[i_d]]), np.array([tops[i_d]]))
        if not okd[0]:
            notes.append("drip pressure not converged")
        seq, bottoms, tops = seq[:i_d + 1], bottoms[:i_d + 1], tops[:i_d] + [float(Pd[0])]
        status, msg = STATUS_OK, "ok"
    else:
        status, msg = STATUS_DRIP_NOT_REACHED, f"min g < m_n c^2 up to P_grid_max = {P_grid_max:g} MeV fm^-3: no drip point"

    # --- layer table ---------------------------------------------------------------------------
    s = np.array(seq)
    Zs, As, dms = nuc.Z[s], nuc.A[s], nuc.dm[s]
    gb_, nb_, _, mub_, _ = _nuclide_at_P(Zs, As, dms, np.array(bottoms))
    gt_, nt_, _, mut_, _ = _nuclide_at_P(Zs, As, dms, np.array(tops))
    layers = [OuterCrustLayer(Z=int(Zs[i]), N=int(nuc.N[s[i]]), A=int(As[i]), P_min=float(bottoms[i]),
                              P_max=float(tops[i]), n_B_min=float(nb_[i]), n_B_max=float(nt_[i]),
                              mu_e_min=float(mub_[i]), mu_e_max=float(mut_[i]), mu_n_min=float(gb_[i] + M_U),
                              mu_n_max=float(gt_[i] + M_U), nuclear_mass_MeV=float(dms[i] + As[i] * M_U),
                              provenance=str(nuc.provenance[s[i]]))
              for i in range(s.size)]
    if status == STATUS_OK:
        l = layers[-1]
        drip = DripPoint(P=l.P_max, n_B=l.n_B_max, mu_e=l.mu_e_max, mu_n=M_N, Z=l.Z, N=l.N, A=l.A)
    return make(status, msg, layers, drip)


# =========================================================================================
# fixed baryon density, T >= 0
# =========================================================================================
@dataclass(frozen=True, eq=False)
class OuterCrustState:
    """Outer-crust matter at fixed (n_B, T) (:func:`outer_crust_state`); arrays of the
    broadcast shape of (n_B, T).

    * ``Z``, ``N``, ``A`` -- nuclide (A = A_cl = A_cell: no free nucleons in the outer crust);
      in a coexistence region, the phase with the larger volume fraction.
    * ``Y_e`` = Z/A of that phase; ``r_WS`` -- ion-sphere radius a_N = (3/(4 pi n_N))^{1/3} (fm)
      of that phase.
    * ``P`` (MeV fm^-3); ``F_per_A`` = (f - n_B m_n c^2)/n_B (MeV); ``mu_n`` = baryon chemical
      potential (= g, MeV, rest mass incl.); ``mu_e`` (MeV, rest mass incl., of that phase);
      ``S_per_A`` (entropy per nucleon, k_B = 1; electrons only).
    * ``coexistence`` (bool), ``phase_fraction`` (volume fraction chi of the denser phase;
      0 outside coexistence), ``layer`` (index of the layer whose composition is reported),
      ``status`` (bit mask of ``STATE_*``; 0 = OK).
    * ``Gamma`` = Z^2 e^2 / (a_N T), the ion Coulomb coupling parameter (diagnostic; inf at
      T = 0). A one-component plasma crystallises at Gamma ~ 175 (Potekhin & Chabrier 2000);
      below, the lattice energy used here is only approximate (liquid, no ion thermal terms).
    """

    n_B: np.ndarray
    T: np.ndarray
    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    Y_e: np.ndarray
    r_WS: np.ndarray
    P: np.ndarray
    F_per_A: np.ndarray
    mu_n: np.ndarray
    mu_e: np.ndarray
    S_per_A: np.ndarray
    coexistence: np.ndarray
    phase_fraction: np.ndarray
    layer: np.ndarray
    Gamma: np.ndarray
    status: np.ndarray

    @property
    def A_cl(self) -> np.ndarray:
        """Nucleons in the cluster (= A)."""
        return self.A

    @property
    def A_cell(self) -> np.ndarray:
        """Nucleons per Wigner-Seitz cell (= A in the outer crust)."""
        return self.A


def _fixed_density(Z, A, dm, n_B, T):
    """Eq. (O7) for a pure layer: dict of f, P, g - m_u, dg/dn_B, mu_e, s, n_e (arrays)."""
    Zf = np.asarray(Z, dtype=np.float64)
    Af = np.asarray(A, dtype=np.float64)
    n_N = n_B / Af
    n_e = Zf * n_N
    eg = electron_gas(n_e, T)
    mu_e = np.asarray(eg.mu_e)
    E_L = lattice_energy_per_nucleus(Zf, n_e)
    eps_L = n_N * E_L
    f_nonnuc = np.asarray(eg.f_e) + eps_L                      # f - n_N M'
    return dict(
        F_per_A=dm / Af + (M_U - M_N) + f_nonnuc / n_B,        # (f - n_B m_n)/n_B
        f=n_N * (dm + Af * M_U) + f_nonnuc,
        P=np.asarray(eg.P_e) + eps_L / 3.0,
        g=(dm + Zf * mu_e + (4.0 / 3.0) * E_L) / Af,            # mu_n - m_u
        dg=(Zf / Af**2) * (Zf * np.asarray(eg.dmu_dn) + (4.0 / 9.0) * E_L / n_e),
        mu_e=mu_e, s=np.asarray(eg.s_e), n_N=n_N,
    )


def _maxwell_at_T(Za, Aa, dma, Zb, Ab, dmb, n_a0, n_b0, T, max_iter: int = 60):
    """Coexisting densities (n_a < n_b) of layers a, b with equal P and mu_n at temperature T.

    2-d Newton on r1 = P_a - P_b, r2 = g_a - g_b with dP/dn = n dg/dn (fixed T):
    delta n_a = (r1 - n_b r2) / (g_a' (n_b - n_a)), delta n_b = (r1 - n_a r2) / (g_b' (n_b - n_a)).
    Returns n_a, n_b, P, g - m_u, converged mask.
    """
    # start from an ordered, non-degenerate pair (n_b > n_a by at least 1 %)
    na = np.minimum(n_a0, n_b0)
    nb = np.maximum(n_a0, n_b0)
    mid = np.sqrt(na * nb)
    na = np.minimum(na, mid / 1.005)
    nb = np.maximum(nb, mid * 1.005)
    ok = np.zeros(na.shape, dtype=bool)
    for _ in range(max_iter):
        sa = _fixed_density(Za, Aa, dma, na, T)
        sb = _fixed_density(Zb, Ab, dmb, nb, T)
        r1 = sa["P"] - sb["P"]
        r2 = sa["g"] - sb["g"]
        dn = nb - na
        da = (r1 - nb * r2) / (sa["dg"] * dn)
        db = (r1 - na * r2) / (sb["dg"] * dn)
        # damping: relative steps <= 30 %, and keep n_b > n_a
        lam = np.minimum(1.0, 0.3 / np.maximum(np.abs(da) / na, np.abs(db) / nb).clip(1e-300))
        for _h in range(40):
            bad = (nb + lam * db) <= (na + lam * da)
            if not np.any(bad):
                break
            lam = np.where(bad, 0.5 * lam, lam)
        da, db = lam * da, lam * db
        na, nb = na + da, nb + db
        ok = (np.abs(da) <= 1e-11 * na) & (np.abs(db) <= 1e-11 * nb) & (nb > na)
        if np.all(ok):
            break
    sa = _fixed_density(Za, Aa, dma, na, T)
    return na, nb, sa["P"], sa["g"], ok


def _adjacent_transitions(Zl, Al, dml, crust: OuterCrust, Tu: np.ndarray):
    """Transitions between neighbouring layers at every temperature in ``Tu`` (vectorised):
    arrays (nT, nL - 1) of n_a, n_b, P_t, g_t - m_u and a converged mask; T = 0 rows are the
    exact values of the sequence, T > 0 rows the finite-T Maxwell construction."""
    K = len(crust) - 1
    n_lo = np.tile(crust.n_B_max[:-1].astype(np.float64), (Tu.size, 1))
    n_hi = np.tile(crust.n_B_min[1:].astype(np.float64), (Tu.size, 1))
    P_t = np.tile(crust.P_max[:-1].astype(np.float64), (Tu.size, 1))
    g_t = np.tile(crust.mu_n_max[:-1] - M_U, (Tu.size, 1))
    ok = np.ones((Tu.size, K), dtype=bool)
    hot = Tu > 0
    if np.any(hot):
        nh = int(hot.sum())
        a = np.tile(np.arange(K), nh)
        b = a + 1
        TT = np.repeat(Tu[hot], K)
        res = _maxwell_at_T(Zl[a], Al[a], dml[a], Zl[b], Al[b], dml[b], n_lo[hot].ravel(), n_hi[hot].ravel(), TT)
        conv = res[4].reshape(nh, K)
        for arr, val in zip((n_lo, n_hi, P_t, g_t, ok), res):
            sub = arr[hot]
            sub[conv] = val.reshape(nh, K)[conv]           # not converged: keep the T = 0 values
            arr[hot] = sub
        ok[hot] = conv
    return n_lo, n_hi, P_t, g_t, ok


def _transitions_at_T(Zl, Al, dml, T, n_lo, n_hi, P_t, g_t, ok):
    """Phase boundaries at temperature T with the T = 0 layer nuclides (Maxwell construction).

    Starts from the neighbour transitions; where two consecutive constructions overlap
    (n_b of one above n_a of the next), the layer between them has no stable range at this T
    (its free energy lies above the common tangent of its neighbours): it is dropped and the
    neighbours are joined directly, until the boundaries are ordered. Returns
    (active layer indices, n_a, n_b, P_t, g_t - m_u, status bits).
    """
    act = np.arange(n_lo.size + 1)
    n_lo, n_hi, P_t, g_t, ok = (np.array(x) for x in (n_lo, n_hi, P_t, g_t, ok))
    while n_lo.size > 1:
        bad = np.flatnonzero(n_hi[:-1] > n_lo[1:])
        if bad.size == 0:
            break
        j = int(bad[0])                                   # layer act[j + 1] vanishes
        a, b = act[j], act[j + 2]
        res = _maxwell_at_T(Zl[a:a + 1], Al[a:a + 1], dml[a:a + 1], Zl[b:b + 1], Al[b:b + 1], dml[b:b + 1],
                            n_lo[j:j + 1], n_hi[j + 1:j + 2], np.array([T]))
        act = np.delete(act, j + 1)
        n_lo, n_hi, P_t, g_t, ok = (np.concatenate([x[:j], np.atleast_1d(v), x[j + 2:]])
                                    for x, v in zip((n_lo, n_hi, P_t, g_t, ok), res))
    status = 0 if np.all(ok) else STATE_MAXWELL_NOT_CONVERGED
    return act, n_lo, n_hi, P_t, g_t, status


def outer_crust_state(n_B, T=0.0, crust=None) -> OuterCrustState:
    """Outer-crust matter at baryon density n_B (fm^-3) and temperature T (MeV), vectorised.

    ``crust``: an :class:`OuterCrust`, a table spec for :func:`outer_crust`, or None (default
    table). The nuclide is that of the T = 0 layer containing n_B; the electrons are the exact
    finite-T gas; **cold nuclei in a hot electron gas, no ion thermal terms** (Eq. O7). Inside
    a density jump between layers: two-phase (Maxwell) coexistence at the transition
    (Eq. O8; re-solved at T > 0), flagged by ``coexistence``. Thermodynamically consistent
    in each pure layer: P = n_B^2 d(F_per_A)/dn_B, mu_n = d[n_B (F_per_A + m_n)]/dn_B,
    S_per_A = -d(F_per_A)/dT. Domain 0 < n_B <= the T = 0 drip density of ``crust`` (or its
    top density if it has no drip point), at every T. Pass an :class:`OuterCrust` when calling
    repeatedly with a MassTable (string specs are cached, tables are not).
    """
    crust = crust if isinstance(crust, OuterCrust) else outer_crust(DEFAULT_MASS_TABLE if crust is None else crust)
    if not crust.layers:
        raise ValueError(f"crust: table {crust.table_name!r} has no outer-crust layer (status {crust.status})")
    nB = np.asarray(n_B, dtype=np.float64)
    Tq = np.asarray(T, dtype=np.float64)
    if np.any(~np.isfinite(nB)) or np.any(nB <= 0):
        raise ValueError(f"n_B: must be finite and > 0 fm^-3, got {nB[~(np.isfinite(nB) & (nB > 0))].ravel()[0]:.6g}")
    if np.any(~np.isfinite(Tq)) or np.any(Tq < 0):
        raise ValueError(f"T: must be finite and >= 0 MeV, got {Tq[~(np.isfinite(Tq) & (Tq >= 0))].ravel()[0]:.6g}")
    n_top = crust.n_B_end
    if np.any(nB > n_top * (1 + 1e-12)):
        raise ValueError(f"n_B: {nB[nB > n_top * (1 + 1e-12)].ravel()[0]:.6g} fm^-3 is above the outer crust; "
                         f"allowed: 0 < n_B <= {n_top:.6e} fm^-3 (neutron drip of {crust.table_name})")
    nb_b, T_b = np.broadcast_arrays(nB, Tq)
    shape = nb_b.shape
    nbf, Tf = nb_b.ravel().copy(), T_b.ravel().copy()
    Zl, Al, Nl = crust.Z.astype(np.float64), crust.A.astype(np.float64), crust.N
    dml = crust.nuclear_mass_MeV - Al * M_U
    nL = len(crust)
    npt = nbf.size
    la = np.zeros(npt, dtype=np.int64)                           # (lower-density) phase layer
    lb = np.zeros(npt, dtype=np.int64)                           # denser phase (coexistence)
    coex = np.zeros(npt, dtype=bool)
    status = np.zeros(npt, dtype=np.int64)
    n_lo_pt = np.zeros(npt); n_hi_pt = np.zeros(npt); Pt_pt = np.zeros(npt); gt_pt = np.zeros(npt)
    Tu, Tinv = np.unique(Tf, return_inverse=True)
    if nL > 1:
        first = _adjacent_transitions(Zl, Al, dml, crust, Tu)
        for r in range(Tu.size):
            act, n_lo, n_hi, P_t, g_t, row_status = _transitions_at_T(Zl, Al, dml, Tu[r], *(x[r] for x in first))
            bnd = np.column_stack([n_lo, n_hi]).ravel()
            sel = np.flatnonzero(Tinv == r)
            pos = np.searchsorted(bnd, nbf[sel], side="left")    # n == boundary -> pure layer
            is_gap = (pos % 2) == 1
            k = np.clip((pos - 1) // 2, 0, n_lo.size - 1)
            la[sel] = np.where(is_gap, act[k], act[pos // 2])
            lb[sel] = np.where(is_gap, act[np.minimum(k + 1, act.size - 1)], la[sel])
            coex[sel] = is_gap
            status[sel] |= row_status
            n_lo_pt[sel], n_hi_pt[sel], Pt_pt[sel], gt_pt[sel] = n_lo[k], n_hi[k], P_t[k], g_t[k]

    # pure-layer values (for coexistence points: phase a at n_lo, phase b at n_hi)
    dens_a = np.where(coex, n_lo_pt, nbf)
    sa = _fixed_density(Zl[la], Al[la], dml[la], dens_a, Tf)
    F = sa["F_per_A"].copy(); Pq = sa["P"].copy(); g = sa["g"].copy(); mu_e = sa["mu_e"].copy()
    S = sa["s"] / dens_a
    n_N = sa["n_N"].copy()
    chi = np.zeros(npt)
    rep = la.copy()
    if np.any(coex):
        c = np.flatnonzero(coex)
        sb = _fixed_density(Zl[lb[c]], Al[lb[c]], dml[lb[c]], n_hi_pt[c], Tf[c])
        chi[c] = (nbf[c] - n_lo_pt[c]) / (n_hi_pt[c] - n_lo_pt[c])
        f_mix = (1 - chi[c]) * sa["f"][c] + chi[c] * sb["f"]              # Eq. (O8), lever rule
        s_mix = (1 - chi[c]) * sa["s"][c] + chi[c] * sb["s"]
        F[c] = f_mix / nbf[c] - M_N
        S[c] = s_mix / nbf[c]
        Pq[c] = Pt_pt[c]
        g[c] = gt_pt[c]
        use_b = chi[c] > 0.5
        rep[c] = np.where(use_b, lb[c], la[c])
        mu_e[c] = np.where(use_b, sb["mu_e"], mu_e[c])
        n_N[c] = np.where(use_b, sb["n_N"], n_N[c])
    status |= np.where(Pq < 0, STATE_NEGATIVE_PRESSURE, 0)
    status |= np.where(~coex & ~(sa["dg"] > 0), STATE_UNSTABLE, 0)        # dP/dn = n dg/dn
    Zr, Ar = Zl[rep], Al[rep]
    r_WS = ion_sphere_radius(n_N)
    with np.errstate(divide="ignore"):
        Gamma = np.where(Tf > 0, Zr**2 * E2 / (r_WS * np.where(Tf > 0, Tf, 1.0)), np.inf)
    out = dict(n_B=nbf, T=Tf, Z=Zr.astype(np.int64), N=Nl[rep].astype(np.int64), A=Ar.astype(np.int64),
               Y_e=Zr / Ar, r_WS=r_WS, P=Pq, F_per_A=F, mu_n=g + M_U, mu_e=mu_e, S_per_A=S,
               coexistence=coex, phase_fraction=chi, layer=rep, Gamma=Gamma, status=status)
    return OuterCrustState(**{k: v.reshape(shape) for k, v in out.items()})


# =========================================================================================
_ELEMENTS = (
    "n H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb "
    "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf "
    "Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()


def _element(Z: int) -> str:
    return _ELEMENTS[Z] if 0 <= Z < len(_ELEMENTS) else f"Z{Z}-"
