"""Nuclear mass tables: parsers for the shipped files, one common table type, merging.

Every mass table (experimental or theoretical) is parsed into a :class:`MassTable`, holding
the **atomic** mass excess ME(Z, N) = M_atomic(Z, N) c^2 - A m_u c^2 in MeV (electrons and
their binding included, the convention of the AME and of all shipped theory tables).
Energies of the Brussels ETF tables are a different quantity (nuclear energy per nucleon,
E/A = -B/A, no rest masses) and get their own type, :class:`EtfTable`.

Files, sources, citations and licences: ``models/data/README.md``.

Tables:

=========== ============================================ ==========================================
name        file (under ``models/data/``)                 publication
=========== ============================================ ==========================================
AME2020     masses/AME2020/mass.mas20                     Huang et al. / Wang et al., CPC 45 (2021)
HFB-24      masses/HFB24/hfb24.data                       Goriely, Chamel, Pearson, PRC 88, 024308
HFB-21      masses/HFB21/2010-HFB21.dat                   Goriely, Chamel, Pearson, PRC 82, 035804
HFB-22/25/26 masses/HFB22_25_26/2013-HFB2x.txt            Goriely, Chamel, Pearson, PRC 88, 024308
FRDM2012    masses/FRDM2012/frdm2012_masses.csv           Moller et al., ADNDT 109-110, 1 (2016)
FRDM1995    masses/FRDM1995/FRDM95.txt                    Moller et al., ADNDT 59, 185 (1995)
DZ28        masses/DZ/DUZU.txt                            Duflo & Zuker, PRC 52, R23 (1995)
=========== ============================================ ==========================================
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from crustuq.models.constants import M_E, M_N, M_P, M_U

__all__ = [
    "MassTable",
    "EtfTable",
    "load_mass_table",
    "list_mass_tables",
    "load_etf_table",
    "list_etf_tables",
    "etf_to_mass_table",
    "merge_tables",
    "electron_binding_energy_MeV",
    "atomic_to_nuclear_mass",
    "nuclear_to_atomic_mass_excess",
    "data_path",
    "read_data_text",
]

#: largest neutron number + 1 used to build integer keys Z * _KEY + N
_KEY = 10_000


# ---------------------------------------------------------------------------------------
# shipped-data access
# ---------------------------------------------------------------------------------------
def data_path(relpath: str):
    """Return the shipped data file ``models/data/<relpath>`` (a Traversable/Path).

    Works for editable and regular installs (``importlib.resources``).
    """
    return resources.files("crustuq.models").joinpath("data", *relpath.split("/"))


def read_data_text(relpath: str) -> str:
    """Read a shipped data file as text with line ends normalised to ``\\n``.

    The shipped files are byte-identical copies of their sources: some use CRLF
    (``\\r\\n``, AME2020, ETF) and one bare CR (``\\r``, DZ ``DUZU.txt``) line ends.
    All three conventions become ``\\n`` here; the files on disk are never changed.
    """
    raw = data_path(relpath).read_bytes()
    text = raw.decode("ascii", errors="strict")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------------------
# common table types
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MassTable:
    """Atomic mass excesses of a set of nuclides, sorted by (Z, N).

    Attributes
    ----------
    name : str
        Short table name (``"AME2020"``, ``"HFB-24"``, ...; merged: ``"AME2020+HFB-24"``).
    source : str
        Where the numbers come from (file under ``models/data/`` and publication; for a
        merged table a description of the merge rule).
    Z, N, A : ndarray of int64
        Proton, neutron and mass numbers (A = Z + N).
    mass_excess_MeV : ndarray of float64
        Atomic mass excess ME = M_atomic c^2 - A m_u c^2 in MeV.
    uncertainty_MeV : ndarray of float64
        1-sigma uncertainty of ME in MeV; NaN where the source gives none (all theory tables).
    measured : ndarray of bool
        True for an experimental mass (AME value not marked ``#``); False for AME values
        estimated from systematics and for every theoretical value.
    provenance : ndarray of str
        Per-nuclide name of the table the value was taken from (all equal to ``name`` for a
        table read from one file; mixed for a :func:`merge_tables` result).

    Arrays are read-only. ``len(table)`` is the number of nuclides.
    """

    name: str
    source: str
    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    mass_excess_MeV: np.ndarray
    uncertainty_MeV: np.ndarray
    measured: np.ndarray
    provenance: np.ndarray

    def __post_init__(self) -> None:
        Z = np.asarray(self.Z, dtype=np.int64)
        N = np.asarray(self.N, dtype=np.int64)
        n = Z.shape[0]
        if Z.ndim != 1 or N.shape != (n,):
            raise ValueError(f"MassTable {self.name!r}: Z and N must be 1-d arrays of equal length, got shapes {Z.shape}, {N.shape}")
        A = np.asarray(self.A, dtype=np.int64)
        if A.shape != (n,) or np.any(A != Z + N):
            raise ValueError(f"MassTable {self.name!r}: A must equal Z + N for every nuclide")
        if np.any(Z < 0) or np.any(N < 0) or np.any(Z >= _KEY) or np.any(N >= _KEY):
            raise ValueError(f"MassTable {self.name!r}: Z and N must be in [0, {_KEY}) for every nuclide")
        me = np.asarray(self.mass_excess_MeV, dtype=np.float64)
        unc = np.asarray(self.uncertainty_MeV, dtype=np.float64)
        meas = np.asarray(self.measured, dtype=bool)
        prov = np.asarray(self.provenance, dtype=str)
        for label, arr in (("mass_excess_MeV", me), ("uncertainty_MeV", unc), ("measured", meas), ("provenance", prov)):
            if arr.shape != (n,):
                raise ValueError(f"MassTable {self.name!r}: {label} has shape {arr.shape}, allowed: ({n},) like Z")
        if not np.all(np.isfinite(me)):
            raise ValueError(f"MassTable {self.name!r}: mass_excess_MeV must be finite for every nuclide")
        key = Z * _KEY + N
        order = np.argsort(key, kind="stable")
        key = key[order]
        if np.any(np.diff(key) == 0):
            i = int(np.flatnonzero(np.diff(key) == 0)[0])
            raise ValueError(f"MassTable {self.name!r}: duplicate nuclide Z={key[i] // _KEY}, N={key[i] % _KEY}")
        for label, arr in (("Z", Z), ("N", N), ("A", A), ("mass_excess_MeV", me), ("uncertainty_MeV", unc), ("measured", meas), ("provenance", prov)):
            object.__setattr__(self, label, _readonly(arr[order]))
        object.__setattr__(self, "_key", _readonly(key))

    # -- basic protocol --------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.Z.shape[0])

    def __repr__(self) -> str:
        return (f"MassTable(name={self.name!r}, nuclides={len(self)}, measured={int(self.measured.sum())}, "
                f"Z={self.Z.min() if len(self) else '-'}..{self.Z.max() if len(self) else '-'})")

    # -- look-ups ----------------------------------------------------------------------
    def index(self, Z, N) -> np.ndarray | int:
        """Row index of each nuclide (Z, N) (broadcast, vectorised; int for scalar input); -1 where
        it is not in the table."""
        Zq, Nq = np.broadcast_arrays(np.asarray(Z), np.asarray(N))
        if not (np.issubdtype(Zq.dtype, np.integer) and np.issubdtype(Nq.dtype, np.integer)):
            raise ValueError(f"Z, N: must be integers, got dtypes {Zq.dtype}, {Nq.dtype}")
        Zq = Zq.astype(np.int64)
        Nq = Nq.astype(np.int64)
        valid = (Zq >= 0) & (Nq >= 0) & (Zq < _KEY) & (Nq < _KEY)
        q = np.where(valid, Zq * _KEY + Nq, -1)
        pos = np.searchsorted(self._key, q)
        pos_c = np.minimum(pos, max(len(self) - 1, 0))
        found = valid & (len(self) > 0)
        if len(self):
            found &= self._key[pos_c] == q
        out = np.where(found, pos_c, -1)
        return int(out) if out.ndim == 0 else out

    def contains(self, Z, N) -> np.ndarray | bool:
        """Boolean mask: is nuclide (Z, N) in the table (vectorised; bool for scalar input)."""
        found = np.asarray(self.index(Z, N)) >= 0
        return bool(found) if found.ndim == 0 else found

    def lookup(self, Z, N) -> np.ndarray | float:
        """Atomic mass excess in MeV of nuclides (Z, N) (vectorised); NaN where not in the table."""
        idx = np.asarray(self.index(Z, N))
        out = np.where(idx >= 0, self.mass_excess_MeV[np.maximum(idx, 0)] if len(self) else np.nan, np.nan)
        return float(out) if out.ndim == 0 else out

    def select(self, mask) -> "MassTable":
        """New table with the rows where the boolean ``mask`` (length ``len(self)``) is True."""
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != (len(self),):
            raise ValueError(f"mask: must be a boolean array of shape ({len(self)},), got dtype {mask.dtype} shape {mask.shape}")
        return MassTable(
            name=self.name, source=self.source,
            Z=self.Z[mask], N=self.N[mask], A=self.A[mask],
            mass_excess_MeV=self.mass_excess_MeV[mask], uncertainty_MeV=self.uncertainty_MeV[mask],
            measured=self.measured[mask], provenance=self.provenance[mask],
        )


@dataclass(frozen=True, eq=False)
class EtfTable:
    """Extended-Thomas-Fermi energies per nucleon of spherical nuclei (Brussels BSk functionals).

    Not a mass table: ``energy_per_nucleon_MeV`` is the **nuclear** energy per nucleon
    E/A = -B/A in MeV, B = Z m_p c^2 + N m_n c^2 - M_nuc c^2 the nuclear binding energy,
    **without rest masses and without electrons** (smooth ETF energy, no shell/pairing
    corrections). Two source rows hold ``.`` instead of a number (BSk22 Z=118 A=372,
    BSk25 Z=75 A=191): they are kept, with E/A = NaN, so every table has the 9896 rows of its
    file; ``valid`` is False there. Use :func:`etf_to_mass_table` for atomic mass excesses.
    """

    name: str
    source: str
    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    energy_per_nucleon_MeV: np.ndarray

    def __post_init__(self) -> None:
        Z = np.asarray(self.Z, dtype=np.int64)
        A = np.asarray(self.A, dtype=np.int64)
        N = np.asarray(self.N, dtype=np.int64)
        e = np.asarray(self.energy_per_nucleon_MeV, dtype=np.float64)
        if not (Z.shape == A.shape == N.shape == e.shape and Z.ndim == 1) or np.any(A != Z + N):
            raise ValueError(f"EtfTable {self.name!r}: Z, N, A, energy_per_nucleon_MeV must be 1-d of equal length with A = Z + N")
        for label, arr in (("Z", Z), ("N", N), ("A", A), ("energy_per_nucleon_MeV", e)):
            object.__setattr__(self, label, _readonly(arr))
        object.__setattr__(self, "_key", _readonly(Z * _KEY + N))

    def __len__(self) -> int:
        return int(self.Z.shape[0])

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of rows with a numerical E/A (False for the source's ``.`` rows)."""
        return np.isfinite(self.energy_per_nucleon_MeV)

    def lookup(self, Z, N) -> np.ndarray | float:
        """E/A in MeV of nuclides (Z, N) (vectorised); NaN where not in the table or not given."""
        Zq, Nq = np.broadcast_arrays(np.asarray(Z, dtype=np.int64), np.asarray(N, dtype=np.int64))
        order = np.argsort(self._key, kind="stable")
        skey = self._key[order]
        q = Zq * _KEY + Nq
        pos = np.minimum(np.searchsorted(skey, q), len(self) - 1)
        found = skey[pos] == q
        out = np.where(found, self.energy_per_nucleon_MeV[order[pos]], np.nan)
        return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------
# parsers (one per file format)
# ---------------------------------------------------------------------------------------
def _fixed_float(field: str) -> tuple[float, bool]:
    """Parse an AME fixed-width number; '#' in place of the decimal point = estimated value.

    Returns (value, estimated). Blank or '*' (not calculable) -> (NaN, False).
    """
    s = field.strip()
    if not s or s == "*":
        return float("nan"), False
    estimated = "#" in s
    return float(s.replace("#", ".")), estimated


def _parse_ame2020(text: str) -> dict:
    """AME2020 ``mass.mas20`` (Fortran a1,i3,i5,i5,i5,1x,a3,a4,1x,f14.6,f12.6,...; keV).

    Data start two lines after the header line beginning ``1N-Z`` (one units line).
    """
    lines = text.split("\n")
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("1N-Z")) + 2
    except StopIteration:
        raise ValueError("AME2020 file: header line '1N-Z' not found, allowed: the AME2020 mass.mas20 format") from None
    Z, N, A, me, dme, meas = [], [], [], [], [], []
    for ln in lines[start:]:
        if not ln.strip():
            continue
        n_, z_, a_ = int(ln[4:9]), int(ln[9:14]), int(ln[14:19])
        v, est_v = _fixed_float(ln[28:42])
        dv, est_dv = _fixed_float(ln[42:54])
        Z.append(z_); N.append(n_); A.append(a_)
        me.append(v * 1e-3); dme.append(dv * 1e-3)          # keV -> MeV
        meas.append(not (est_v or est_dv))
    return dict(Z=Z, N=N, A=A, mass_excess_MeV=me, uncertainty_MeV=dme, measured=meas)


