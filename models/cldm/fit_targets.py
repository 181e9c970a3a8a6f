"""Named, documented target sets for fitting the CLDM surface parameters.

A :class:`TargetSet` is a list of nuclei (Z, N, A) with the energy per nucleon the vacuum CLDM
(:mod:`crustuq.models.cldm.vacuum_mass`) must reproduce: ``energy_per_nucleon_MeV`` =
E/A = -B/A in MeV, no rest masses. The fit residual is E_CLDM/A - E_target/A (MeV per
nucleon, unweighted), the NSEoS / Grams et al. (2025) choice (physics_reference.md 5.7).
Selection and conversions happen here, once, never inside a likelihood.

Sets (``list_target_sets()``; the cuts are defaults, overridable in :func:`target_set`):

``AME2020``
    AME2020 (Wang et al., CPC 45, 030003, 2021) **measured** masses only (values estimated
    from systematics, ``#`` in the file, are excluded), Z >= 8 and N >= 8: 2457 nuclei.
    B is the **nuclear** binding energy B = Z m_p c^2 + N m_n c^2 - M_nuc c^2, with the bare
    nuclear mass M_nuc c^2 = A m_u c^2 + ME - Z m_e c^2 + B_el(Z) from the atomic mass excess
    ME (:func:`~crustuq.models.tables.mass_tables.atomic_to_nuclear_mass`, electron binding
    of Lunney et al. 2003). This compares like with like: the CLDM energy is that of the bare
    nucleus.
``AME2020-atomic``
    Same nuclei; B is the *atomic* binding energy as tabulated by the AME,
    B = Z ME(1H) + N ME(n) - ME(Z, N) (ME(1H), ME(n) from the same table), which still
    contains the electron binding B_el(Z) - Z * 13.6 eV (0.02 MeV for Z = 20, 0.57 MeV for
    Pb). This is the convention that reproduces Grams et al. 2025, Table 1, row 3 to every
    printed digit (docs/surface_fits.md).
``ETF-BSk22``, ``ETF-BSk24``, ``ETF-BSk25``, ``ETF-BSk26``
    The Brussels ETF energy tables (Carreau et al., A&A 635, A84, 2020; protocol (ii) of
    Grams et al. 2025): every valid row, Z = 8..122 from drip line to drip line (9896 rows
    for BSk24). E/A is the nuclear energy per nucleon given in the file.
``HFB-24``, ``HFB-21``, ``HFB-22``, ``HFB-25``, ``HFB-26``, ``FRDM2012``, ``FRDM1995``, ``DZ28``
    Shipped theoretical mass tables (atomic mass excesses), Z >= 8 and N >= 8, converted to
    the nuclear binding energy exactly as for ``AME2020``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from crustuq.models.constants import M_N, M_P
from crustuq.models.tables import mass_tables as mt

__all__ = ["TargetSet", "target_set", "list_target_sets", "TARGET_SET_DOCS"]

_THEORY = ("HFB-24", "HFB-21", "HFB-22", "HFB-25", "HFB-26", "FRDM2012", "FRDM1995", "DZ28")
_ETF = ("ETF-BSk22", "ETF-BSk24", "ETF-BSk25", "ETF-BSk26")

#: name -> (kind, default cuts, one-line description)
TARGET_SET_DOCS: dict[str, tuple[str, dict, str]] = {
    "AME2020": ("ame-nuclear", dict(z_min=8, n_min=8, measured_only=True),
                "AME2020 measured masses (no '#'), nuclear binding energy (electron binding removed)"),
    "AME2020-atomic": ("ame-atomic", dict(z_min=8, n_min=8, measured_only=True),
                       "AME2020 measured masses (no '#'), atomic binding energy as tabulated by the AME "
                       "(Grams et al. 2025 convention)"),
    **{k: ("etf", dict(z_min=8, n_min=0, measured_only=False),
           f"{k[4:]} ETF energies per nucleon, all valid rows (Carreau et al. 2020)") for k in _ETF},
    **{k: ("theory", dict(z_min=8, n_min=8, measured_only=False),
           f"{k} theoretical mass table, nuclear binding energy") for k in _THEORY},
}


def list_target_sets() -> list[str]:
    """Names accepted by :func:`target_set`."""
    return list(TARGET_SET_DOCS)


@dataclass(frozen=True, eq=False)
class TargetSet:
    """Nuclei and target energies per nucleon for a surface fit.

    Attributes
    ----------
    name : str -- set name (``AME2020``, ``ETF-BSk24``, ...)
    description : str -- what the numbers are and how they were selected (human readable)
    source : str -- file and publication of the underlying table
    cuts : dict -- the selection applied (z_min, n_min, z_max, a_min, measured_only)
    binding : str -- ``nuclear``, ``atomic-AME`` or ``ETF``: which binding energy B is
    Z, N, A : (n,) int64
    energy_per_nucleon_MeV : (n,) float64 -- target E/A = -B/A, MeV, no rest mass
    """

    name: str
    description: str
    source: str
    cuts: dict
    binding: str
    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    energy_per_nucleon_MeV: np.ndarray
    _fingerprint: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        Z = np.asarray(self.Z, dtype=np.int64)
        N = np.asarray(self.N, dtype=np.int64)
        A = np.asarray(self.A, dtype=np.int64)
        e = np.asarray(self.energy_per_nucleon_MeV, dtype=np.float64)
        if not (Z.ndim == 1 and Z.shape == N.shape == A.shape == e.shape) or np.any(A != Z + N):
            raise ValueError(f"TargetSet {self.name!r}: Z, N, A, energy_per_nucleon_MeV must be 1-d of equal length, A = Z + N")
        if Z.size == 0:
            raise ValueError(f"target set {self.name!r}: no nucleus left after the cuts {self.cuts}; "
                             "allowed: cuts that keep at least one nucleus")
        if not np.all(np.isfinite(e)):
            raise ValueError(f"TargetSet {self.name!r}: energy_per_nucleon_MeV must be finite")
        if np.any(Z < 1) or np.any(N < 1):
            raise ValueError(f"TargetSet {self.name!r}: every nucleus needs Z >= 1 and N >= 1")
        for label, arr in (("Z", Z), ("N", N), ("A", A), ("energy_per_nucleon_MeV", e)):
            arr = np.ascontiguousarray(arr)
            arr.setflags(write=False)
            object.__setattr__(self, label, arr)
        h = hashlib.sha256()
        for arr in (Z, N, e):
            h.update(np.ascontiguousarray(arr).tobytes())
        object.__setattr__(self, "_fingerprint", h.hexdigest()[:16])

    def __len__(self) -> int:
        return int(self.Z.shape[0])

    def __repr__(self) -> str:
        return f"TargetSet({self.name!r}, n={len(self)}, cuts={self.cuts})"

    @property
    def fingerprint(self) -> str:
        """Short sha256 of (Z, N, E/A): two sets with the same fingerprint hold the same data."""
        return self._fingerprint

    def metadata(self) -> dict:
        """JSON-able description (name, cuts, counts, binding convention, source, fingerprint)."""
        return {"name": self.name, "description": self.description, "source": self.source,
                "cuts": dict(self.cuts), "binding": self.binding, "n_nuclei": len(self),
                "Z_range": [int(self.Z.min()), int(self.Z.max())],
                "A_range": [int(self.A.min()), int(self.A.max())], "fingerprint": self.fingerprint}


def _canonical_name(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"--target={name!r}: must be a name; allowed: {', '.join(TARGET_SET_DOCS)}")
    for k in TARGET_SET_DOCS:
        if k.lower() == name.strip().lower():
            return k
    raise ValueError(f"--target={name!r}: unknown target set; allowed: {', '.join(TARGET_SET_DOCS)}")


def _check_cut(label: str, value, lo: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{label}={value!r}: must be an integer >= {lo}")
    return int(value)


def target_set(name: str, *, z_min: int | None = None, n_min: int | None = None,
               z_max: int | None = None, a_min: int | None = None,
               measured_only: bool | None = None) -> TargetSet:
    """Build the named target set (module docstring) with its default cuts, optionally
    overridden. Cuts keep nuclei with Z >= z_min, N >= n_min, Z <= z_max, A >= a_min; for AME
    sets ``measured_only`` drops the values estimated from systematics (default True).

    Raises ``ValueError`` for an unknown name, a bad cut, or a selection that leaves no nucleus.
    """
    canon = _canonical_name(name)
    kind, defaults, desc = TARGET_SET_DOCS[canon]
    cuts = dict(defaults)
    for label, value, lo in (("z_min", z_min, 1), ("n_min", n_min, 0), ("z_max", z_max, 1), ("a_min", a_min, 2)):
        v = _check_cut(label, value, lo)
        if v is not None:
            cuts[label] = v
    if measured_only is not None:
        if not isinstance(measured_only, bool):
            raise ValueError(f"measured_only={measured_only!r}: must be True or False")
        if measured_only and not kind.startswith("ame"):
            raise ValueError(f"measured_only=True: only AME target sets hold measured masses, not {canon}")
        cuts["measured_only"] = measured_only

    if kind == "etf":
        table = mt.load_etf_table(canon)
        Z, N, A = table.Z, table.N, table.A
        e = table.energy_per_nucleon_MeV
        keep = table.valid.copy()
        source, binding = table.source, "ETF"
        measured = np.zeros(len(Z), dtype=bool)
    else:
        table = mt.load_mass_table("AME2020" if kind.startswith("ame") else canon)
        Z, N, A = table.Z, table.N, table.A
        measured = table.measured
        source = table.source
        keep = (Z >= 1) & (N >= 1)
        if kind == "ame-atomic":
            me_h = table.lookup(1, 0)
            me_n = table.lookup(0, 1)
            B = Z * me_h + N * me_n - table.mass_excess_MeV
            binding = "atomic-AME"
        else:
            Zs, As = np.maximum(Z, 0), np.maximum(A, Z)
            m_nuc = mt.atomic_to_nuclear_mass(Zs, As, table.mass_excess_MeV)
            B = Z * M_P + N * M_N - m_nuc
            binding = "nuclear"
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.where(A > 0, -B / np.maximum(A, 1), np.nan)
    keep &= (Z >= cuts["z_min"]) & (N >= cuts["n_min"])
    if "z_max" in cuts:
        keep &= Z <= cuts["z_max"]
    if "a_min" in cuts:
        keep &= A >= cuts["a_min"]
    if cuts.get("measured_only"):
        keep &= measured
    keep &= np.isfinite(e)
    rule = [f"Z >= {cuts['z_min']}", f"N >= {cuts['n_min']}"]
    if "z_max" in cuts:
        rule.append(f"Z <= {cuts['z_max']}")
    if "a_min" in cuts:
        rule.append(f"A >= {cuts['a_min']}")
    if cuts.get("measured_only"):
        rule.append("measured masses only (AME '#' values excluded)")
    if not np.any(keep):
        raise ValueError(f"--target={canon}: no nucleus left after the cuts ({', '.join(rule)}); "
                         "allowed: cuts that keep at least one nucleus")
    description = f"{desc}; selection: {', '.join(rule)}; residual E/A (MeV per nucleon), unweighted"
    return TargetSet(name=canon, description=description, source=source, cuts=cuts, binding=binding,
                     Z=Z[keep], N=N[keep], A=A[keep], energy_per_nucleon_MeV=e[keep])


def target_set_from_metadata(meta: dict) -> TargetSet:
    """Rebuild a target set from :meth:`TargetSet.metadata` (e.g. read from a chain store) and
    check its fingerprint: a changed shipped table is an error, not a silent difference."""
    cuts = dict(meta["cuts"])
    ts = target_set(meta["name"], z_min=cuts.get("z_min"), n_min=cuts.get("n_min"), z_max=cuts.get("z_max"),
                    a_min=cuts.get("a_min"), measured_only=cuts.get("measured_only"))
    if ts.fingerprint != meta.get("fingerprint", ts.fingerprint):
        raise ValueError(f"target set {meta['name']!r}: rebuilt data differ from the stored fingerprint "
                         f"({ts.fingerprint} != {meta['fingerprint']}); the shipped table changed")
    return ts

