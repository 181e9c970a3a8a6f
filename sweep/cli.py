"""The ``crustuq`` command line.

Every sub-command validates its whole input before computing anything; bad input ends with a
one-line message naming the option, the value and what is allowed (exit status 2), and
nothing is written.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="crustuq: neutron-star crust physics with honest uncertainty bands.",
    pretty_exceptions_enable=False,
)


class UsageError(ValueError):
    """Bad input detected by a command (reported in one line, exit status 2)."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crustuq")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@app.command("version")
def version_cmd() -> None:
    """Print the crustuq version."""
    typer.echo(f"crustuq {_version()}")


@app.command("matter")
def matter_cmd(
    params: str = typer.Option("BSk24", "--params", help="named parameter set (e.g. BSk24, SLy4)"),
    T: str = typer.Option("0", "--T", help="temperatures in MeV: list 0,1,2 or range start:stop:num"),
    delta: str = typer.Option("0,1", "--delta", help="asymmetries (n_n-n_p)/n_B in [-1, 1]"),
    nb: str = typer.Option("0.001:0.3:50", "--nb", help="baryon densities in fm^-3 (start:stop:num[:log] or list)"),
    param: Optional[List[str]] = typer.Option(None, "--param", help="override, e.g. --param L_sym=60 (repeatable)"),
    out: Optional[str] = typer.Option(None, "--out", help="output FILE.csv or FILE.zarr (default: CSV on stdout)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output"),
) -> None:
    """Meta-model table of homogeneous nuclear matter: n_B, delta, T, F_per_A, P, mu_n, mu_p, S_per_A
    (MeV, fm^-3; F_per_A without rest mass, mu_q with rest mass)."""
    from crustuq.models.matter.parameters import EmpiricalParameters
    from crustuq.sweep import grids, matter_table, table_io

    p = EmpiricalParameters.named(params)
    overrides = grids.parse_assignments("--param", param)
    if overrides:
        p = p.with_overrides(**overrides)
    temps = grids.parse_float_list("--T", T)
    deltas = grids.parse_float_list("--delta", delta)
    densities = grids.parse_float_list("--nb", nb)
    matter_table.validate_grid(densities, deltas, temps)
    if out is not None:
        table_io.check_output_path(out, overwrite=overwrite)
    ds = matter_table.matter_table(p, densities, deltas, temps)
    if out is None:
        cols = matter_table.table_columns(ds)
        typer.echo(",".join(cols))
        for row in zip(*cols.values()):
            typer.echo(",".join(f"{v:.12g}" for v in row))
        return
    if table_io.output_format(out) == "csv":
        table_io.write_csv(out, matter_table.table_columns(ds), overwrite=overwrite)
    else:
        table_io.write_zarr(out, ds, overwrite=overwrite)
    typer.echo(f"wrote {out} ({ds.sizes['T']} T x {ds.sizes['delta']} delta x {ds.sizes['n_B']} n_B)", err=True)


@app.command("bench")
def bench_cmd(
    only: Optional[List[str]] = typer.Option(None, "--only", help="run only these benchmarks (repeatable)"),
    quick: bool = typer.Option(False, "--quick", help="smaller problem sizes (smoke test)"),
) -> None:
    """Run the benchmarks and print their figures as JSON (one object per benchmark)."""
    import json

    from crustuq.sweep import bench

    results = bench.run(only=only, quick=quick)
    typer.echo(json.dumps(results, indent=2))


#: modules that add their own sub-commands with ``register(app)`` (one module per feature)
COMMAND_MODULES: tuple[str, ...] = (
    "crustuq.sweep.crust_cli",
    "crustuq.sweep.fit_cli",
    "crustuq.sweep.bands_cli",
    "crustuq.sweep.sweep_cli",
)


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, turning bad input into a one-line error."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except ValueError as exc:  # includes UsageError and model validation errors
        typer.echo(f"crustuq: error: {exc}", err=True)
        return 2
    except typer.Exit as exc:  # pragma: no cover
        return exc.exit_code
    except SystemExit as exc:  # pragma: no cover
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 1
        raise
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def console_main() -> None:
    sys.exit(main())
