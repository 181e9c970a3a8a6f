"""Sweep configuration: one TOML file, validated with pydantic.

Every error is one line naming the key, the value and what is allowed, e.g.::

    config key grid.T: value [] -- need at least one temperature

The *science* of a sweep (parameters, surface, grid, model, filters, n_samples, seed) defines
its identity (:meth:`SweepConfig.science_hash`): a store can only be continued with the same
science. Execution settings (block size, cluster, output path, name) may change between runs
without changing a single bit of the results.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCIENCE_SECTIONS = ("parameters", "surface", "grid", "model", "filters")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SweepSection(_Strict):
    name: str = "crustuq-sweep"
    n_samples: int = Field(gt=0, le=100_000_000)
    seed: int = Field(default=0, ge=0)
    block_size: int = Field(default=50, gt=0, le=100_000)


class ParametersSection(_Strict):
    source: Literal["named", "prior", "chain", "store"] = "prior"
    set: str = "BSk24"
    overrides: dict[str, float] = Field(default_factory=dict)
    prior: Optional[str] = "margueron2018-gaussian"
    uniform: dict[str, tuple[float, float]] = Field(default_factory=dict)
    gaussian: dict[str, tuple[float, float]] = Field(default_factory=dict)
    fixed: dict[str, float] = Field(default_factory=dict)
    correlation: Optional[list[list[float]]] = None
    sampling: Literal["random", "sobol", "lhs"] = "random"
    chain: Optional[str] = None
    store: Optional[str] = None
    only_passed: bool = True
    burn: Optional[int] = Field(default=None, ge=0)
    thin: Optional[int] = Field(default=None, ge=1)

    @field_validator("set")
    @classmethod
    def _known_set(cls, v):
        from crustuq.models.matter.parameters import EmpiricalParameters

        EmpiricalParameters.named(v)
        return v

    @field_validator("overrides", "fixed")
    @classmethod
    def _known_names(cls, v):
        from crustuq.models.matter.parameters import PARAMETER_NAMES

        for k in v:
            if k not in PARAMETER_NAMES:
                raise ValueError(f"unknown parameter {k!r}; allowed are {', '.join(PARAMETER_NAMES)}")
        return v

    @field_validator("uniform", "gaussian")
    @classmethod
    def _known_dist_names(cls, v):
        return cls._known_names(v)

    @model_validator(mode="after")
    def _consistent(self):
        if self.source == "prior":
            self.prior_object()  # validates names, widths, correlation
        if self.source == "chain" and not self.chain:
            raise ValueError("parameters.chain: a chain store path is required when source = 'chain'")
        if self.source == "store" and not self.store:
            raise ValueError("parameters.store: a sweep store path is required when source = 'store'")
        return self

    def custom_prior(self) -> bool:
        return bool(self.uniform or self.gaussian or self.fixed or self.correlation)

    def prior_object(self):
        """The prior: a named one, or the custom uniform/gaussian/fixed distributions with every
        other parameter fixed to the named ``set``."""
        from crustuq.models.matter.parameters import PARAMETER_NAMES, EmpiricalParameters
        from crustuq.models.matter.priors import Prior, named_prior

        if not self.custom_prior():
            if not self.prior:
                raise ValueError("parameters.prior: give a named prior or custom distributions")
            return named_prior(self.prior)
        base = EmpiricalParameters.named(self.set).with_overrides(**self.overrides) if self.overrides \
            else EmpiricalParameters.named(self.set)
        fixed = dict(self.fixed)
        for k in PARAMETER_NAMES:
            if k not in self.uniform and k not in self.gaussian and k not in fixed:
                fixed[k] = float(getattr(base, k))
        corr = None if self.correlation is None else np.asarray(self.correlation, dtype=float)
        return Prior(uniform=dict(self.uniform), gaussian=dict(self.gaussian), fixed=fixed,
                     correlation=corr, name="custom")


class SurfaceSection(_Strict):
    treatment: Literal["fixed", "refit", "posterior"] = "fixed"
    set: str = "BSk24-AME2020"
    values: Optional[dict[str, float]] = None
    target: str = "AME2020"
    p: float = Field(default=3.0, gt=0, le=10)
    chain: Optional[str] = None
    mode: Literal["pair", "recentre"] = "recentre"
    burn: Optional[int] = Field(default=None, ge=0)
    thin: Optional[int] = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self):
        if self.treatment == "fixed":
            self.fixed_surface()
        if self.treatment == "refit":
            from crustuq.models.cldm.fit_targets import target_set

            target_set(self.target)  # raises with the known names
        if self.treatment == "posterior" and not self.chain:
            raise ValueError("surface.chain: a stored surface-posterior chain is required when treatment = 'posterior'")
        return self

    def fixed_surface(self):
        from crustuq.models.cldm.surface import SurfaceParameters

        if self.values is not None:
            return SurfaceParameters.from_mapping(self.values, name="config")
        return SurfaceParameters.named(self.set)


class DensityRange(_Strict):
    start: float = Field(gt=0)
    stop: float = Field(gt=0)
    num: int = Field(gt=0, le=100_000)
    spacing: Literal["log", "linear"] = "log"

    @model_validator(mode="after")
    def _order(self):
        if self.num > 1 and self.stop <= self.start:
            raise ValueError(f"stop={self.stop:g} must be > start={self.start:g} (range reversed)")
        return self


class GridSection(_Strict):
    T: list[float]
    n_B: Union[DensityRange, list[float]]

    @field_validator("T")
    @classmethod
    def _temps(cls, v):
        from crustuq.models.crust.profile import T_MAX

        if not v:
            raise ValueError("need at least one temperature")
        for t in v:
            if not (0 <= t <= T_MAX):
                raise ValueError(f"T={t:g} MeV outside [0, {T_MAX:g}] MeV")
        if len(set(v)) != len(v):
            raise ValueError("temperatures must be distinct")
        return v

    @model_validator(mode="after")
    def _grid(self):
        from crustuq.models.crust.profile import validate_crust_grid

        validate_crust_grid(self.densities(), self.T)
        return self

    def densities(self) -> np.ndarray:
        if isinstance(self.n_B, DensityRange):
            r = self.n_B
            if r.spacing == "log":
                return np.geomspace(r.start, r.stop, r.num)
            return np.linspace(r.start, r.stop, r.num)
        return np.asarray(self.n_B, dtype=float)


class ModelSection(_Strict):
    mass_table: str = "AME2020+HFB-24"
    integer_Z: bool = False
    surface_temperature_factor: bool = False
    ion_translation: bool = False
    order: Literal[2, 3, 4] = 4

    @field_validator("mass_table")
    @classmethod
    def _table(cls, v):
        from crustuq.models.crust.cldm_outer import is_cldm_spec
        from crustuq.models.crust.outer import resolve_mass_table

        if not is_cldm_spec(v):
            resolve_mass_table(v)
        return v

    def crust_options(self):
        from crustuq.models.crust.cldm_cell import CellOptions
        from crustuq.models.crust.profile import CrustOptions

        return CrustOptions(mass_table=self.mass_table, integer_Z=self.integer_Z, order=self.order,
                            cell=CellOptions(surface_temperature_factor=self.surface_temperature_factor,
                                             ion_translation=self.ion_translation))


class FiltersSection(_Strict):
    low_density: bool = False
    physical: bool = True
    compute_filtered: bool = False


class ClusterSection(_Strict):
    kind: Literal["local", "slurm", "pbs", "sge"] = "local"
    workers: int = Field(default=0, ge=0)
    wait_timeout: float = Field(default=120.0, gt=0)
    scheduler: Optional[str] = None
    jobqueue: dict[str, Any] = Field(default_factory=dict)


class OutputSection(_Strict):
    store: str = "sweep.zarr"


class SweepConfig(_Strict):
    sweep: SweepSection
    parameters: ParametersSection = Field(default_factory=ParametersSection)
    surface: SurfaceSection = Field(default_factory=SurfaceSection)
    grid: GridSection
    model: ModelSection = Field(default_factory=ModelSection)
    filters: FiltersSection = Field(default_factory=FiltersSection)
    cluster: ClusterSection = Field(default_factory=ClusterSection)
    output: OutputSection = Field(default_factory=OutputSection)

    def science(self) -> dict:
        """The part of the configuration that defines the results."""
        d = {k: getattr(self, k).model_dump(mode="json") for k in SCIENCE_SECTIONS}
        d["n_samples"] = self.sweep.n_samples
        d["seed"] = self.sweep.seed
        return d

    def science_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.science(), sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def _one_line(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    value = err.get("input")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (not a configuration option)"
    elif err["type"] == "missing":
        return f"{source}: config key {loc}: missing (required)"
    value_txt = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
    if len(value_txt) > 80:
        value_txt = value_txt[:77] + "..."
    return f"{source}: config key {loc or '(top level)'}: value {value_txt} -- {msg}"


def parse_config(data: dict, *, source: str = "config") -> SweepConfig:
    """Validate a configuration mapping; one-line ValueError on the first problem."""
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(_one_line(exc, source)) from None


def load_config(path) -> SweepConfig:
    """Read and validate a TOML configuration file (one-line errors, nothing written)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config {str(path)!r}: file not found")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config {str(path)!r}: TOML syntax error: {exc}") from None
    cfg = parse_config(data, source=f"config {path.name}")
    # relative paths in the file are relative to the file
    base = path.parent
    _resolve_paths(cfg, base)
    check_inputs_exist(cfg, source=f"config {path.name}")
    return cfg


