"""Empirical (nuclear-matter) parameters of the meta-model, named sets and overrides.

The meta-model of Margueron, Hoffmann Casali & Gulminelli, PRC 97, 025805 (2018) is fixed by
13 numbers (physics_reference.md sections 1 and 3):

=============  ============  =====================================================
name           unit          meaning
=============  ============  =====================================================
``n_sat``      fm^-3         saturation density of symmetric matter
``E_sat``      MeV           energy per nucleon at saturation (no rest mass)
``K_sat``      MeV           incompressibility
``Q_sat``      MeV           skewness
``Z_sat``      MeV           kurtosis
``E_sym``      MeV           symmetry energy at n_sat (delta^2 coefficient)
``L_sym``      MeV           slope of the symmetry energy
``K_sym``      MeV           curvature of the symmetry energy
``Q_sym``      MeV           skewness of the symmetry energy
``Z_sym``      MeV           kurtosis of the symmetry energy
``m_star_sat`` 1             isoscalar effective mass m*_sat/m at n_sat
``dm_star``    1             effective-mass splitting (m*_n - m*_p)/m in pure neutron
                             matter at n_sat
``b``          1             low-density correction parameter of u_alpha (10 ln 2)
=============  ============  =====================================================

A :class:`EmpiricalParameters` holds each parameter as a numpy array of a common batch shape
(``()`` for a single set, ``(n_samples,)`` for a batch of prior samples): parameters broadcast
against the density/temperature arrays like any numpy operand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Mapping

import numpy as np

PARAMETER_NAMES: tuple[str, ...] = (
    "n_sat",
    "E_sat",
    "K_sat",
    "Q_sat",
    "Z_sat",
    "E_sym",
    "L_sym",
    "K_sym",
    "Q_sym",
    "Z_sym",
    "m_star_sat",
    "dm_star",
    "b",
)

PARAMETER_UNITS: dict[str, str] = {
    "n_sat": "fm^-3",
    **{k: "MeV" for k in PARAMETER_NAMES[1:10]},
    "m_star_sat": "1",
    "dm_star": "1",
    "b": "1",
}

#: b = 10 ln 2: e^{-b u} = 2^-5 at n_sat/2 (Margueron et al. 2018; physics_reference.md 1.4)
B_DEFAULT = 10.0 * math.log(2.0)

#: Sets settled or re-derived in physics_reference.md sections 3.1-3.2 (BSk rows re-derived from
#: the Skyrme parameters; Delta m*/m as in the NSEoS files; b = 10 ln 2).
_REFERENCE_SETS: dict[str, dict[str, float]] = {
    "BSk24": dict(n_sat=0.1578, E_sat=-16.048, K_sat=245.52, Q_sat=-274.46, Z_sat=1184.15,
                  E_sym=30.00, L_sym=46.40, K_sym=-37.61, Q_sym=710.86, Z_sym=-4031.3,
                  m_star_sat=0.80, dm_star=0.20, b=B_DEFAULT),
    "BSk22": dict(n_sat=0.1578, E_sat=-16.088, K_sat=245.909, Q_sat=-275.527, Z_sat=1190.24,
                  E_sym=32.00, L_sym=68.4865, K_sym=12.9878, Q_sym=563.235, Z_sym=-3174.01,
                  m_star_sat=0.80, dm_star=0.20, b=B_DEFAULT),
    "BSk25": dict(n_sat=0.1587, E_sat=-16.032, K_sat=236.032, Q_sat=-316.455, Z_sat=1354.95,
                  E_sym=29.0, L_sym=36.8974, K_sym=-28.5094, Q_sym=885.881, Z_sym=-4919.93,
                  m_star_sat=0.80, dm_star=0.13, b=B_DEFAULT),
    "BSk26": dict(n_sat=0.1589, E_sat=-16.064, K_sat=240.771, Q_sat=-282.867, Z_sat=1296.14,
                  E_sym=30.0, L_sym=37.4943, K_sym=-135.63, Q_sym=549.564, Z_sym=-3185.08,
                  m_star_sat=0.80, dm_star=0.39, b=B_DEFAULT),
    "SLy4": dict(n_sat=0.1595, E_sat=-15.97, K_sat=230.00, Q_sat=-363.00, Z_sat=1587.00,
                 E_sym=32.01, L_sym=46.00, K_sym=-120.00, Q_sym=521.00, Z_sym=-3197.00,
                 m_star_sat=0.69, dm_star=-0.19, b=B_DEFAULT),
}

#: Physical validity ranges used to reject nonsense input (not priors).
VALID_RANGES: dict[str, tuple[float, float]] = {
    "n_sat": (0.05, 0.30),
    "E_sat": (-30.0, 0.0),
    "K_sat": (0.0, 1000.0),
    "Q_sat": (-1e4, 1e4),
    "Z_sat": (-1e5, 1e5),
    "E_sym": (0.0, 100.0),
    "L_sym": (-200.0, 300.0),
    "K_sym": (-2000.0, 2000.0),
    "Q_sym": (-1e4, 1e4),
    "Z_sym": (-1e5, 1e5),
    "m_star_sat": (0.2, 2.0),
    "dm_star": (-2.0, 2.0),
    "b": (0.0, 100.0),
}


@dataclass(frozen=True, eq=False)
class EmpiricalParameters:
    """A set (or a batch of sets) of the 13 meta-model parameters; see the module docstring.

    Every field is a float64 numpy array of the common :attr:`batch_shape`. Build with
    :meth:`named`, :meth:`from_mapping` or :meth:`from_array`; :meth:`with_overrides`
    returns a modified copy.
    """

    n_sat: np.ndarray
    E_sat: np.ndarray
    K_sat: np.ndarray
    Q_sat: np.ndarray
    Z_sat: np.ndarray
    E_sym: np.ndarray
    L_sym: np.ndarray
    K_sym: np.ndarray
    Q_sym: np.ndarray
    Z_sym: np.ndarray
    m_star_sat: np.ndarray
    dm_star: np.ndarray
    b: np.ndarray
    name: str = "custom"

    def __post_init__(self) -> None:
        arrays = [np.asarray(getattr(self, k), dtype=float) for k in PARAMETER_NAMES]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError as exc:
            raise ValueError(f"parameters: batch shapes do not broadcast ({exc})") from None
        for key, arr in zip(PARAMETER_NAMES, arrays):
            arr = np.broadcast_to(arr, shape).copy()
            if not np.all(np.isfinite(arr)):
                bad = arr[~np.isfinite(arr)].ravel()[0]
                raise ValueError(f"parameter {key}={bad}: must be finite")
            lo, hi = VALID_RANGES[key]
            if np.any((arr < lo) | (arr > hi)):
                bad = arr[(arr < lo) | (arr > hi)].ravel()[0]
                raise ValueError(
                    f"parameter {key}={bad:g} {PARAMETER_UNITS[key]}: allowed range is [{lo:g}, {hi:g}]"
                )
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)
        # the effective masses must stay positive and the splitting must be invertible
        a = 1.0 / self.m_star_sat
        disc = 1.0 + (self.dm_star * a) ** 2
        if np.any(~np.isfinite(disc)):
            raise ValueError("parameters m_star_sat/dm_star: effective-mass splitting not invertible")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_mapping(cls, values: Mapping[str, float | np.ndarray], *, name: str = "custom",
                     defaults: "EmpiricalParameters | None" = None) -> "EmpiricalParameters":
        """Build from a mapping of parameter name -> value(s). Missing keys come from
        ``defaults`` (else error); unknown keys are an error naming the key."""
        unknown = [k for k in values if k not in PARAMETER_NAMES]
        if unknown:
            raise ValueError(
                f"unknown parameter {unknown[0]!r}: allowed are {', '.join(PARAMETER_NAMES)}"
            )
        kw = {}
        for k in PARAMETER_NAMES:
            if k in values:
                kw[k] = values[k]
            elif defaults is not None:
                kw[k] = getattr(defaults, k)
            elif k == "b":
                kw[k] = B_DEFAULT
            else:
                raise ValueError(f"parameter {k!r} is missing (need all of {', '.join(PARAMETER_NAMES)})")
        return cls(**kw, name=name)

    @classmethod
    def named(cls, name: str) -> "EmpiricalParameters":
        """A named parameter set (case-insensitive): BSk22/24/25/26 and SLy4 of
        physics_reference.md section 3, plus every set of the shipped NSEoS and nucleardatapy
        Skyrme tables (see :func:`list_parameter_sets`)."""
        table = _named_sets()
        key = name.strip().lower()
        if key not in table:
            raise ValueError(
                f"unknown parameter set {name!r}: known sets are {', '.join(list_parameter_sets())}"
            )
        canonical, values = table[key]
        return cls.from_mapping(values, name=canonical)

    @classmethod
    def from_array(cls, array: np.ndarray, *, name: str = "custom") -> "EmpiricalParameters":
        """Inverse of :meth:`to_array`: ``array[..., i]`` is parameter ``PARAMETER_NAMES[i]``."""
        array = np.asarray(array, dtype=float)
        if array.shape[-1:] != (len(PARAMETER_NAMES),):
            raise ValueError(
                f"parameter array: last axis has length {array.shape[-1:]}, must be {len(PARAMETER_NAMES)}"
            )
        return cls(**{k: array[..., i] for i, k in enumerate(PARAMETER_NAMES)}, name=name)

    # ------------------------------------------------------------------ views
    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.n_sat.shape

    def __len__(self) -> int:
        if self.batch_shape == ():
            raise TypeError("a single parameter set has no len(); use batch_shape")
        return self.batch_shape[0]

    def __getitem__(self, index) -> "EmpiricalParameters":
        return EmpiricalParameters(**{k: getattr(self, k)[index] for k in PARAMETER_NAMES},
                                   name=self.name)

    def to_array(self) -> np.ndarray:
        """Stack to an array of shape ``batch_shape + (13,)`` in PARAMETER_NAMES order."""
        return np.stack([getattr(self, k) for k in PARAMETER_NAMES], axis=-1)

    def as_dict(self) -> dict[str, np.ndarray | float]:
        out = {}
        for k in PARAMETER_NAMES:
            v = getattr(self, k)
            out[k] = float(v) if v.shape == () else v
        return out

    def with_overrides(self, **overrides: float) -> "EmpiricalParameters":
        """Copy with some parameters replaced, e.g. ``p.with_overrides(L_sym=60)``."""
        return EmpiricalParameters.from_mapping(overrides, name=self.name + "+overrides", defaults=self)

    def broadcast_to(self, shape: tuple[int, ...]) -> "EmpiricalParameters":
        return EmpiricalParameters(
            **{k: np.broadcast_to(getattr(self, k), shape) for k in PARAMETER_NAMES}, name=self.name
        )

    # ------------------------------------------------------------------ derived
    @property
    def kappa_sat(self) -> np.ndarray:
        """kappa_sat = m/m*_sat - 1 (physics_reference.md 1.2)."""
        return 1.0 / self.m_star_sat - 1.0

    @property
    def kappa_sym(self) -> np.ndarray:
        """kappa_sym from the splitting Delta = dm_star (small root of physics_reference.md 1.2):
        kappa_sym = [1 - sqrt(1 + Delta^2 a^2)] / Delta, a = 1 + kappa_sat; 0 if Delta = 0."""
        a = 1.0 + self.kappa_sat
        d = self.dm_star
        safe = np.where(d == 0.0, 1.0, d)
        return np.where(d == 0.0, 0.0, (1.0 - np.sqrt(1.0 + (safe * a) ** 2)) / safe)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        if self.batch_shape == ():
            body = ", ".join(f"{k}={float(getattr(self, k)):g}" for k in PARAMETER_NAMES)
        else:
            body = f"batch_shape={self.batch_shape}"
        return f"EmpiricalParameters({self.name}: {body})"


def _nep_skyrme_to_parameters(row: Mapping[str, float]) -> dict[str, float] | None:
    """Map a nucleardatapy NEPSkyrme row (with m*s, kappas, kappav) to our 13 parameters.

    kappa_sym = kappa_sat - kappa_v (physics_reference.md 1.2), and the splitting
    Delta = 1/(1+kappa_sat+kappa_sym) - 1/(1+kappa_sat-kappa_sym)."""
    need = ("n_sat", "E_sat", "K_sat", "Q_sat", "Z_sat", "E_sym", "L_sym", "K_sym", "Q_sym",
            "Z_sym", "m_star_sat")
    if any(k not in row or not np.isfinite(row[k]) for k in need):
        return None
    out = {k: float(row[k]) for k in need}
    kappa_sat = 1.0 / out["m_star_sat"] - 1.0
    if "kappav" in row and np.isfinite(row["kappav"]):
        kappa_sym = kappa_sat - float(row["kappav"])
        out["dm_star"] = 1.0 / (1 + kappa_sat + kappa_sym) - 1.0 / (1 + kappa_sat - kappa_sym)
    else:
        out["dm_star"] = 0.0
    out["b"] = B_DEFAULT
    return out


@lru_cache(maxsize=1)
def _named_sets() -> dict[str, tuple[str, dict[str, float]]]:
    """lower-case name -> (canonical name, values). Reference sets win over table sets."""
    from crustuq.models.tables import matter_tables

    table: dict[str, tuple[str, dict[str, float]]] = {}
    for name, values in _REFERENCE_SETS.items():
        table[name.lower()] = (name, dict(values))
    for name in matter_tables.list_nseos_parameter_sets():
        if name.lower() in table:
            continue
        values = dict(matter_tables.load_nseos_parameters(name))
        values.setdefault("b", B_DEFAULT)
        table[name.lower()] = (name, values)
    for label, row in matter_tables.load_nep_table("NEPSkyrme").items():
        if label.lower() in table:
            continue
        values = _nep_skyrme_to_parameters(row)
        if values is not None:
            table[label.lower()] = (label, values)
    return table


def list_parameter_sets() -> list[str]:
    """Canonical names of every named parameter set."""
    return [canonical for canonical, _ in _named_sets().values()]


def parameter_field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(EmpiricalParameters) if f.name != "name")
