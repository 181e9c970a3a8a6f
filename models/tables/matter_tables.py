"""Nuclear-matter constraint tables: empirical (NEP) parameter sets, chiral-EFT bands,
Skyrme homogeneous-matter curves.

Files, sources, citations and licences: ``models/data/README.md``. The nucleardatapy files
(NEP*.dat, 2020-MBPT-*.csv, BSk24-*.dat) are CC BY-NC-ND 4.0: read here, never edited.

Key names of an empirical-parameter set (energies in MeV, densities in fm^-3):

==============  =====================================================================
n_sat           saturation density
E_sat           energy per nucleon of symmetric matter at n_sat (negative, no rest mass)
K_sat, Q_sat, Z_sat   incompressibility, skewness, kurtosis of symmetric matter
E_sym, L_sym, K_sym, Q_sym, Z_sym   symmetry energy at n_sat and its slope/curvature/...
m_star_sat      isoscalar Landau effective mass m*/m at n_sat
dm_star         isospin splitting of the effective mass (m*_n - m*_p)/m (NSEoS files)
kappas, kappav  isoscalar / isovector effective-mass parameters (nucleardatapy NEP files)
==============  =====================================================================
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass

import numpy as np

from crustuq.models.tables.mass_tables import data_path, read_data_text

__all__ = [
    "NSEOS_KEYS",
    "ChiralEFTBand",
    "MatterCurve",
    "list_nseos_parameter_sets",
    "load_nseos_parameters",
    "list_nep_tables",
    "load_nep_table",
    "load_chiral_eft_band",
    "list_skyrme_matter_curves",
    "load_skyrme_matter_curve",
]

#: keys of :func:`load_nseos_parameters`, in file order (3 lines: 5 + 5 + 2 numbers)
NSEOS_KEYS = ("n_sat", "E_sat", "K_sat", "Q_sat", "Z_sat",
              "E_sym", "L_sym", "K_sym", "Q_sym", "Z_sym",
              "m_star_sat", "dm_star")

_NSEOS_DIR = "matter/empirical_parameters/nseos_satdata"
#: display names of the NSEoS parameter files (file stem = lower-case name)
_NSEOS_NAMES = ("BSk14", "BSk16", "BSk17", "BSk22", "BSk24", "BSk25", "BSk26", "SLy4", "SLy230a",
                "SLy230b", "SkO", "NRAPR", "RATP", "DDME2", "DDMEd", "NL3", "PKDD", "TM1", "TW99")


def _readonly(a) -> np.ndarray:
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    a.setflags(write=False)
    return a


def _pick(name, known, what: str) -> str:
    if isinstance(name, str):
        for k in known:
            if k.lower() == name.strip().lower():
                return k
    raise ValueError(f"{what}: unknown {name!r}; allowed: {', '.join(known)}")


# ---------------------------------------------------------------------------------------
# NSEoS empirical-parameter files (*.in)
# ---------------------------------------------------------------------------------------
def list_nseos_parameter_sets() -> list[str]:
    """Names accepted by :func:`load_nseos_parameters` (case-insensitive)."""
    stems = sorted(p.name[:-3] for p in data_path(_NSEOS_DIR).iterdir() if p.name.endswith(".in"))
    display = {n.lower(): n for n in _NSEOS_NAMES}
    return [display.get(s, s) for s in stems]


def load_nseos_parameters(name: str) -> dict[str, float]:
    """Empirical parameters of a named model from the NSEoS ``satdata/<name>.in`` files.

    File layout (NSEoS README): ``n_sat E_sat K_sat Q_sat Z_sat`` / ``E_sym L_sym K_sym Q_sym
    Z_sym`` / ``m*/m  dm*/m``, in fm^-3 and MeV. Returns a new dict with keys
    :data:`NSEOS_KEYS` (E_sat negative, no rest mass). ``name`` is case-insensitive, e.g.
    ``"BSk24"``, ``"SLy4"``, ``"DDME2"`` (see :func:`list_nseos_parameter_sets`).
    Values as used with the meta-model of Margueron, Hoffmann Casali, Gulminelli,
    PRC 97, 025805 (2018).
    """
    return dict(_nseos_cached(_pick(name, list_nseos_parameter_sets(), "name")))


@functools.lru_cache(maxsize=None)
def _nseos_cached(name: str) -> tuple[tuple[str, float], ...]:
    relpath = f"{_NSEOS_DIR}/{name.lower()}.in"
    rows = [ln.split() for ln in read_data_text(relpath).split("\n") if ln.strip()]
    if [len(r) for r in rows] != [5, 5, 2]:
        raise ValueError(f"{relpath}: expected 3 lines of 5, 5, 2 numbers, got {[len(r) for r in rows]}")
    values = [float(v) for r in rows for v in r]
    return tuple(zip(NSEOS_KEYS, values))


# ---------------------------------------------------------------------------------------
# nucleardatapy NEP tables
# ---------------------------------------------------------------------------------------
_NEP_FILES = {
    "NEPSkyrme": "matter/empirical_parameters/nucleardatapy/NEPSkyrme.dat",
    "NEPESkyrme": "matter/empirical_parameters/nucleardatapy/NEPESkyrme.dat",
}
#: nucleardatapy column name -> crustuq key
_NEP_KEYS = {"rho0": "n_sat", "B0": "E_sat", "K0": "K_sat", "Q0": "Q_sat", "Z0": "Z_sat",
             "Esym": "E_sym", "Lsym": "L_sym", "Ksym": "K_sym", "Qsym": "Q_sym", "Zsym": "Z_sym",
             "m*s": "m_star_sat", "kappas": "kappas", "kappav": "kappav"}


def list_nep_tables() -> list[str]:
    """Names accepted by :func:`load_nep_table` (case-insensitive)."""
    return list(_NEP_FILES)


def load_nep_table(name: str) -> dict[str, dict[str, float]]:
    """Empirical parameters of every set in a nucleardatapy NEP table.

    ``name``: ``"NEPSkyrme"`` (46 Skyrme forces, ``rho0 B0 K0 Q0 Z0 Esym Lsym Ksym Qsym Zsym
    m*s kappas kappav``) or ``"NEPESkyrme"`` (BSk22/24/25/26/31/32, BSkG3/4; ``rho0 B0 K0 Q0
    Esym Lsym Ksym m*s``: its header also names kappas/kappav but the rows have no values).
    Returns ``{label: {key: value}}`` with labels as written in the file (e.g. ``"SLY4"``,
    ``"SKM*"``, ``"BSk24"``) and only the columns present in that row, renamed
    rho0->n_sat [fm^-3], B0->E_sat, K0->K_sat, Q0->Q_sat, Z0->Z_sat, Esym->E_sym,
    Lsym->L_sym, Ksym->K_sym, Qsym->Q_sym, Zsym->Z_sym, m*s->m_star_sat (MeV, m*/m);
    kappas, kappav keep their names.

    Sign of E_sat: the files store B0 as the (negative) energy per nucleon at saturation,
    e.g. BSk24 -16.048 MeV; E_sat = -|B0| so that a file quoting the binding energy with a
    positive sign would give the same E_sat. Returns new dicts (the parse is cached).
    """
    rows = _nep_cached(_pick(name, list(_NEP_FILES), "name"))
    return {label: dict(vals) for label, vals in rows}


@functools.lru_cache(maxsize=None)
def _nep_cached(name: str):
    relpath = _NEP_FILES[name]
    lines = [ln for ln in read_data_text(relpath).split("\n") if ln.strip()]
    if not lines or not lines[0].startswith("#"):
        raise ValueError(f"{relpath}: expected a '#' header line naming the columns")
    columns = lines[0].lstrip("#").split()[1:]          # first name labels the set column
    unknown = [c for c in columns if c not in _NEP_KEYS]
    if unknown:
        raise ValueError(f"{relpath}: unknown columns {unknown}; allowed: {', '.join(_NEP_KEYS)}")
    out = []
    for ln in lines[1:]:
        if ln.lstrip().startswith("#"):
            continue
        parts = ln.split()
        label, values = parts[0], [float(v) for v in parts[1:]]
        if len(values) > len(columns):
            raise ValueError(f"{relpath}: row {label!r} has {len(values)} values, header names {len(columns)}")
        d = {_NEP_KEYS[c]: v for c, v in zip(columns, values)}
        if "E_sat" in d:
            d["E_sat"] = -abs(d["E_sat"])
        out.append((label, tuple(d.items())))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# chiral EFT (Drischler et al. 2020) bands
# ---------------------------------------------------------------------------------------
_ORDER_NAMES = {0: "LO", 2: "NLO", 3: "N2LO", 4: "N3LO"}


@dataclass(frozen=True, eq=False)
class ChiralEFTBand:
    """Chiral-EFT MBPT energy per particle with 1-sigma EFT-truncation uncertainty.

    Drischler, Furnstahl, Melendez, Phillips, PRL 125, 202702 (2020); PRC 102, 054315 (2020)
    (nucleardatapy ``2020-MBPT-{NM,SM}.csv``; which cutoff Lambda the file holds is not stated in it).

    Attributes
    ----------
    matter : "NM" (pure neutron matter, E/N) or "SM" (symmetric nuclear matter, E/A)
    n_fm3 : density n [fm^-3], 0.05...0.34 in steps of 0.005 (values as in the file, which
        carry float noise such as 0.06999999999999999)
    e_per_particle_MeV, sigma_MeV : N3LO mean E/A (E/N) and its 1-sigma, MeV, no rest mass
    orders : {"LO"|"NLO"|"N2LO"|"N3LO": (mean, sigma)} from the file's columns
        ``E/N (k)`` / ``E/N Std (k)`` with k = 0, 2, 3, 4 the chiral order nu (LO, NLO, N2LO, N3LO)
    """

    matter: str
    n_fm3: np.ndarray
    e_per_particle_MeV: np.ndarray
    sigma_MeV: np.ndarray
    orders: dict

    def __len__(self) -> int:
        return int(self.n_fm3.shape[0])


def load_chiral_eft_band(which: str = "NM") -> ChiralEFTBand:
    """Load the Drischler et al. (2020) chiral-EFT band, ``which`` = ``"NM"`` or ``"SM"``.

    File ``matter/neutron_matter/nucleardatapy/2020-MBPT-{which}.csv``; its header
    ``# density [fm^{-3}],E/N (0) [MeV],E/N Std (0) [MeV],...,E/N (4) [MeV],E/N Std (4) [MeV]``
    (``E/A`` for SM) is parsed to find the columns. See :class:`ChiralEFTBand`.
    """
    return _chiral_cached(_pick(which, ["NM", "SM"], "which"))


@functools.lru_cache(maxsize=None)
def _chiral_cached(which: str) -> ChiralEFTBand:
    relpath = f"matter/neutron_matter/nucleardatapy/2020-MBPT-{which}.csv"
    text = read_data_text(relpath)
    header = text.split("\n", 1)[0].lstrip("#").split(",")
    if not header[0].strip().startswith("density"):
        raise ValueError(f"{relpath}: first column must be the density, header is {header}")
    data = np.loadtxt(io.StringIO(text), delimiter=",", comments="#", ndmin=2)
    if data.shape[1] != len(header):
        raise ValueError(f"{relpath}: {data.shape[1]} columns but header names {len(header)}")
    mean_col, std_col = {}, {}
    for i, h in enumerate(header):
        m = re.fullmatch(r"\s*E/[NA]( Std)? \((\d)\) \[MeV\]\s*", h)
        if m:
            (std_col if m.group(1) else mean_col)[int(m.group(2))] = i
    if set(mean_col) != set(_ORDER_NAMES) or set(std_col) != set(_ORDER_NAMES):
        raise ValueError(f"{relpath}: expected mean and Std columns for orders {sorted(_ORDER_NAMES)}, header is {header}")
    orders = {_ORDER_NAMES[k]: (_readonly(data[:, mean_col[k]]), _readonly(data[:, std_col[k]]))
              for k in sorted(_ORDER_NAMES)}
    return ChiralEFTBand(matter=which, n_fm3=_readonly(data[:, 0]), e_per_particle_MeV=orders["N3LO"][0],
                         sigma_MeV=orders["N3LO"][1], orders=orders)


# ---------------------------------------------------------------------------------------
# Skyrme homogeneous-matter curves
# ---------------------------------------------------------------------------------------
_SKYRME_DIR = "matter/skyrme_eos"


@dataclass(frozen=True, eq=False)
class MatterCurve:
    """Energy per nucleon and pressure of homogeneous matter vs density for one functional.

    ``n_fm3`` [fm^-3], ``e_per_nucleon_MeV`` (E/A in MeV, **no rest mass**),
    ``pressure_MeV_fm3`` [MeV fm^-3]; ``matter`` is "NM" (pure neutron) or "SM" (symmetric).
    """

    model: str
    matter: str
    n_fm3: np.ndarray
    e_per_nucleon_MeV: np.ndarray
    pressure_MeV_fm3: np.ndarray

    def __len__(self) -> int:
        return int(self.n_fm3.shape[0])


def list_skyrme_matter_curves() -> list[str]:
    """Model names with shipped curves for :func:`load_skyrme_matter_curve`."""
    return sorted({p.name.rsplit("-", 1)[0] for p in data_path(_SKYRME_DIR).iterdir()
                   if p.name.endswith(("-NM.dat", "-SM.dat"))})


def load_skyrme_matter_curve(model: str = "BSk24", matter: str = "NM") -> MatterCurve:
    """E/A(n) and P(n) of a Brussels Skyrme functional (nucleardatapy ``ESkyrme`` tables).

    File ``matter/skyrme_eos/<model>-<matter>.dat``: two ``#`` header lines, then
    ``n[fm^-3] E/A[MeV] P[MeV fm^-3]`` (1000 rows, n = 0.001...1 fm^-3). Only BSk24 is shipped.
    """
    return _skyrme_cached(_pick(model, list_skyrme_matter_curves(), "model"), _pick(matter, ["NM", "SM"], "matter"))


@functools.lru_cache(maxsize=None)
def _skyrme_cached(model: str, matter: str) -> MatterCurve:
    relpath = f"{_SKYRME_DIR}/{model}-{matter}.dat"
    data = np.loadtxt(io.StringIO(read_data_text(relpath)), comments="#", ndmin=2)
    if data.shape[1] != 3:
        raise ValueError(f"{relpath}: expected 3 columns n, E/A, P, got {data.shape[1]}")
    return MatterCurve(model=model, matter=matter, n_fm3=_readonly(data[:, 0]),
                       e_per_nucleon_MeV=_readonly(data[:, 1]), pressure_MeV_fm3=_readonly(data[:, 2]))
