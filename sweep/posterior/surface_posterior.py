"""Posterior of the CLDM surface parameters with emcee, stored in Zarr; draws for crust sweeps.

Model: the vacuum CLDM energy per nucleon (Grams et al. 2025 Eq. 27; physics_reference.md
5.7) for one bulk parameter set, against a named target set
(:mod:`crustuq.models.cldm.fit_targets`). Likelihood (Gaussian, independent nuclei):

    ln L = -chi^2 / (2 sigma_m^2) - n ln sigma_m - (n/2) ln(2 pi),   chi^2 = sum_i r_i^2

with r_i = E_CLDM/A - E_target/A (MeV per nucleon) and sigma_m the model-error width in MeV
per nucleon: either fixed (``sigma_model=0.04``) or sampled (``sigma_model="free"``; the
sampled coordinate is ``ln_sigma_model`` with a flat prior in ln sigma_m, i.e. log-uniform).
Priors on the free surface parameters are flat (bounded) or Gaussian (:class:`Prior1D`);
p is fixed at 3 by default (Grams et al.) or free. The log-probability is vectorised over
walkers (emcee ``vectorize=True``) and costs one :meth:`SurfaceModel.chi2` call.

Chains are written by :class:`~crustuq.sweep.posterior.zarr_backend.ZarrBackend`; the store
holds the configuration (:class:`PosteriorConfig`), the target set, the acceptance fraction,
integrated autocorrelation times and effective sample sizes. A posterior whose chain is
shorter than ``CONVERGENCE_FACTOR`` = 50 autocorrelation times is not reported unless forced
(:class:`ConvergenceError`).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from crustuq.models.cldm.fit_targets import TargetSet, target_set_from_metadata
from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES, SurfaceParameters
from crustuq.models.cldm.surface_fit import SurfaceModel, fit_surface, fit_surface_batch
from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters

__all__ = [
    "Prior1D",
    "PosteriorConfig",
    "make_config",
    "SurfaceLogProb",
    "initial_walkers",
    "posterior_samples",
    "write_summary",
    "ConvergenceError",
    "CONVERGENCE_FACTOR",
    "DEFAULT_PRIORS",
    "run_surface_posterior",
    "chain_summary",
    "report_posterior",
    "posterior_draws",
    "joint_sweep_samples",
    "JointSamples",
    "open_chain",
    "parse_prior",
]

#: a chain must be at least this many integrated autocorrelation times long
CONVERGENCE_FACTOR = 50.0
SIGMA_NAME = "ln_sigma_model"

#: default flat priors (lo, hi); units: sigma0 MeV fm^-2, sigma0c MeV fm^-1, ln_sigma_model ln(MeV)
DEFAULT_PRIORS: dict[str, tuple[str, float, float]] = {
    "sigma0": ("flat", 0.3, 2.0),
    "sigma0c": ("flat", -0.5, 1.0),
    "b_s": ("flat", -15.0, 200.0),
    "beta": ("flat", -3.0, 5.0),
    "p": ("flat", 1.0, 6.0),
    SIGMA_NAME: ("flat", math.log(1e-3), math.log(1.0)),
}


class ConvergenceError(ValueError):
    """The chain is too short to report a posterior (fewer than 50 autocorrelation times).

    A ValueError so that the command line reports it in one line (the chain itself is stored
    and can be continued with ``--resume``)."""


@dataclass(frozen=True)
class Prior1D:
    """One-dimensional prior: ``flat`` on [a, b] or ``gauss`` with mean a and std b."""

    kind: str
    a: float
    b: float

    def __post_init__(self) -> None:
        if self.kind not in ("flat", "gauss"):
            raise ValueError(f"prior kind {self.kind!r}: allowed are flat, gauss")
        if not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise ValueError(f"prior {self.kind}:{self.a}:{self.b}: bounds must be finite")
        if self.kind == "flat" and not self.a < self.b:
            raise ValueError(f"prior flat:{self.a}:{self.b}: need lo < hi")
        if self.kind == "gauss" and not self.b > 0:
            raise ValueError(f"prior gauss:{self.a}:{self.b}: need std > 0")

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.kind == "flat":
            return np.where((x >= self.a) & (x <= self.b), -math.log(self.b - self.a), -np.inf)
        z = (x - self.a) / self.b
        return -0.5 * z * z - math.log(self.b * math.sqrt(2 * math.pi))

    def as_list(self) -> list:
        return [self.kind, float(self.a), float(self.b)]


def parse_prior(spec: str) -> tuple[str, Prior1D]:
    """``name=flat:lo:hi`` or ``name=gauss:mean:std`` -> (name, Prior1D)."""
    if "=" not in spec:
        raise ValueError(f"--prior={spec!r}: expected name=flat:lo:hi or name=gauss:mean:std")
    name, rhs = (s.strip() for s in spec.split("=", 1))
    allowed = (*SURFACE_PARAMETER_NAMES, SIGMA_NAME)
    if name not in allowed:
        raise ValueError(f"--prior={spec!r}: unknown parameter {name!r}; allowed: {', '.join(allowed)}")
    parts = rhs.split(":")
    if len(parts) != 3 or parts[0] not in ("flat", "gauss"):
        raise ValueError(f"--prior={spec!r}: expected {name}=flat:lo:hi or {name}=gauss:mean:std")
    try:
        a, b = float(parts[1]), float(parts[2])
    except ValueError:
        raise ValueError(f"--prior={spec!r}: bounds must be numbers") from None
    try:
        return name, Prior1D(parts[0], a, b)
    except ValueError as exc:
        raise ValueError(f"--prior={spec!r}: {exc}") from None


@dataclass
class PosteriorConfig:
    """Everything that defines a chain (stored with it; a resumed run must match it).

    params : name of the bulk set; params_values: its 13 values (PARAMETER_NAMES order)
    target : :meth:`TargetSet.metadata` of the target set
    free : sampled surface parameters (canonical order); fixed: values of the others
    priors : name -> [kind, a, b] for every sampled coordinate
    sigma_model : fixed width in MeV per nucleon, or "free" (sampled as ln_sigma_model)
    nwalkers, seed : emcee ensemble size and seed of the initial state and of the sampler RNG
    moves : emcee proposal: ``de-snooker`` (default; 0.8 DEMove + 0.2 DESnookerMove, ter Braak
        & Vrugt 2008 -- autocorrelation times about 3x shorter than the stretch move here) or
        ``stretch`` (Goodman & Weare 2010, emcee's default)
    """

    params: str
    params_values: list
    target: dict
    free: list
    fixed: dict
    priors: dict
    sigma_model: float | str
    nwalkers: int
    seed: int
    moves: str = "de-snooker"
    version: int = 1

    @property
    def sampled_names(self) -> list[str]:
        return list(self.free) + ([SIGMA_NAME] if self.sigma_model == "free" else [])

    @property
    def ndim(self) -> int:
        return len(self.sampled_names)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> "PosteriorConfig":
        return cls(**{k: d[k] for k in ("params", "params_values", "target", "free", "fixed", "priors",
                                         "sigma_model", "nwalkers", "seed", "moves", "version")})

    def difference(self, other: "PosteriorConfig") -> str | None:
        """First differing entry as 'key: stored vs requested' (nested keys joined by '.'),
        or None if equal."""
        def first(a, b, key):
            if isinstance(a, dict) and isinstance(b, dict):
                for k in list(a) + [k for k in b if k not in a]:
                    d = first(a.get(k), b.get(k), f"{key}.{k}" if key else k)
                    if d:
                        return d
                return None
            return None if a == b else f"{key}: {a!r} (stored) vs {b!r} (requested)"
        return first(self.to_dict(), other.to_dict(), "")

    def emcee_moves(self):
        import emcee

        if self.moves == "stretch":
            return None
        return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]

    def bulk_parameters(self) -> EmpiricalParameters:
        return EmpiricalParameters.from_mapping(dict(zip(PARAMETER_NAMES, self.params_values)), name=self.params)

    def target_set(self) -> TargetSet:
        return target_set_from_metadata(self.target)


def make_config(params: EmpiricalParameters, targets: TargetSet, *, free_p: bool = False, p: float = 3.0,
                sigma_model: float | str = "free", priors: dict | None = None, nwalkers: int = 32,
                seed: int = 1, fixed: dict | None = None, free: tuple[str, ...] | None = None,
                moves: str = "de-snooker") -> PosteriorConfig:
    """Validated :class:`PosteriorConfig`. ``free`` defaults to (sigma0, sigma0c, b_s, beta)
    plus p if ``free_p``; parameters not free are fixed at ``fixed`` (p defaults to ``p``)."""
    if not isinstance(params, EmpiricalParameters) or params.batch_shape != ():
        raise ValueError("--params: must be one bulk parameter set")
    if free is None:
        free = ("sigma0", "sigma0c", "b_s", "beta") + (("p",) if free_p else ())
    free = [k for k in SURFACE_PARAMETER_NAMES if k in set(free)]
    fixed = dict(fixed or {})
    both = [k for k in fixed if k in free]
    if both:
        raise ValueError(f"fixed: parameter {both[0]!r} is also sampled (free)")
    unknown = [k for k in fixed if k not in SURFACE_PARAMETER_NAMES]
    if unknown:
        raise ValueError(f"fixed: unknown surface parameter {unknown[0]!r}; allowed: {', '.join(SURFACE_PARAMETER_NAMES)}")
    if "p" not in free:
        fixed.setdefault("p", float(p))
        if not (0 < float(fixed["p"]) <= 10):
            raise ValueError(f"--p={fixed['p']!r}: allowed range is (0, 10]")
    missing = [k for k in SURFACE_PARAMETER_NAMES if k not in free and k not in fixed]
    if missing:
        raise ValueError(f"fixed: no value for the fixed surface parameter {missing[0]!r}")
    if isinstance(sigma_model, str):
        if sigma_model.strip().lower() != "free":
            try:
                sigma_model = float(sigma_model)
            except ValueError:
                raise ValueError(f"--sigma-model={sigma_model!r}: allowed: 'free' or a width in MeV > 0") from None
        else:
            sigma_model = "free"
    if sigma_model != "free" and not (isinstance(sigma_model, (int, float)) and math.isfinite(sigma_model) and sigma_model > 0):
        raise ValueError(f"--sigma-model={sigma_model!r}: allowed: 'free' or a width in MeV > 0")
    sampled = list(free) + ([SIGMA_NAME] if sigma_model == "free" else [])
    pri = {}
    for k in sampled:
        pr = (priors or {}).get(k)
        if pr is None:
            pr = Prior1D(*DEFAULT_PRIORS[k])
        elif not isinstance(pr, Prior1D):
            pr = Prior1D(*pr)
        pri[k] = pr.as_list()
    extra = [k for k in (priors or {}) if k not in sampled]
    if extra:
        raise ValueError(f"--prior: {extra[0]!r} is not a sampled parameter; sampled are {', '.join(sampled)}")
    if isinstance(nwalkers, bool) or not isinstance(nwalkers, (int, np.integer)):
        raise ValueError(f"--walkers={nwalkers!r}: must be an integer")
    ndim = len(sampled)
    if nwalkers < 2 * ndim or nwalkers % 2:
        raise ValueError(f"--walkers={nwalkers}: too few for {ndim} sampled parameters; allowed: an even "
                         f"number >= {2 * ndim} (emcee stretch move needs at least twice the dimension)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not (0 <= seed < 2**32):
        raise ValueError(f"--seed={seed!r}: allowed: an integer in [0, 2^32)")
    if moves not in ("de-snooker", "stretch"):
        raise ValueError(f"--moves={moves!r}: allowed are de-snooker, stretch")
    return PosteriorConfig(moves=moves, params=params.name, params_values=[float(x) for x in params.to_array()],
                           target=targets.metadata(), free=free, fixed={k: float(v) for k, v in fixed.items()},
                           priors=pri, sigma_model=sigma_model, nwalkers=int(nwalkers), seed=int(seed))


class SurfaceLogProb:
    """ln posterior (up to a constant) of the sampled coordinates, vectorised over walkers:
    ``logp(theta)`` with theta of shape (W, ndim) returns (W,)."""

    def __init__(self, config: PosteriorConfig, model: SurfaceModel | None = None):
        self.config = config
        if model is None:
            model = SurfaceModel(config.bulk_parameters(), config.target_set(), p_ref=float(config.fixed.get("p", 3.0)))
        self.model = model
        self.n = model.n
        self.names = config.sampled_names
        self.priors = [Prior1D(*config.priors[k]) for k in self.names]
        flat = np.array([pr.kind == "flat" for pr in self.priors])
        a = np.array([pr.a for pr in self.priors])
        b = np.array([pr.b for pr in self.priors])
        self._lo = np.where(flat, a, -np.inf)
        self._hi = np.where(flat, b, np.inf)
        self._mu = np.where(flat, 0.0, a)
        self._inv_sd = np.where(flat, 0.0, 1.0 / np.where(flat, 1.0, b))
        self._lp_const = float(sum(-math.log(pr.b - pr.a) if pr.kind == "flat"
                                   else -math.log(pr.b * math.sqrt(2 * math.pi)) for pr in self.priors))
        self.theta_fixed = np.array([config.fixed.get(k, np.nan) for k in SURFACE_PARAMETER_NAMES])
        self.free_idx = [SURFACE_PARAMETER_NAMES.index(k) for k in config.free]
        self.sigma_free = config.sigma_model == "free"
        self._half_n_ln2pi = 0.5 * self.n * math.log(2.0 * math.pi)

    def full_theta(self, x: np.ndarray) -> np.ndarray:
        """(W, 5) surface vectors from sampled coordinates (W, ndim)."""
        x = np.atleast_2d(x)
        th = np.repeat(self.theta_fixed[None, :], x.shape[0], axis=0)
        th[:, self.free_idx] = x[:, : len(self.free_idx)]
        return th

    def __call__(self, x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        # sum of Prior1D.logpdf over the coordinates, vectorised
        z = (x - self._mu) * self._inv_sd
        inside = np.all((x >= self._lo) & (x <= self._hi), axis=1)
        lp = np.where(inside, self._lp_const - 0.5 * np.einsum("ij,ij->i", z, z), -np.inf)
        c2 = self.model.chi2(self.full_theta(x))
        if self.sigma_free:
            ln_s = x[:, -1]
        else:
            ln_s = np.full(x.shape[0], math.log(float(self.config.sigma_model)))
        with np.errstate(invalid="ignore", over="ignore"):
            ll = -0.5 * c2 * np.exp(-2.0 * ln_s) - self.n * ln_s - self._half_n_ln2pi
            out = lp + ll
        return np.where(np.isfinite(out), out, -np.inf)


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def initial_walkers(config: PosteriorConfig, logp: SurfaceLogProb) -> np.ndarray:
    """Initial ensemble: a Gaussian ball around the least-squares best fit (scaled by its
    covariance), drawn with ``numpy.random.default_rng(config.seed)``; points outside the prior
    support are redrawn."""
    fit = fit_surface(config.bulk_parameters(), logp.model.targets, free=tuple(config.free),
                      fixed={k: v for k, v in config.fixed.items()}, model=logp.model)
    rng = np.random.default_rng(config.seed)
    centre = [fit.values()[k] for k in config.free]
    cov = np.asarray(fit.covariance, dtype=float)
    if not np.all(np.isfinite(cov)):
        cov = np.diag((1e-3 * np.maximum(np.abs(centre), 1e-3)) ** 2)
    if logp.sigma_free:
        centre = centre + [math.log(max(fit.rms_MeV, 1e-3))]
        cov = np.pad(cov, ((0, 1), (0, 1)))
        cov[-1, -1] = 0.05**2
    centre = np.asarray(centre)
    W = config.nwalkers
    out = np.empty((W, len(centre)))
    todo = np.arange(W)
    for _ in range(100):
        out[todo] = rng.multivariate_normal(centre, cov, size=len(todo), method="cholesky")
        todo = todo[~np.isfinite(logp(out[todo]))]
        if todo.size == 0:
            return out
    raise ValueError("initial walkers: could not draw walkers inside the prior support around the "
                     "least-squares fit; widen the priors")


def check_initial(p0, config: PosteriorConfig, logp: SurfaceLogProb) -> np.ndarray:
    p0 = np.asarray(p0, dtype=float)
    if p0.shape != (config.nwalkers, config.ndim):
        raise ValueError(f"initial walkers: shape {p0.shape}, allowed ({config.nwalkers}, {config.ndim}) "
                         f"= (walkers, [{', '.join(config.sampled_names)}])")
    bad = ~np.all(np.isfinite(p0), axis=1)
    if np.any(bad):
        raise ValueError(f"initial walkers: walker {int(np.flatnonzero(bad)[0])} has non-finite coordinates; "
                         "allowed: finite values inside the prior support")
    lp = logp(p0)
    if not np.all(np.isfinite(lp)):
        raise ValueError(f"initial walkers: walker {int(np.flatnonzero(~np.isfinite(lp))[0])} is outside the prior "
                         "support (log-probability -inf)")
    return p0


def open_chain(path, *, read_only: bool = True):
    """Open a stored chain: (ZarrBackend, PosteriorConfig)."""
    from crustuq.sweep.posterior.zarr_backend import ZarrBackend, is_chain_store

    if not is_chain_store(path):
        raise ValueError(f"chain store {str(path)!r}: not found or not a crustuq chain store")
    be = ZarrBackend(path, read_only=read_only)
    cfg = be.config or {}
    if cfg.get("kind") != "surface-posterior":
        raise ValueError(f"chain store {str(path)!r}: not a surface-posterior chain")
    return be, PosteriorConfig.from_dict(cfg["posterior"])


def _store_config(config: PosteriorConfig) -> dict:
    return {"kind": "surface-posterior", "posterior": config.to_dict()}


def run_surface_posterior(config: PosteriorConfig, path, nsteps: int, *, resume: bool = False,
                          initial=None, flush_every: int = 100, progress: bool = False):
    """Sample the posterior into the Zarr store ``path`` until the chain has ``nsteps`` steps.

    * fresh run (``resume=False``): ``path`` is (re)created; the initial ensemble is ``initial``
      (shape (nwalkers, ndim), validated) or :func:`initial_walkers`; the sampler RNG is
      ``numpy.random.RandomState(config.seed)``.
    * ``resume=True``: ``path`` must hold a chain with the same configuration (else
      ValueError); sampling continues from the last committed step with the stored RNG state,
      giving the same chain as an uninterrupted run.

    Everything is validated before anything is written. Returns the backend; the summary
    (acceptance, tau, ESS) is written into the store.
    """
    import emcee

    from crustuq.sweep.posterior.zarr_backend import ZarrBackend

    if isinstance(nsteps, bool) or not isinstance(nsteps, (int, np.integer)) or nsteps < 1:
        raise ValueError(f"--steps={nsteps!r}: allowed: an integer >= 1")
    logp = SurfaceLogProb(config)
    if resume:
        _, stored = open_chain(path, read_only=True)        # compare before writing anything
        diff = stored.difference(config)
        if diff is not None:
            raise ValueError(f"--resume={str(path)!r}: holds a chain with a different configuration ({diff}); "
                             "pass --overwrite to start a new chain there")
        be, _ = open_chain(path, read_only=False)
        be.flush_every = int(flush_every)
        be.write_attrs({"requested_steps": int(nsteps)})
        if be.iteration < nsteps:
            sampler = emcee.EnsembleSampler(config.nwalkers, config.ndim, logp, vectorize=True, backend=be,
                                        moves=config.emcee_moves())
            if be.iteration == 0:
                p0 = initial_walkers(config, logp)
                state = emcee.State(p0, random_state=np.random.RandomState(config.seed).get_state())
                sampler.run_mcmc(state, nsteps, progress=progress)
            else:
                sampler.run_mcmc(None, nsteps - be.iteration, progress=progress)
            be.flush()
    else:
        p0 = check_initial(initial, config, logp) if initial is not None else initial_walkers(config, logp)
        be = ZarrBackend(Path(path), config=_store_config(config), parameter_names=config.sampled_names,
                         flush_every=flush_every)
        if be.initialized:
            be.initialized = False  # a fresh run replaces whatever was there (caller checked --overwrite)
        sampler = emcee.EnsembleSampler(config.nwalkers, config.ndim, logp, vectorize=True, backend=be,
                                        moves=config.emcee_moves())
        be.write_attrs({"requested_steps": int(nsteps)})
        be.write_array("target_Z", logp.model.targets.Z, ("nucleus",))
        be.write_array("target_N", logp.model.targets.N, ("nucleus",))
        be.write_array("target_energy_per_nucleon_MeV", logp.model.targets.energy_per_nucleon_MeV, ("nucleus",))
        state = emcee.State(p0, random_state=np.random.RandomState(config.seed).get_state())
        sampler.run_mcmc(state, nsteps, progress=progress)
        be.flush()
    write_summary(be)
    return be


# ---------------------------------------------------------------------------------------
# convergence, summary, draws
# ---------------------------------------------------------------------------------------
def _autocorr_time(chain: np.ndarray) -> np.ndarray:
    from emcee.autocorr import integrated_time

    logger = logging.getLogger("emcee.autocorr")
    old = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return np.asarray(integrated_time(chain, quiet=True), dtype=float)
    finally:
        logger.setLevel(old)


def chain_summary(be, *, burn: int | None = None) -> dict:
    """Acceptance fraction, integrated autocorrelation times tau (steps), effective sample
    sizes, convergence flag (nsteps >= 50 tau_max), the burn-in/thinning used, and posterior
    quantiles (16/50/84 %) of every sampled coordinate after burn-in."""
    n = int(be.iteration)
    if n < 2:
        raise ValueError("chain: fewer than 2 steps stored")
    chain = be.get_chain()
    tau = _autocorr_time(chain)
    tau_max = float(np.nanmax(tau)) if np.all(np.isfinite(tau)) else float("inf")
    converged = bool(n >= CONVERGENCE_FACTOR * tau_max)
    if burn is None:
        burn = int(min(math.ceil(3 * tau_max), n // 2)) if math.isfinite(tau_max) else n // 2
    if not (0 <= burn < n):
        raise ValueError(f"--burn={burn}: allowed 0 <= burn < {n} (steps in the chain)")
    thin = max(1, int(np.nanmin(tau) / 2)) if np.all(np.isfinite(tau)) else 1
    post = chain[burn:].reshape(-1, chain.shape[-1])
    names = be.parameter_names or [f"x{i}" for i in range(chain.shape[-1])]
    q = np.percentile(post, [16, 50, 84], axis=0)
    ess = be.nwalkers * (n - burn) / tau
    return {"steps": n, "nwalkers": int(be.nwalkers), "parameter_names": list(names),
            "acceptance_fraction": (be.accepted / n).tolist(),
            "mean_acceptance_fraction": float(np.mean(be.accepted / n)),
            "autocorr_time": tau.tolist(), "effective_sample_size": ess.tolist(),
            "converged": converged, "convergence_rule": f"steps >= {CONVERGENCE_FACTOR:g} x max(tau)",
            "steps_needed": (int(math.ceil(CONVERGENCE_FACTOR * tau_max)) if math.isfinite(tau_max) else None),
            "burn": int(burn), "thin": int(thin),
            "q16": dict(zip(names, q[0].tolist())), "median": dict(zip(names, q[1].tolist())),
            "q84": dict(zip(names, q[2].tolist()))}


def write_summary(be) -> dict:
    """Store the summary with the chain (attributes + arrays with dimension names)."""
    s = chain_summary(be)
    be.write_attrs({"summary": s})
    be.write_array("acceptance_fraction", np.asarray(s["acceptance_fraction"]), ("walker",))
    be.write_array("autocorr_time", np.asarray(s["autocorr_time"]), ("parameter",))
    be.write_array("effective_sample_size", np.asarray(s["effective_sample_size"]), ("parameter",))
    return s


def _require_converged(s: dict, path, force: bool) -> None:
    if s["converged"]:
        return
    msg = (f"posterior in {str(path)!r} is not converged: {s['steps']} steps < {CONVERGENCE_FACTOR:g} x max "
           f"autocorrelation time ({max(s['autocorr_time']):.1f} steps; need about {s['steps_needed']} steps)")
    if not force:
        raise ConvergenceError(msg + "; continue the chain (--resume) or force the report (--force)")
    warnings.warn(msg + " -- reported anyway because forced", RuntimeWarning, stacklevel=3)


def report_posterior(path, *, burn: int | None = None, force: bool = False) -> dict:
    """Posterior medians and 16/84 % quantiles of the surface parameters (all five; fixed ones
    repeated), rms residual at the median (MeV per nucleon), n_nuclei and the convergence
    diagnostics. Raises :class:`ConvergenceError` for a chain shorter than 50 tau unless
    ``force``."""
    be, cfg = open_chain(path)
    s = chain_summary(be, burn=burn)
    _require_converged(s, path, force)
    logp = SurfaceLogProb(cfg)
    med = np.array([[s["median"][k] for k in cfg.sampled_names]])
    theta = logp.full_theta(med)[0]
    r = logp.model.residuals(theta)
    out = {}
    for j, k in enumerate(SURFACE_PARAMETER_NAMES):
        out[k] = float(theta[j])
    out["rms_MeV"] = float(np.sqrt(np.mean(r * r)))
    out["n_nuclei"] = int(logp.n)
    out["q16"] = {k: (s["q16"][k] if k in s["q16"] else out[k]) for k in SURFACE_PARAMETER_NAMES}
    out["q84"] = {k: (s["q84"][k] if k in s["q84"] else out[k]) for k in SURFACE_PARAMETER_NAMES}
    if cfg.sigma_model == "free":
        out["sigma_model_MeV"] = {q: float(math.exp(s[q][SIGMA_NAME])) for q in ("q16", "median", "q84")}
    else:
        out["sigma_model_MeV"] = float(cfg.sigma_model)
    out.update(method="emcee", converged=s["converged"], steps=s["steps"], nwalkers=s["nwalkers"],
               burn=s["burn"], thin=s["thin"], autocorr_time=dict(zip(s["parameter_names"], s["autocorr_time"])),
               effective_sample_size=dict(zip(s["parameter_names"], s["effective_sample_size"])),
               mean_acceptance_fraction=s["mean_acceptance_fraction"], target=cfg.target["name"], params=cfg.params)
    return out


def posterior_samples(path, *, burn: int | None = None, thin: int | None = None, force: bool = False):
    """Flattened chain after burn-in and thinning, as full surface vectors: (theta (m, 5),
    sigma_model (m,) in MeV, config)."""
    be, cfg = open_chain(path)
    s = chain_summary(be, burn=burn)
    _require_converged(s, path, force)
    thin = s["thin"] if thin is None else thin
    if isinstance(thin, bool) or not isinstance(thin, (int, np.integer)) or thin < 1:
        raise ValueError(f"--thin={thin!r}: allowed: an integer >= 1")
    flat = be.get_chain(discard=s["burn"], thin=int(thin), flat=True)
    if flat.shape[0] == 0:
        raise ValueError(f"--burn={s['burn']}, --thin={thin}: no sample left in a chain of {s['steps']} steps")
    logp = SurfaceLogProb(cfg)
    theta = logp.full_theta(flat)
    sig = np.exp(flat[:, -1]) if cfg.sigma_model == "free" else np.full(len(flat), float(cfg.sigma_model))
    return theta, sig, cfg


def posterior_draws(store_path, n: int, seed: int, *, burn: int | None = None, thin: int | None = None,
                    force: bool = False) -> SurfaceParameters:
    """``n`` surface-parameter samples (a :class:`SurfaceParameters` batch of shape (n,)) drawn
    from the stored chain after burn-in (default 3 tau_max) and thinning (default tau_min/2),
    without replacement when the chain has enough samples (with replacement otherwise).
    Refuses an unconverged chain unless ``force``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r}: allowed: an integer >= 1")
    theta, _, _ = posterior_samples(store_path, burn=burn, thin=thin, force=force)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(theta), size=n, replace=n > len(theta))
    return SurfaceParameters.from_array(theta[idx], name=f"posterior:{Path(store_path).name}")