def _parse_z_n_me(text: str, header_lines: int) -> dict:
    """Whitespace table ``Z N ME[MeV]`` after ``header_lines`` header lines ('#' lines ignored)."""
    arr = np.loadtxt(io.StringIO(text), comments="#", skiprows=header_lines, ndmin=2)
    if arr.shape[1] != 3:
        raise ValueError(f"Z N ME table: expected 3 columns, got {arr.shape[1]}")
    Z = arr[:, 0].astype(np.int64)
    N = arr[:, 1].astype(np.int64)
    return dict(Z=Z, N=N, A=Z + N, mass_excess_MeV=arr[:, 2])


def _parse_hfb21(text: str) -> dict:
    """HFB-21 BRUSLIB layout ``Z A bet2 bet4 Rch Edef Sn Sp Qbet Mcal Mexp-Mcal ...`` (Mcal = ME, MeV)."""
    arr = np.loadtxt(io.StringIO(text), comments="#", ndmin=2)
    Z = arr[:, 0].astype(np.int64)
    A = arr[:, 1].astype(np.int64)
    return dict(Z=Z, N=A - Z, A=A, mass_excess_MeV=arr[:, 9])


def _parse_frdm2012_csv(text: str) -> dict:
    """FRDM2012 CSV: only Z, N, A and M_th (= mass excess, MeV) are read.

    The CSV shifts E_mic_FL/M_th_FL into the M_exp/sigma_exp columns for nuclides without
    an experimental mass (see models/data/README.md), so no column after M_th is used.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    col = {name: i for i, name in enumerate(header)}
    for need in ("Z", "N", "A", "M_th"):
        if need not in col:
            raise ValueError(f"FRDM2012 CSV: column {need!r} missing, header is {header}")
    Z, N, A, me = [], [], [], []
    for row in reader:
        if not row:
            continue
        Z.append(int(row[col["Z"]])); N.append(int(row[col["N"]])); A.append(int(row[col["A"]]))
        me.append(float(row[col["M_th"]]))
    return dict(Z=Z, N=N, A=A, mass_excess_MeV=me)


# name -> (relative path, parser, provenance/citation string)
_MASS_TABLES: dict[str, tuple[str, callable, str]] = {
    "AME2020": ("masses/AME2020/mass.mas20", _parse_ame2020,
                "AME2020 mass.mas20; W.J. Huang et al., Chin. Phys. C 45, 030002 (2021); "
                "M. Wang et al., Chin. Phys. C 45, 030003 (2021)"),
    "HFB-24": ("masses/HFB24/hfb24.data", functools.partial(_parse_z_n_me, header_lines=0),
               "HFB-24 (BSk24), NSEoS hfb24.data; S. Goriely, N. Chamel, J.M. Pearson, Phys. Rev. C 88, 024308 (2013)"),
    "HFB-21": ("masses/HFB21/2010-HFB21.dat", _parse_hfb21,
               "HFB-21 (BSk21), column Mcal; S. Goriely, N. Chamel, J.M. Pearson, Phys. Rev. C 82, 035804 (2010)"),
    "HFB-22": ("masses/HFB22_25_26/2013-HFB22.txt", functools.partial(_parse_z_n_me, header_lines=0),
               "HFB-22 (BSk22); S. Goriely, N. Chamel, J.M. Pearson, Phys. Rev. C 88, 024308 (2013)"),
    "HFB-25": ("masses/HFB22_25_26/2013-HFB25.txt", functools.partial(_parse_z_n_me, header_lines=0),
               "HFB-25 (BSk25); S. Goriely, N. Chamel, J.M. Pearson, Phys. Rev. C 88, 024308 (2013)"),
    "HFB-26": ("masses/HFB22_25_26/2013-HFB26.txt", functools.partial(_parse_z_n_me, header_lines=0),
               "HFB-26 (BSk26); S. Goriely, N. Chamel, J.M. Pearson, Phys. Rev. C 88, 024308 (2013)"),
    "FRDM2012": ("masses/FRDM2012/frdm2012_masses.csv", _parse_frdm2012_csv,
                 "FRDM(2012), column M_th; P. Moller, A.J. Sierk, T. Ichikawa, H. Sagawa, "
                 "At. Data Nucl. Data Tables 109-110, 1 (2016)"),
    "FRDM1995": ("masses/FRDM1995/FRDM95.txt", functools.partial(_parse_z_n_me, header_lines=1),
                 "FRDM(1992) table; P. Moller, J.R. Nix, W.D. Myers, W.J. Swiatecki, "
                 "At. Data Nucl. Data Tables 59, 185 (1995)"),
    "DZ28": ("masses/DZ/DUZU.txt", functools.partial(_parse_z_n_me, header_lines=1),
             "Duflo-Zuker 28-parameter mass table (AMDC du_zu_28.feb95); J. Duflo, A.P. Zuker, "
             "Phys. Rev. C 52, R23 (1995)"),
}

_ETF_TABLES = {f"ETF-BSk{k}": f"masses/ETF_BSk/BSk{k}.data" for k in (22, 24, 25, 26)}


def _canonical(name, known, what: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{what}: must be a string, got {name!r}; allowed: {', '.join(known)}")
    for k in known:
        if k.lower() == name.strip().lower():
            return k
    raise ValueError(f"{what}: unknown table {name!r}; allowed: {', '.join(known)}")


def list_mass_tables() -> list[str]:
    """Names accepted by :func:`load_mass_table`."""
    return list(_MASS_TABLES)


def list_etf_tables() -> list[str]:
    """Names accepted by :func:`load_etf_table`."""
    return list(_ETF_TABLES)


def load_mass_table(name: str) -> MassTable:
    """Load a shipped mass table as a :class:`MassTable` (atomic mass excess, MeV).

    ``name`` (case-insensitive) is one of :func:`list_mass_tables`: ``AME2020`` (all 3558
    nuclides; the 1008 values estimated from systematics, ``#`` in the file, have
    ``measured=False``), ``HFB-24``, ``HFB-21``, ``HFB-22``, ``HFB-25``, ``HFB-26``,
    ``FRDM2012``, ``FRDM1995``, ``DZ28`` (Duflo-Zuker 1995, 28 parameters).
    Theory tables have ``measured=False`` and ``uncertainty_MeV=NaN`` everywhere.
    The result is cached; its arrays are read-only.
    """
    return _load_mass_table_cached(_canonical(name, list(_MASS_TABLES), "name"))


@functools.lru_cache(maxsize=None)
def _load_mass_table_cached(name: str) -> MassTable:
    relpath, parser, source = _MASS_TABLES[name]
    cols = parser(read_data_text(relpath))
    n = len(cols["Z"])
    cols.setdefault("uncertainty_MeV", np.full(n, np.nan))
    cols.setdefault("measured", np.zeros(n, dtype=bool))
    return MassTable(name=name, source=f"models/data/{relpath}: {source}", provenance=np.full(n, name), **cols)


def load_etf_table(name: str) -> EtfTable:
    """Load an ETF energy table ``ETF-BSk22``, ``ETF-BSk24``, ``ETF-BSk25`` or ``ETF-BSk26``.

    Files ``masses/ETF_BSk/BSk2x.data`` (``Z A E/A``, MeV per nucleon, CRLF line ends).
    Returns an :class:`EtfTable` (nuclear E/A = -B/A without rest masses; ``.`` rows -> NaN).
    Cite T. Carreau et al., A&A 635, A84 (2020); provenance notes in models/data/README.md.
    """
    return _load_etf_cached(_canonical(name, list(_ETF_TABLES), "name"))


@functools.lru_cache(maxsize=None)
def _load_etf_cached(name: str) -> EtfTable:
    relpath = _ETF_TABLES[name]
    Z, A, e = [], [], []
    for ln in read_data_text(relpath).split("\n"):
        parts = ln.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ValueError(f"{relpath}: expected 'Z A E/A' rows, got {ln!r}")
        Z.append(int(parts[0])); A.append(int(parts[1]))
        e.append(float("nan") if parts[2] == "." else float(parts[2]))
    Z = np.array(Z, dtype=np.int64)
    A = np.array(A, dtype=np.int64)
    return EtfTable(name=name, source=(f"models/data/{relpath}: ETF energies per nucleon for {name[4:]} (from NSEoS); "
                                       "T. Carreau et al., A&A 635, A84 (2020)"),
                    Z=Z, N=A - Z, A=A, energy_per_nucleon_MeV=np.array(e))


# ---------------------------------------------------------------------------------------
# atomic <-> nuclear masses
# ---------------------------------------------------------------------------------------
def _int_array(x, label: str) -> np.ndarray:
    """Non-negative integer array from ints (or integral floats); ValueError naming ``label``."""
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.integer):
        bad = None
        if np.issubdtype(a.dtype, np.floating):
            badmask = ~np.isfinite(a) | (a != np.round(a))
            if np.any(badmask):
                bad = a[badmask].ravel()[0]
        else:
            bad = a.ravel()[0] if a.size else a
        if bad is not None:
            raise ValueError(f"{label}: must be a non-negative integer, got {bad!r}")
    a = a.astype(np.int64)
    if np.any(a < 0):
        raise ValueError(f"{label}: must be a non-negative integer, got {int(a[a < 0].ravel()[0])}")
    return a


def _check_a_ge_z(Zi: np.ndarray, Ai: np.ndarray) -> None:
    Zb, Ab = np.broadcast_arrays(Zi, Ai)
    if np.any(Ab < Zb):
        i = int(np.argmax((Ab < Zb).ravel()))
        raise ValueError(f"A: must be >= Z, got A={int(Ab.ravel()[i])} for Z={int(Zb.ravel()[i])}")


def electron_binding_energy_MeV(Z):
    """Total binding energy of the Z atomic electrons, in MeV (vectorised).

    B_el(Z) = 1.44381e-5 Z^2.39 + 1.55468e-12 Z^5.35 MeV
    (D. Lunney, J.M. Pearson, C. Thibault, Rev. Mod. Phys. 75, 1021 (2003), Eq. A4).
    """
    Zf = _int_array(Z, "Z").astype(np.float64)
    out = 1.44381e-5 * Zf**2.39 + 1.55468e-12 * Zf**5.35
    return float(out) if np.ndim(out) == 0 else out


def atomic_to_nuclear_mass(Z, A, mass_excess_MeV):
    """Nuclear (bare-nucleus) rest energy M_nuc c^2 in MeV from the atomic mass excess (MeV).

    M_nuc c^2 = A m_u c^2 + ME - Z m_e c^2 + B_el(Z)
    (remove the Z electron rest masses, add back their binding energy B_el, see
    :func:`electron_binding_energy_MeV`; Lunney, Pearson & Thibault, RMP 75, 1021 (2003), Eq. A4).
    Constants m_u, m_e: ``crustuq.models.constants`` (CODATA 2018). Vectorised over Z, A, ME.
    """
    Zi = _int_array(Z, "Z")
    Ai = _int_array(A, "A")
    _check_a_ge_z(Zi, Ai)
    me = np.asarray(mass_excess_MeV, dtype=np.float64)
    out = Ai * M_U + me - Zi * M_E + electron_binding_energy_MeV(Zi)
    return float(out) if np.ndim(out) == 0 else out


def nuclear_to_atomic_mass_excess(Z, A, nuclear_mass_MeV):
    """Atomic mass excess in MeV from the nuclear rest energy M_nuc c^2 (MeV); inverse of
    :func:`atomic_to_nuclear_mass`: ME = M_nuc c^2 - A m_u c^2 + Z m_e c^2 - B_el(Z)."""
    Zi = _int_array(Z, "Z")
    Ai = _int_array(A, "A")
    _check_a_ge_z(Zi, Ai)
    m = np.asarray(nuclear_mass_MeV, dtype=np.float64)
    out = m - Ai * M_U + Zi * M_E - electron_binding_energy_MeV(Zi)
    return float(out) if np.ndim(out) == 0 else out


def etf_to_mass_table(etf: EtfTable) -> MassTable:
    """Convert an :class:`EtfTable` to a :class:`MassTable` of atomic mass excesses (MeV).

    What is done, exactly: the ETF E/A is taken as the energy of the bare nucleus per
    nucleon without rest masses, so
        M_nuc c^2 = Z m_p c^2 + N m_n c^2 + A (E/A)          (m_p, m_n: CODATA 2018),
    and the atomic mass excess follows from :func:`nuclear_to_atomic_mass_excess`:
        ME = M_nuc c^2 - A m_u c^2 + Z m_e c^2 - B_el(Z),
    i.e. Z electrons are added with their total binding energy B_el(Z) (Lunney et al. 2003,
    Eq. A4). This equals Z M_H + N m_n - B_atomic with B_atomic = B + B_el(Z) - 13.6 eV Z;
    using Z M_H with the nuclear B instead would be wrong by B_el(Z) - 13.6 eV Z
    (0.57 MeV for Pb). Rows without E/A (source ``.``) are dropped.
    """
    if not isinstance(etf, EtfTable):
        raise ValueError(f"etf: must be an EtfTable (from load_etf_table), got {type(etf).__name__}")
    ok = etf.valid
    Z, N, A = etf.Z[ok], etf.N[ok], etf.A[ok]
    m_nuc = Z * M_P + N * M_N + A * etf.energy_per_nucleon_MeV[ok]
    me = nuclear_to_atomic_mass_excess(Z, A, m_nuc)
    n = int(ok.sum())
    return MassTable(name=etf.name, source=etf.source + " [converted to atomic mass excess: M_nuc = Z m_p + N m_n + A E/A, "
                     "+ Z m_e - B_el(Z)]",
                     Z=Z, N=N, A=A, mass_excess_MeV=me, uncertainty_MeV=np.full(n, np.nan),
                     measured=np.zeros(n, dtype=bool), provenance=np.full(n, etf.name))


# ---------------------------------------------------------------------------------------
# merging
# ---------------------------------------------------------------------------------------
def merge_tables(primary: MassTable, fallback: MassTable, *, primary_measured_only: bool = True) -> MassTable:
    """Combine two mass tables: ``primary`` where it has the nuclide, ``fallback`` elsewhere.

    With ``primary_measured_only=True`` (default) only the primary's *measured* entries are
    used (e.g. measured AME2020 masses; AME values estimated from systematics are replaced by
    the model). Result: a :class:`MassTable` named ``"<primary>+<fallback>"`` whose
    ``provenance`` array gives, per nuclide, the table each value came from (the constituent's
    own provenance, so merges of merges stay traceable); ``measured`` and ``uncertainty_MeV``
    come along with the value.
    """
    for label, t in (("primary", primary), ("fallback", fallback)):
        if not isinstance(t, MassTable):
            raise ValueError(f"{label}: must be a MassTable, got {type(t).__name__}")
    if not isinstance(primary_measured_only, bool):
        raise ValueError(f"primary_measured_only: must be True or False, got {primary_measured_only!r}")
    p = primary.select(primary.measured.copy()) if primary_measured_only else primary
    f = fallback.select(~p.contains(fallback.Z, fallback.N))
    cat = lambda attr: np.concatenate([getattr(p, attr), getattr(f, attr)])  # noqa: E731
    rule = "measured entries" if primary_measured_only else "all entries"
    return MassTable(
        name=f"{primary.name}+{fallback.name}",
        source=f"merge: {rule} of [{primary.source}] where present, else [{fallback.source}]",
        Z=cat("Z"), N=cat("N"), A=cat("A"), mass_excess_MeV=cat("mass_excess_MeV"),
        uncertainty_MeV=cat("uncertainty_MeV"), measured=cat("measured"), provenance=cat("provenance"),
    )
