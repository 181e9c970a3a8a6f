"""Prior distributions over the 13 empirical parameters and reproducible sampling.

Two families (physics_reference.md section 3.3):

* ``uniform``: the flat ranges of Carreau, Gulminelli & Margueron, EPJA 55, 188 (2019),
  used in Bayesian crust studies (NSEoS ``priorDistribution.py``);
* ``gaussian``: the "average +- sigma" of Margueron et al., PRC 97, 025805 (2018) as quoted in
  physics_reference.md 3.3 (flagged [?] there: the table itself could not be re-read), with b
  fixed to 10 ln 2, optionally correlated through a user correlation matrix.

Every prior maps points ``u`` of the unit hypercube to parameters (inverse CDF), so plain
Monte Carlo, Latin hypercube and Sobol designs share one code path. Plain Monte-Carlo draws are
made in fixed chunks of :data:`CHUNK` samples, chunk ``c`` from
``SeedSequence(seed, spawn_key=(c,))``: sample ``i`` is the same whatever batch it is drawn in.
Sobol points are indexed directly (``fast_forward``); a Latin hypercube is a design over all
``n`` samples by construction, so its sample i depends on ``n`` (documented, not a bug).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import stats
from scipy.stats import qmc

from crustuq.models.matter.parameters import B_DEFAULT, PARAMETER_NAMES, VALID_RANGES

#: chunk size of the reproducible Monte-Carlo stream
CHUNK = 4096

#: Carreau, Gulminelli & Margueron 2019, uniform ranges (physics_reference.md 3.3)
CARREAU2019_UNIFORM: dict[str, tuple[float, float]] = {
    "n_sat": (0.150, 0.170),
    "E_sat": (-17.0, -15.0),
    "K_sat": (190.0, 270.0),
    "Q_sat": (-1000.0, 1000.0),
    "Z_sat": (-3000.0, 3000.0),
    "E_sym": (26.0, 38.0),
    "L_sym": (10.0, 80.0),
    "K_sym": (-400.0, 200.0),
    "Q_sym": (-2000.0, 2000.0),
    "Z_sym": (-5000.0, 5000.0),
    "m_star_sat": (0.60, 0.80),
    "dm_star": (0.00, 0.20),
    "b": (1.0, 10.0),
}

#: Margueron et al. 2018 average +- sigma as quoted in physics_reference.md 3.3 ([?] there)
MARGUERON2018_GAUSSIAN: dict[str, tuple[float, float]] = {
    "n_sat": (0.155, 0.005),
    "E_sat": (-15.8, 0.3),
    "K_sat": (230.0, 20.0),
    "Q_sat": (300.0, 400.0),
    "Z_sat": (-500.0, 1000.0),
    "E_sym": (32.0, 2.0),
    "L_sym": (60.0, 15.0),
    "K_sym": (-100.0, 100.0),
    "Q_sym": (0.0, 400.0),
    "Z_sym": (-500.0, 1000.0),
    "m_star_sat": (0.75, 0.1),
    "dm_star": (0.1, 0.1),
}

SAMPLING_METHODS = ("random", "sobol", "lhs")


@dataclass(frozen=True)
class Prior:
    """A product (or Gaussian-copula-correlated) prior over the 13 parameters.

    ``uniform``: name -> (low, high); ``gaussian``: name -> (mean, sigma); ``fixed``:
    name -> value. Every parameter must appear exactly once. ``correlation``: optional
    correlation matrix over the Gaussian parameters (in the order of ``gaussian``).
    """

    uniform: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    gaussian: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    fixed: Mapping[str, float] = field(default_factory=dict)
    correlation: np.ndarray | None = None
    name: str = "custom"

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for kind, mapping in (("uniform", self.uniform), ("gaussian", self.gaussian),
                              ("fixed", self.fixed)):
            for key in mapping:
                if key not in PARAMETER_NAMES:
                    raise ValueError(
                        f"prior.{kind}: unknown parameter {key!r}; allowed are {', '.join(PARAMETER_NAMES)}"
                    )
                if key in seen:
                    raise ValueError(f"prior: parameter {key!r} given in both {seen[key]} and {kind}")
                seen[key] = kind
        missing = [k for k in PARAMETER_NAMES if k not in seen]
        if missing:
            raise ValueError(f"prior: parameter(s) {', '.join(missing)} have no distribution or fixed value")
        for key, (lo, hi) in self.uniform.items():
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise ValueError(f"prior.uniform.{key}=({lo}, {hi}): need finite low < high")
        for key, (mean, sigma) in self.gaussian.items():
            if not (np.isfinite(mean) and np.isfinite(sigma) and sigma > 0):
                raise ValueError(f"prior.gaussian.{key}=({mean}, {sigma}): need a finite mean and sigma > 0")
        if self.correlation is not None:
            c = np.asarray(self.correlation, dtype=float)
            k = len(self.gaussian)
            if c.shape != (k, k):
                raise ValueError(f"prior.correlation: shape {c.shape}, must be ({k}, {k}) over the Gaussian parameters")
            if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
                raise ValueError("prior.correlation: must be symmetric with unit diagonal")
            try:
                np.linalg.cholesky(c)
            except np.linalg.LinAlgError:
                raise ValueError("prior.correlation: not positive definite") from None
            object.__setattr__(self, "correlation", c)

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(k for k in PARAMETER_NAMES if k in self.uniform or k in self.gaussian)

    @property
    def dimension(self) -> int:
        return len(self.free_names)

    # ------------------------------------------------------------------ transforms
    def transform(self, u: np.ndarray) -> np.ndarray:
        """Map unit-hypercube points ``u`` (n, dimension) to parameter arrays (n, 13)."""
        u = np.asarray(u, dtype=float)
        n = u.shape[0]
        out = np.empty((n, len(PARAMETER_NAMES)))
        cols = {name: i for i, name in enumerate(self.free_names)}
        # clip away exact 0/1 (Sobol can hit 0) so the Gaussian ppf stays finite
        u = np.clip(u, 1e-16, 1.0 - 1e-16)
        gauss_names = [k for k in self.free_names if k in self.gaussian]
        if gauss_names:
            z = stats.norm.ppf(u[:, [cols[k] for k in gauss_names]])
            if self.correlation is not None:
                order = list(self.gaussian)
                perm = [order.index(k) for k in gauss_names]
                c = self.correlation[np.ix_(perm, perm)]
                z = z @ np.linalg.cholesky(c).T
        for j, key in enumerate(PARAMETER_NAMES):
            if key in self.fixed:
                out[:, j] = self.fixed[key]
            elif key in self.uniform:
                lo, hi = self.uniform[key]
                out[:, j] = lo + (hi - lo) * u[:, cols[key]]
            else:
                mean, sigma = self.gaussian[key]
                out[:, j] = mean + sigma * z[:, gauss_names.index(key)]
        return out

    def log_density(self, values: np.ndarray) -> np.ndarray:
        """Log prior density (up to a constant) of parameter arrays (..., 13); -inf outside."""
        values = np.asarray(values, dtype=float)
        logp = np.zeros(values.shape[:-1])
        for key, (lo, hi) in self.uniform.items():
            v = values[..., PARAMETER_NAMES.index(key)]
            logp = np.where((v >= lo) & (v <= hi), logp, -np.inf)
        if self.gaussian:
            keys = list(self.gaussian)
            z = np.stack([(values[..., PARAMETER_NAMES.index(k)] - self.gaussian[k][0]) / self.gaussian[k][1]
                          for k in keys], axis=-1)
            c = self.correlation if self.correlation is not None else np.eye(len(keys))
            logp = logp - 0.5 * np.einsum("...i,ij,...j->...", z, np.linalg.inv(c), z)
        return logp

    # ------------------------------------------------------------------ sampling
    def unit_points(self, n: int, seed: int, *, start: int = 0, method: str = "random") -> np.ndarray:
        """Points of the unit hypercube for samples ``start .. start+n-1``."""
        if method not in SAMPLING_METHODS:
            raise ValueError(f"sampling method {method!r}: allowed are {', '.join(SAMPLING_METHODS)}")
        if n < 0 or start < 0:
            raise ValueError(f"samples: n={n}, start={start}; both must be >= 0")
        d = self.dimension
        if d == 0:
            return np.empty((n, 0))
        if method == "random":
            return _chunked_uniform(seed, start, n, d)
        if method == "sobol":
            engine = qmc.Sobol(d, scramble=True, rng=np.random.default_rng(np.random.SeedSequence(seed)))
            if start:
                engine.fast_forward(start)
            with warnings.catch_warnings():
                # scipy warns unless n is a power of 2: blocks of a sweep rarely are, and the
                # points are still the first n of the (scrambled) Sobol sequence
                warnings.filterwarnings("ignore", message="The balance properties of Sobol")
                return engine.random(n)
        # Latin hypercube: one design over start+n samples
        engine = qmc.LatinHypercube(d, rng=np.random.default_rng(np.random.SeedSequence(seed)))
        return engine.random(start + n)[start:]

    def sample(self, n: int, seed: int, *, start: int = 0, method: str = "random") -> np.ndarray:
        """Parameter samples ``start .. start+n-1`` as an array (n, 13) in PARAMETER_NAMES order."""
        return self.transform(self.unit_points(n, seed, start=start, method=method))


def _chunked_uniform(seed: int, start: int, n: int, d: int) -> np.ndarray:
    out = np.empty((n, d))
    first, last = start // CHUNK, (start + n - 1) // CHUNK if n else start // CHUNK - 1
    pos = 0
    for c in range(first, last + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(c,)))
        block = rng.random((CHUNK, d))
        lo = max(start, c * CHUNK) - c * CHUNK
        hi = min(start + n, (c + 1) * CHUNK) - c * CHUNK
        out[pos:pos + hi - lo] = block[lo:hi]
        pos += hi - lo
    return out


def carreau2019_uniform_prior() -> Prior:
    """Uniform prior of Carreau, Gulminelli & Margueron, EPJA 55, 188 (2019)."""
    return Prior(uniform=dict(CARREAU2019_UNIFORM), name="carreau2019-uniform")


def margueron2018_gaussian_prior(correlation: np.ndarray | None = None) -> Prior:
    """Gaussian prior with the Margueron et al. (2018) means and widths (b = 10 ln 2 fixed)."""
    return Prior(gaussian=dict(MARGUERON2018_GAUSSIAN), fixed={"b": B_DEFAULT},
                 correlation=correlation, name="margueron2018-gaussian")


NAMED_PRIORS = {
    "carreau2019-uniform": carreau2019_uniform_prior,
    "margueron2018-gaussian": margueron2018_gaussian_prior,
}


def named_prior(name: str) -> Prior:
    if name not in NAMED_PRIORS:
        raise ValueError(f"unknown prior {name!r}: known priors are {', '.join(NAMED_PRIORS)}")
    return NAMED_PRIORS[name]()


def validity_mask(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which samples lie inside the physical validity ranges of
    :data:`crustuq.models.matter.parameters.VALID_RANGES`; returns (ok, reason strings)."""
    values = np.asarray(values, dtype=float)
    ok = np.ones(values.shape[:-1], dtype=bool)
    reason = np.full(values.shape[:-1], "", dtype=object)
    for j, key in enumerate(PARAMETER_NAMES):
        lo, hi = VALID_RANGES[key]
        v = values[..., j]
        bad = ok & ~((v >= lo) & (v <= hi))
        for idx in zip(*np.nonzero(bad)):
            reason[idx] = f"{key}={v[idx]:g} outside [{lo:g}, {hi:g}]"
        ok &= ~bad
    return ok, reason


__all__: Sequence[str] = [
    "Prior", "carreau2019_uniform_prior", "margueron2018_gaussian_prior", "named_prior",
    "NAMED_PRIORS", "SAMPLING_METHODS", "validity_mask", "CARREAU2019_UNIFORM",
    "MARGUERON2018_GAUSSIAN",
]