#: status codes of :func:`joint_sweep_samples` (0-3 are those of fit_surface_batch)
JOINT_STATUS = {
    0: "ok",
    1: "per-sample fit: b_s at the edge of its search range",
    2: "per-sample fit: invalid bulk sample",
    3: "per-sample fit: degenerate or unphysical linear solution",
    4: "recentred posterior draw outside the allowed domain (sigma0 <= 0 or b_s <= -2^(p+1))",
}


@dataclass
class JointSamples:
    """Bulk samples paired with surface-parameter samples for a crust sweep.

    ``surface`` is (n, 5) in SURFACE_PARAMETER_NAMES order; rows with ``status != 0`` are not
    usable (reason in :data:`JOINT_STATUS`) and hold NaN where no value exists."""

    bulk: EmpiricalParameters
    surface: np.ndarray
    status: np.ndarray
    mode: str
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        return self.status == 0

    def surface_parameters(self) -> SurfaceParameters:
        return SurfaceParameters.from_array(self.surface[self.ok], name=f"joint-{self.mode}")

    def usable(self) -> tuple[EmpiricalParameters, SurfaceParameters]:
        """(bulk, surface) restricted to the usable rows."""
        return self.bulk[self.ok], self.surface_parameters()


def joint_sweep_samples(store_path, bulk, seed: int, *, mode: str = "recentre", burn: int | None = None,
                        thin: int | None = None, force: bool = False) -> JointSamples:
    """Pair bulk samples with surface-parameter draws from a stored posterior (sweep input).

    ``bulk``: EmpiricalParameters batch (n,) or an (n, 13) array.

    * ``mode="pair"``: row k gets posterior draw k (the chain's bulk set is taken as
      representative of all rows -- exact when the rows are that bulk set).
    * ``mode="recentre"`` (default): each bulk sample gets its own least-squares surface fit
      (:func:`~crustuq.models.cldm.surface_fit.fit_surface_batch`, same target set and p as
      the chain) plus the deviation (draw - posterior median) of a posterior draw: the
      posterior *shape* of the stored chain is carried to every bulk sample, centred on that
      sample's own best fit (each bulk set needs its own surface fit). Requires p fixed.
    """
    if mode not in ("pair", "recentre"):
        raise ValueError(f"mode={mode!r}: allowed are pair, recentre")
    if not isinstance(bulk, EmpiricalParameters):
        bulk = EmpiricalParameters.from_array(np.asarray(bulk, dtype=float))
    if len(bulk.batch_shape) != 1:
        raise ValueError(f"bulk: batch shape must be (n,), got {bulk.batch_shape}")
    n = bulk.batch_shape[0]
    theta, _, cfg = posterior_samples(store_path, burn=burn, thin=thin, force=force)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(theta), size=n, replace=n > len(theta))
    draws = theta[idx]
    if mode == "pair":
        return JointSamples(bulk=bulk, surface=draws, status=np.zeros(n, dtype=np.int64), mode=mode,
                            info={"store": str(store_path)})
    if "p" in cfg.free:
        raise ValueError("mode='recentre': needs a chain with p fixed (the per-sample fits fix p)")
    median = np.median(theta, axis=0)
    fits = fit_surface_batch(bulk, cfg.target_set(), p=float(cfg.fixed["p"]))
    surf = fits.to_array() + (draws - median)
    status = fits.status.copy()
    s0, b, p = surf[:, 0], surf[:, 2], surf[:, 4]
    with np.errstate(invalid="ignore"):
        bad = (status == 0) & ~((s0 > 0) & (b > -(2.0 ** (p + 1))))
    status[bad] = 4
    return JointSamples(bulk=bulk, surface=surf, status=status, mode=mode,
                        info={"store": str(store_path), "fit_rms_MeV": fits.rms_MeV})
