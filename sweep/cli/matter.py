"""``crustuq matter``: a meta-model table of homogeneous nuclear matter."""

from __future__ import annotations

from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
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
