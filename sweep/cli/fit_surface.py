"""``crustuq fit-surface``: fit the CLDM surface parameters (least squares or emcee posterior).

Registered on the main app by ``register(app)`` (``crustuq.sweep.cli.app.COMMAND_MODULES``).
Prints one JSON object on stdout with keys ``sigma0, sigma0c, b_s, beta, p, rms_MeV,
n_nuclei`` (least squares: the best fit; emcee: posterior medians, with ``q16``/``q84``
holding the 16/84 % quantiles) plus diagnostics. Bad input: one-line error, exit status 2,
nothing written. An unconverged posterior (chain < 50 autocorrelation times) is refused
unless ``--force`` (the chain stays in the store; continue it with ``--resume``).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

DEFAULTS = dict(walkers=32, steps=5000, seed=1, p=3.0, sigma_model="free")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _check_plot_path(plot: str, overwrite: bool) -> Path:
    from crustuq.sweep.table_io import check_output_path

    return check_output_path(plot, overwrite=overwrite, option="--plot", formats=PLOT_SUFFIXES)


def _corner_plot(path: Path, samples, labels, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import corner
    import matplotlib.pyplot as plt

    fig = corner.corner(samples, labels=labels, quantiles=[0.16, 0.5, 0.84], show_titles=True,
                        title_fmt=".4g")
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_lsq_store(out: str, result, targets, overwrite: bool, config: dict) -> None:
    import json

    import numpy as np
    import xarray as xr

    from crustuq.sweep import table_io

    d = result.as_dict()
    d.pop("covariance")
    ds = xr.Dataset(
        {
            "best_fit": (("surface_parameter",), np.array([d[k] for k in ("sigma0", "sigma0c", "b_s", "beta", "p")])),
            "covariance": (("free_parameter", "free_parameter_2"), np.asarray(result.covariance)),
            "residual_MeV": (("nucleus",), np.asarray(result.residuals_MeV)),
            "target_Z": (("nucleus",), np.asarray(targets.Z)),
            "target_N": (("nucleus",), np.asarray(targets.N)),
            "target_energy_per_nucleon_MeV": (("nucleus",), np.asarray(targets.energy_per_nucleon_MeV)),
        },
        attrs={"format": "crustuq-surface-fit/1", "result": json.dumps(d), "config": json.dumps(config),
               "surface_parameter_names": ["sigma0", "sigma0c", "b_s", "beta", "p"],
               "free_parameter_names": list(result.free),
               "units": "sigma0 MeV fm^-2, sigma0c MeV fm^-1, residual E/A MeV per nucleon"},
    )
    table_io.write_zarr(out, ds, overwrite=overwrite)


def fit_surface_command(
    params: Optional[str] = typer.Option(None, "--params", help="bulk parameter set (default BSk24)"),
    target: Optional[str] = typer.Option(None, "--target", help="target set: AME2020, AME2020-atomic, ETF-BSk24, HFB-24, ... (default AME2020)"),
    method: Optional[str] = typer.Option(None, "--method", help="lsq (least squares, default) or emcee (posterior; implied by --resume)"),
    walkers: Optional[int] = typer.Option(None, "--walkers", help="emcee walkers (default 32)"),
    steps: Optional[int] = typer.Option(None, "--steps", help="emcee chain length in steps, total (default 5000)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="seed of the initial ensemble and sampler (default 1)"),
    p: Optional[float] = typer.Option(None, "--p", help="fixed value of p (default 3)"),
    free_p: bool = typer.Option(False, "--free-p", help="fit/sample p as well"),
    sigma_model: Optional[str] = typer.Option(None, "--sigma-model", help="emcee model-error width: 'free' (sampled, default) or a value in MeV per nucleon"),
    prior: Optional[List[str]] = typer.Option(None, "--prior", help="name=flat:lo:hi or name=gauss:mean:std (repeatable)"),
    z_min: Optional[int] = typer.Option(None, "--z-min", help="override the target set's Z cut"),
    n_min: Optional[int] = typer.Option(None, "--n-min", help="override the target set's N cut"),
    out: Optional[str] = typer.Option(None, "--out", help="output Zarr store FIT.zarr"),
    resume: Optional[str] = typer.Option(None, "--resume", help="continue the emcee chain stored in FIT.zarr"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output / a chain with another configuration"),
    force: bool = typer.Option(False, "--force", help="report a posterior even if the chain is shorter than 50 autocorrelation times"),
    burn: Optional[int] = typer.Option(None, "--burn", help="burn-in steps for the report (default 3 x max tau)"),
    plot: Optional[str] = typer.Option(None, "--plot", help="corner plot file (.png/.pdf/.svg)"),
    flush_every: int = typer.Option(100, "--flush-every", help="emcee steps between Zarr writes"),
    moves: Optional[str] = typer.Option(None, "--moves", help="emcee proposal: de-snooker (default) or stretch"),
) -> None:
    """Fit the CLDM surface parameters (sigma0, sigma0c, b_s, beta, p) to nuclear masses; print JSON."""
    import json

    import numpy as np

    from crustuq.models.cldm.fit_targets import target_set
    from crustuq.models.cldm.surface_fit import fit_surface
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.sweep import table_io

    method = (method if method is not None else ("emcee" if resume is not None else "lsq")).strip().lower()
    if method not in ("lsq", "emcee"):
        raise ValueError(f"--method={method!r}: allowed are lsq, emcee")
    if resume is not None and method != "emcee":
        raise ValueError(f"--resume={resume!r}: only with --method emcee")
    if not (isinstance(flush_every, int) and flush_every >= 1):
        raise ValueError(f"--flush-every={flush_every!r}: must be an integer >= 1")
    if free_p and p is not None:
        raise ValueError(f"--p={p}: cannot fix p together with --free-p")
    for label, v in (("--walkers", walkers), ("--steps", steps)):
        if v is not None and v < 1:
            raise ValueError(f"{label}={v}: must be >= 1")
    plot_path = _check_plot_path(plot, overwrite) if plot is not None else None

    # ---------------------------------------------------------------- least squares
    if method == "lsq":
        for label, v in (("--walkers", walkers), ("--steps", steps), ("--sigma-model", sigma_model),
                         ("--prior", prior or None), ("--moves", moves)):
            if v is not None:
                raise ValueError(f"{label}: only with --method emcee")
        bulk = EmpiricalParameters.named(params or "BSk24")
        targets = target_set(target or "AME2020", z_min=z_min, n_min=n_min)
        if out is not None:
            table_io.check_output_path(out, overwrite=overwrite)
        free = ("sigma0", "sigma0c", "b_s", "beta") + (("p",) if free_p else ())
        fixed = {} if free_p else {"p": float(p if p is not None else DEFAULTS["p"])}
        if "p" in fixed and not 0 < fixed["p"] <= 10:
            raise ValueError(f"--p={fixed['p']}: allowed range is (0, 10]")
        res = fit_surface(bulk, targets, free=free, fixed=fixed)
        d = res.as_dict()
        report = {k: d[k] for k in ("sigma0", "sigma0c", "b_s", "beta", "p", "rms_MeV", "n_nuclei")}
        report.update(method="lsq", stderr=d["stderr"], success=d["success"], target=targets.name,
                      params=bulk.name, selection=targets.description)
        if out is not None:
            _write_lsq_store(out, res, targets, overwrite,
                             {"params": bulk.name, "target": targets.metadata(), "free": list(free), "fixed": fixed})
        if plot_path is not None:
            rng = np.random.default_rng(seed if seed is not None else DEFAULTS["seed"])
            centre = np.array([d[k] for k in free])
            samples = rng.multivariate_normal(centre, np.asarray(res.covariance), size=20000)
            _corner_plot(plot_path, samples, list(free),
                         f"{bulk.name} / {targets.name}: least-squares Gaussian approximation")
        typer.echo(json.dumps(report, indent=2))
        return

    # ---------------------------------------------------------------- emcee
    from crustuq.sweep.posterior import surface_posterior as sp

    priors = dict(sp.parse_prior(s) for s in (prior or []))
    stored_cfg = None
    if resume is not None:
        if out is not None and Path(out).resolve() != Path(resume).resolve():
            raise ValueError(f"--out={out!r}: differs from --resume={resume!r}; give only --resume")
        be, stored_cfg = sp.open_chain(resume, read_only=True)
        store_path = resume
        default_steps = int(be.group.attrs.get("requested_steps", DEFAULTS["steps"]))
    else:
        if out is None:
            raise ValueError("--out: required with --method emcee (the chain is stored in a Zarr store FIT.zarr)")
        if Path(out).suffix.lower() != ".zarr":
            raise ValueError(f"--out={out!r}: the chain store name must end in .zarr")
        table_io.check_output_path(out, overwrite=overwrite)
        store_path = out
        default_steps = DEFAULTS["steps"]

    if stored_cfg is not None:
        # requested = stored configuration with the explicitly given options applied
        bulk = EmpiricalParameters.named(params) if params is not None else stored_cfg.bulk_parameters()
        tmeta = stored_cfg.target
        if target is not None or z_min is not None or n_min is not None:
            cuts = dict(tmeta["cuts"]) if target is None else {}
            targets = target_set(target or tmeta["name"], z_min=z_min if z_min is not None else cuts.get("z_min"),
                                 n_min=n_min if n_min is not None else cuts.get("n_min"))
        else:
            targets = stored_cfg.target_set()
        stored_free_p = "p" in stored_cfg.free
        use_free_p = free_p or (stored_free_p and p is None)
        p_val = p if p is not None else stored_cfg.fixed.get("p", DEFAULTS["p"])
        sig = sigma_model if sigma_model is not None else stored_cfg.sigma_model
        pri = {k: sp.Prior1D(*v) for k, v in stored_cfg.priors.items()}
        pri.update(priors)
        config = sp.make_config(bulk, targets, free_p=use_free_p, p=float(p_val), sigma_model=sig,
                                priors={k: v for k, v in pri.items()
                                        if k in (["sigma0", "sigma0c", "b_s", "beta"] + (["p"] if use_free_p else [])
                                                 + ([sp.SIGMA_NAME] if str(sig).lower() == "free" else []))},
                                nwalkers=walkers if walkers is not None else stored_cfg.nwalkers,
                                seed=seed if seed is not None else stored_cfg.seed,
                                moves=moves if moves is not None else stored_cfg.moves)
        diff = stored_cfg.difference(config)
        if diff is not None and not overwrite:
            raise ValueError(f"--resume={resume!r}: holds a chain with a different configuration ({diff}); "
                             "pass --overwrite to start a new chain there")
        do_resume = diff is None
    else:
        bulk = EmpiricalParameters.named(params or "BSk24")
        targets = target_set(target or "AME2020", z_min=z_min, n_min=n_min)
        config = sp.make_config(bulk, targets, free_p=free_p, p=float(p if p is not None else DEFAULTS["p"]),
                                sigma_model=sigma_model if sigma_model is not None else DEFAULTS["sigma_model"],
                                priors=priors, nwalkers=walkers if walkers is not None else DEFAULTS["walkers"],
                                seed=seed if seed is not None else DEFAULTS["seed"],
                                moves=moves if moves is not None else "de-snooker")
        do_resume = False
    nsteps = steps if steps is not None else default_steps
    if nsteps < 2:
        raise ValueError(f"--steps={nsteps}: must be >= 2")
    if burn is not None and not 0 <= burn < nsteps:
        raise ValueError(f"--burn={burn}: allowed 0 <= burn < --steps ({nsteps})")

    sp.run_surface_posterior(config, store_path, nsteps, resume=do_resume, flush_every=flush_every)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        report = sp.report_posterior(store_path, burn=burn, force=force)
    for w in caught:
        typer.echo(f"crustuq: warning: {w.message}", err=True)
    report["selection"] = targets.description
    report["store"] = str(store_path)
    if plot_path is not None:
        theta, sig, _ = sp.posterior_samples(store_path, burn=report["burn"], thin=1, force=True)
        names = list(config.free)
        idx = [["sigma0", "sigma0c", "b_s", "beta", "p"].index(k) for k in names]
        samples = theta[:, idx]
        if config.sigma_model == "free":
            samples = np.column_stack([samples, sig])
            names.append("sigma_model [MeV]")
        _corner_plot(plot_path, samples, names, f"{config.params} / {targets.name}: emcee posterior "
                     f"({report['steps']} steps x {report['nwalkers']} walkers, burn {report['burn']})")
    typer.echo(json.dumps(report, indent=2))


def register(app: typer.Typer) -> None:
    """Add ``fit-surface`` to the crustuq command line."""
    app.command("fit-surface")(fit_surface_command)