def _resolve_paths(cfg: SweepConfig, base: Path) -> None:
    for section, key in (("parameters", "chain"), ("parameters", "store"), ("surface", "chain")):
        sec = getattr(cfg, section)
        v = getattr(sec, key)
        if v and not Path(v).is_absolute():
            setattr(sec, key, str((base / v).resolve()))


def check_inputs_exist(cfg: SweepConfig, *, source: str = "config") -> None:
    """Input files the configuration refers to must exist (and be of the right kind)."""
    def chain_file(key: str, path) -> None:
        from crustuq.sweep.posterior.zarr_backend import is_chain_store

        if not Path(path).exists():
            raise ValueError(f"{source}: config key {key}: value {path!r} -- file not found")
        if not is_chain_store(path):
            raise ValueError(f"{source}: config key {key}: value {path!r} -- not a crustuq chain store")

    p = cfg.parameters
    if p.source == "chain":
        chain_file("parameters.chain", p.chain)
    if p.source == "store":
        if not (Path(p.store) / "zarr.json").exists():
            raise ValueError(f"{source}: config key parameters.store: value {p.store!r} -- not a sweep store")
    if cfg.surface.treatment == "posterior":
        chain_file("surface.chain", cfg.surface.chain)


def first_difference(a: dict, b: dict, prefix: str = "") -> str | None:
    """Dotted key of the first difference between two nested mappings (for clear messages)."""
    for k in sorted(set(a) | set(b)):
        key = f"{prefix}{k}"
        if k not in a or k not in b:
            return key
        va, vb = a[k], b[k]
        if isinstance(va, dict) and isinstance(vb, dict):
            sub = first_difference(va, vb, key + ".")
            if sub:
                return sub
        elif va != vb:
            return f"{key} ({json.dumps(vb, default=str)} in the store, {json.dumps(va, default=str)} now)"
    return None


