"""Surface and curvature tensions of the compressible liquid-drop model (CLDM).

Newton-Gearheart-Li / Maruyama form used by Carreau et al. (2019, 2020), Dinh Thi et al.
(2023) and Grams et al., Universe (2025), Eqs. (24)-(26); physics_reference.md 5.3:

    sigma_s(y_p) = sigma0 (2^{p+1} + b_s) / (y_p^{-p} + b_s + (1 - y_p)^{-p})      [MeV fm^-2]
    sigma_c(y_p) = alpha sigma_s(y_p) (sigma0c / sigma0) (beta - y_p),  alpha = 5.5 [MeV fm^-1]

with y_p the proton fraction of the cluster. The optional temperature factor
h(T) = [1 - (T/T_c)^2]^2 (0 above T_c), T_c(y_p) of Lattimer & Swesty (1991) Eq. (2.31), is
off by default (Grams et al. 2025 set h = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

#: alpha of the curvature tension (fixed, Grams et al. 2025 Eq. 25)
ALPHA_CURV = 5.5

SURFACE_PARAMETER_NAMES = ("sigma0", "sigma0c", "b_s", "beta", "p")
SURFACE_PARAMETER_UNITS = {"sigma0": "MeV fm^-2", "sigma0c": "MeV fm^-1", "b_s": "1", "beta": "1", "p": "1"}

#: Grams et al. 2025, Table 1 (BSk24 bulk); p = 3
NAMED_SURFACE_SETS: dict[str, dict[str, float]] = {
    "BSk24-ETF-medium": dict(sigma0=1.033329, sigma0c=0.172145, b_s=29.418725, beta=0.747555, p=3.0),
    "BSk24-ETF-table": dict(sigma0=0.98636, sigma0c=0.09008, b_s=36.22714, beta=1.16310, p=3.0),
    "BSk24-AME2020": dict(sigma0=1.04971, sigma0c=0.12094, b_s=30.45764, beta=0.66720, p=3.0),
}


@dataclass(frozen=True, eq=False)
class SurfaceParameters:
    """(sigma0, sigma0c, b_s, beta, p): arrays of a common batch shape (``()`` for one set)."""

    sigma0: np.ndarray
    sigma0c: np.ndarray
    b_s: np.ndarray
    beta: np.ndarray
    p: np.ndarray
    name: str = "custom"

    def __post_init__(self) -> None:
        arrays = [np.asarray(getattr(self, k), dtype=float) for k in SURFACE_PARAMETER_NAMES]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        for key, arr in zip(SURFACE_PARAMETER_NAMES, arrays):
            arr = np.broadcast_to(arr, shape).copy()
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"surface parameter {key}: must be finite")
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)
        if np.any(self.sigma0 <= 0):
            bad = self.sigma0[self.sigma0 <= 0].ravel()[0]
            raise ValueError(f"surface parameter sigma0={bad:g} MeV fm^-2: must be > 0 (a negative "
                             "surface tension has no cluster solution)")
        if np.any(self.p <= 0) or np.any(self.p > 10):
            bad = self.p[(self.p <= 0) | (self.p > 10)].ravel()[0]
            raise ValueError(f"surface parameter p={bad:g}: allowed range is (0, 10]")
        # sigma_s > 0 for every y_p in (0, 1/2] needs 2^{p+1} + b_s > 0 and a positive denominator
        y = np.linspace(1e-3, 0.5, 200).reshape((-1,) + (1,) * len(shape))
        num = 2.0 ** (self.p + 1) + self.b_s
        den = y ** (-self.p) + self.b_s + (1 - y) ** (-self.p)
        if np.any(num <= 0) or np.any(den <= 0):
            bad = self.b_s[np.broadcast_to((num <= 0) | np.any(den <= 0, axis=0), shape)].ravel()
            raise ValueError(
                f"surface parameter b_s={bad[0] if bad.size else self.b_s.ravel()[0]:g}: makes the surface "
                f"tension sigma_s negative; need b_s > -2^(p+1) and y^-p + b_s + (1-y)^-p > 0"
            )

    @classmethod
    def named(cls, name: str) -> "SurfaceParameters":
        for key, values in NAMED_SURFACE_SETS.items():
            if key.lower() == name.strip().lower():
                return cls(**values, name=key)
        raise ValueError(f"unknown surface set {name!r}: known sets are {', '.join(NAMED_SURFACE_SETS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, float], *, name: str = "custom",
                     defaults: "SurfaceParameters | None" = None) -> "SurfaceParameters":
        unknown = [k for k in values if k not in SURFACE_PARAMETER_NAMES]
        if unknown:
            raise ValueError(f"unknown surface parameter {unknown[0]!r}: allowed are "
                             f"{', '.join(SURFACE_PARAMETER_NAMES)}")
        kw = {}
        for k in SURFACE_PARAMETER_NAMES:
            if k in values:
                kw[k] = values[k]
            elif defaults is not None:
                kw[k] = getattr(defaults, k)
            elif k == "p":
                kw[k] = 3.0
            else:
                raise ValueError(f"surface parameter {k!r} is missing (need {', '.join(SURFACE_PARAMETER_NAMES)})")
        return cls(**kw, name=name)

    @classmethod
    def from_array(cls, array: np.ndarray, *, name: str = "custom") -> "SurfaceParameters":
        array = np.asarray(array, dtype=float)
        if array.shape[-1:] != (5,):
            raise ValueError(f"surface parameter array: last axis {array.shape[-1:]}, must be 5")
        return cls(**{k: array[..., i] for i, k in enumerate(SURFACE_PARAMETER_NAMES)}, name=name)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.sigma0.shape

    def to_array(self) -> np.ndarray:
        return np.stack([getattr(self, k) for k in SURFACE_PARAMETER_NAMES], axis=-1)

    def __getitem__(self, index) -> "SurfaceParameters":
        return SurfaceParameters(**{k: getattr(self, k)[index] for k in SURFACE_PARAMETER_NAMES}, name=self.name)

    def as_dict(self) -> dict:
        return {k: (float(v) if np.ndim(v) == 0 else np.asarray(v))
                for k, v in ((k, getattr(self, k)) for k in SURFACE_PARAMETER_NAMES)}

    def expand(self, ndim: int) -> "SurfaceParameters":
        ex = (Ellipsis,) + (None,) * ndim
        return SurfaceParameters(**{k: getattr(self, k)[ex] for k in SURFACE_PARAMETER_NAMES}, name=self.name)

    def take(self, index) -> "SurfaceParameters":
        """Gather rows without re-validating (the parent batch was validated)."""
        out = object.__new__(SurfaceParameters)
        for k in SURFACE_PARAMETER_NAMES:
            object.__setattr__(out, k, getattr(self, k)[index])
        object.__setattr__(out, "name", self.name)
        return out


def parse_surface(spec: str) -> SurfaceParameters:
    """A named set (``BSk24-AME2020``) or ``sigma0=1.04971,sigma0c=0.12094,b_s=30.45764,beta=0.6672,p=3``."""
    spec = spec.strip()
    if "=" not in spec:
        return SurfaceParameters.named(spec)
    values = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"--surface: {part!r} is not key=value")
        k, v = (s.strip() for s in part.split("=", 1))
        try:
            values[k] = float(v)
        except ValueError:
            raise ValueError(f"--surface: {k}={v!r} is not a number") from None
    return SurfaceParameters.from_mapping(values)


def surface_tension(y_p, sp: SurfaceParameters, *, second: bool = False):
    """sigma_s(y_p) in MeV fm^-2 and d sigma_s / d y_p (Grams et al. 2025 Eq. 24); with
    ``second=True`` also d^2 sigma_s / d y_p^2."""
    y = np.asarray(y_p, dtype=float)
    p = sp.p
    a = y ** (-p)
    c = (1.0 - y) ** (-p)
    den = a + sp.b_s + c
    num = sp.sigma0 * (2.0 ** (p + 1.0) + sp.b_s)
    sig = num / den
    dden = -p * a / y + p * c / (1.0 - y)
    dsig = -sig * dden / den
    if not second:
        return sig, dsig
    d2den = p * (p + 1.0) * (a / (y * y) + c / ((1.0 - y) ** 2))
    d2sig = -sig * d2den / den + 2.0 * sig * dden * dden / (den * den)
    return sig, dsig, d2sig


def curvature_tension(y_p, sp: SurfaceParameters, *, second: bool = False):
    """sigma_c(y_p) in MeV fm^-1 and d sigma_c / d y_p (Grams et al. 2025 Eq. 25); with
    ``second=True`` also the second derivative."""
    k = ALPHA_CURV * sp.sigma0c / sp.sigma0
    y = np.asarray(y_p, dtype=float)
    if not second:
        sig, dsig = surface_tension(y_p, sp)
        return k * sig * (sp.beta - y), k * (dsig * (sp.beta - y) - sig)
    sig, dsig, d2sig = surface_tension(y_p, sp, second=True)
    return (k * sig * (sp.beta - y), k * (dsig * (sp.beta - y) - sig),
            k * (d2sig * (sp.beta - y) - 2.0 * dsig))


def critical_temperature(y_p, K_sat, n_sat) -> np.ndarray:
    """T_c(y_p) = 87.76 (K_sat/375)^{1/2} (0.155/n_sat)^{1/3} y_p (1 - y_p) MeV
    (Lattimer & Swesty 1991 Eq. 2.31; physics_reference.md 5.3)."""
    y = np.asarray(y_p, dtype=float)
    return 87.76 * np.sqrt(K_sat / 375.0) * np.cbrt(0.155 / n_sat) * y * (1.0 - y)


def temperature_factor(T, T_c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """h(T) = [1 - (T/T_c)^2]^2 for T < T_c, 0 above (Grams et al. 2025 Eq. 26), with
    dh/dT and dh/dT_c."""
    T = np.asarray(T, dtype=float)
    r = T / T_c
    inside = r < 1.0
    g = 1.0 - r * r
    h = np.where(inside, g * g, 0.0)
    dh_dT = np.where(inside, -4.0 * g * r / T_c, 0.0)
    dh_dTc = np.where(inside, 4.0 * g * r * r / T_c, 0.0)
    return h, dh_dT, dh_dTc
