"""``crustuq sweep init|run|resume|status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

sweep_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Prior/posterior crust sweeps: Dask graph -> Zarr store.")


@sweep_app.command("init")
def init_cmd(
    path: str = typer.Argument("sweep.toml", help="where to write the commented example configuration"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
) -> None:
    """Write a commented example configuration."""
    from crustuq.sweep.config import EXAMPLE_CONFIG

    p = Path(path)
    if p.suffix.lower() != ".toml":
        raise ValueError(f"PATH={path!r}: the file name must end in .toml")
    if not p.parent.is_dir():
        raise ValueError(f"PATH={path!r}: folder {str(p.parent)!r} does not exist")
    if p.exists() and not overwrite:
        raise ValueError(f"PATH={path!r}: already exists (pass --overwrite to replace it)")
    p.write_text(EXAMPLE_CONFIG)
    typer.echo(f"wrote {path}", err=True)


def _cluster_options(cluster, scheduler, workers, wait_timeout):
    if cluster is not None and cluster not in ("local", "slurm", "pbs", "sge"):
        raise ValueError(f"--cluster={cluster!r}: allowed are local, slurm, pbs, sge")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers={workers}: must be an integer >= 1")
    if wait_timeout is not None and wait_timeout <= 0:
        raise ValueError(f"--wait-timeout={wait_timeout}: must be > 0 seconds")
    return dict(cluster=cluster, scheduler=scheduler, workers=workers, wait_timeout=wait_timeout)


@sweep_app.command("run")
def run_cmd(
    config: str = typer.Argument(..., help="TOML configuration (see `crustuq sweep init`)"),
    store: Optional[str] = typer.Option(None, "--store", help="Zarr store (default: [output] store of the config)"),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="local | slurm | pbs | sge (default: [cluster] kind)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="connect to a running Dask scheduler tcp://HOST:PORT"),
    workers: Optional[int] = typer.Option(None, "--workers", help="worker processes (default: one per core)"),
    wait_timeout: Optional[float] = typer.Option(None, "--wait-timeout", help="seconds to wait for workers"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar on stderr"),
) -> None:
    """Run a sweep (or continue it, if the store holds the same configuration)."""
    from crustuq.sweep.config import load_config
    from crustuq.sweep.driver import run_sweep

    cfg = load_config(config)
    opts = _cluster_options(cluster, scheduler, workers, wait_timeout)
    report = run_sweep(cfg, store, progress=progress, **opts)
    typer.echo(json.dumps(report, indent=1))


@sweep_app.command("resume")
def resume_cmd(
    store: str = typer.Argument(..., help="the sweep store to complete"),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="local | slurm | pbs | sge"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="connect to a running Dask scheduler"),
    workers: Optional[int] = typer.Option(None, "--workers", help="worker processes"),
    wait_timeout: Optional[float] = typer.Option(None, "--wait-timeout", help="seconds to wait for workers"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Compute only the blocks of a store whose done mark is missing (same configuration)."""
    from crustuq.sweep.config import SweepConfig
    from crustuq.sweep.driver import run_sweep
    from crustuq.sweep.store import open_sweep_group

    p = Path(store)
    g = open_sweep_group(p, f"STORE={store!r}")
    cfg = SweepConfig.model_validate(json.loads(g.attrs["crustuq_config"]))
    opts = _cluster_options(cluster, scheduler, workers, wait_timeout)
    report = run_sweep(cfg, p, progress=progress, require_existing=True, **opts)
    typer.echo(json.dumps(report, indent=1))


@sweep_app.command("status")
def status_cmd(store: str = typer.Argument(..., help="the sweep store")) -> None:
    """Completion, failure counts by reason, filter counts and time spent."""
    from crustuq.sweep.driver import sweep_status

    typer.echo(json.dumps(sweep_status(store), indent=1))


def register(app: typer.Typer) -> None:
    app.add_typer(sweep_app, name="sweep")