EXAMPLE_CONFIG = '''# crustuq sweep configuration (TOML). Run:  crustuq sweep run THIS.toml
# Units: densities fm^-3, temperatures MeV, energies MeV.

[sweep]
name = "example"
n_samples = 40          # number of parameter samples
seed = 1                # the same seed gives bit-identical results
block_size = 10         # samples per Dask task (aim for tasks of >= 0.5 s)

[parameters]
source = "prior"        # "named" (every sample = one set), "prior", "chain" (emcee chain), "store" (earlier sweep)
set = "BSk24"           # named set: used by source = "named", and fixes the parameters a custom prior leaves out
# overrides = { L_sym = 60.0 }
prior = "margueron2018-gaussian"   # or "carreau2019-uniform"; or custom distributions below
# uniform = { L_sym = [30.0, 90.0], K_sym = [-300.0, 100.0] }
# gaussian = { E_sym = [32.0, 2.0] }
# fixed = { b = 6.931471805599453 }
# correlation = [[1.0, 0.7], [0.7, 1.0]]   # over the gaussian parameters, in their order
sampling = "sobol"      # "random" (SeedSequence), "sobol" or "lhs" (scipy.stats.qmc)
# chain = "bulk_chain.zarr"   # source = "chain": a crustuq emcee chain store; burn/thin optional
# store = "earlier.zarr"      # source = "store": reuse the samples of an earlier sweep
# only_passed = true          #   ... only those that passed its filters

[surface]
treatment = "refit"     # "fixed" (one set for all), "refit" (per-sample least squares), "posterior" (chain draws)
set = "BSk24-AME2020"   # fixed: BSk24-ETF-medium, BSk24-ETF-table, BSk24-AME2020
# values = { sigma0 = 1.04971, sigma0c = 0.12094, b_s = 30.45764, beta = 0.66720, p = 3.0 }
target = "AME2020"      # refit: target set of the fit (AME2020, ETF-BSk24, HFB-24, ...)
p = 3.0
# chain = "FIT.zarr"    # posterior: a chain from `crustuq fit-surface --method emcee`
# mode = "recentre"     # posterior: "recentre" (own fit + posterior spread) or "pair"

[grid]
T = [0.0, 1.0]
n_B = { start = 1e-4, stop = 0.08, num = 40, spacing = "log" }   # or a list of densities

[model]
mass_table = "AME2020+HFB-24"   # outer crust
integer_Z = false
surface_temperature_factor = false   # h(T) of Lattimer & Swesty (off as in Grams et al. 2025)
ion_translation = false              # cluster translational free energy (Dinh Thi et al. 2023)

[filters]
low_density = false     # chiral-EFT low-density filter (Carreau et al. 2019)
physical = true         # valid bulk parameters, positive symmetry energy, converged surface fit
compute_filtered = false   # also compute crusts of samples that fail a filter

[cluster]
kind = "local"          # "local" (one worker per core), "slurm", "pbs", "sge" (dask-jobqueue)
workers = 0             # 0: one per core (local); number of workers to wait for (jobqueue)
wait_timeout = 120      # seconds to wait for workers before giving up with a clear message
# scheduler = "tcp://host:8786"   # connect to a running Dask scheduler instead
# [cluster.jobqueue]    # passed to dask-jobqueue, see deploy/jobqueue.yaml
# cores = 1
# memory = "4GB"
# walltime = "02:00:00"

[output]
store = "example.zarr"
'''
