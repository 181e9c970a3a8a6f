"""``crustuq crust``: the equilibrium crust (outer, inner, core) for one parameter set.

The CSV has the columns n_B, T, Z, A_cl, A_cell, I, n_cl, n_g, r_N, r_WS, u, Y_e, P, F_per_A,
mu_n, mu_e, S_per_A, status, layer (units in ``crustuq.models.crust.profile.OUTPUT_UNITS``);
the Zarr store holds the same variables on dims (T, n_B) plus the transition and drip points.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np
import typer

CSV_COLUMNS = ("n_B", "T", "Z", "A_cl", "A_cell", "I", "n_cl", "n_g", "r_N", "r_WS", "u", "Y_e",
               "P", "F_per_A", "mu_n", "mu_e", "S_per_A", "status", "layer")
PLOT_PANELS = (("Z", "Z"), ("A_cl", "A_cl"), ("Y_e", "Y_e"), ("n_g", "n_g [fm$^{-3}$]"),
               ("r_WS", "r_WS [fm]"), ("P", "P [MeV fm$^{-3}$]"))


def crust_dataset(result, params, surface, options):
    """The result of one parameter set as an xarray Dataset with dims (T, n_B)."""
    import xarray as xr

    from crustuq.models.crust.profile import OUTPUT_UNITS, OUTPUTS
    from crustuq.models.crust.status import LAYER_NAMES, STATUS_NAMES

    dims = ("T", "n_B")
    data = {k: (dims, result[k][0], {"units": OUTPUT_UNITS[k]}) for k in OUTPUTS}
    data["status"] = (dims, result.status[0], {
        "flag_values": list(STATUS_NAMES), "flag_meanings": " ".join(STATUS_NAMES.values())})
    data["residual"] = (dims, result.residual[0], {"units": "MeV"})
    data["layer"] = (dims, result.layer[0], {
        "flag_values": list(LAYER_NAMES), "flag_meanings": " ".join(LAYER_NAMES.values())})
    data["n_t"] = (("T",), result.n_t[0], {"units": "fm^-3", "long_name": "crust-core transition (crust side)"})
    data["P_t"] = (("T",), result.P_t[0], {"units": "MeV fm^-3"})
    data["n_core"] = (("T",), result.n_core[0], {"units": "fm^-3"})
    attrs = {"parameter_set": params.name, "surface_set": surface.name,
             "n_drip": float(result.n_drip[0]), "P_drip": float(result.P_drip[0]),
             "mass_table": str(options.mass_table), "integer_Z": int(options.integer_Z),
             "surface_temperature_factor": int(options.cell.surface_temperature_factor),
             "ion_translation": int(options.cell.ion_translation)}
    attrs.update({f"param_{k}": float(v) for k, v in params.as_dict().items()})
    attrs.update({f"surface_{k}": float(v) for k, v in surface.as_dict().items()})
    return xr.Dataset(data, coords={"T": ("T", result.T, {"units": "MeV"}),
                                    "n_B": ("n_B", result.n_B, {"units": "fm^-3"})}, attrs=attrs)


def csv_columns(result) -> dict:
    from crustuq.models.crust.status import LAYER_NAMES, STATUS_NAMES

    T, nB = np.meshgrid(result.T, result.n_B, indexing="ij")
    cols = {"n_B": nB.ravel(), "T": T.ravel()}
    for k in CSV_COLUMNS[2:-2]:
        cols[k] = result[k][0].ravel()
    cols["status"] = np.array([STATUS_NAMES[int(s)] for s in result.status[0].ravel()])
    cols["layer"] = np.array([LAYER_NAMES[int(s)] for s in result.layer[0].ravel()])
    return cols


def plot_crust(result, path) -> None:
    """Z, A_cl, Y_e, n_g, r_WS and P against n_B, one line per temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    for ax, (key, label) in zip(axes.ravel(), PLOT_PANELS):
        for it, T in enumerate(result.T):
            y = result[key][0, it]
            ax.plot(result.n_B, y, label=f"T = {T:g} MeV")
        ax.set_xscale("log")
        if key in ("n_g", "P", "r_WS"):
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("n$_B$ [fm$^{-3}$]")
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def register(app: typer.Typer) -> None:
    @app.command("crust")
    def crust_cmd(
        params: str = typer.Option("BSk24", "--params", help="named bulk parameter set"),
        param: Optional[List[str]] = typer.Option(None, "--param", help="bulk override, e.g. --param L_sym=60"),
        surface: str = typer.Option("BSk24-AME2020", "--surface",
                                    help="named surface set (BSk24-ETF-medium, BSk24-ETF-table, BSk24-AME2020) "
                                         "or sigma0=..,sigma0c=..,b_s=..,beta=..,p=3"),
        T: str = typer.Option("0", "--T", help="temperatures in MeV, e.g. 0,1,2"),
        nb: str = typer.Option("1e-4:0.08:100", "--nb", help="densities in fm^-3: start:stop:num[:log] or list"),
        table: str = typer.Option("AME2020+HFB-24", "--table",
                                  help="outer-crust mass table: a shipped table, 'P+F', or CLDM (vacuum masses of the same model)"),
        integer_z: bool = typer.Option(False, "--integer-z", help="integer proton numbers"),
        surface_h: bool = typer.Option(False, "--surface-h", help="surface tensions times h(T) (LS91)"),
        ion_translation: bool = typer.Option(False, "--ion-translation", help="add the cluster translational free energy"),
        out: Optional[str] = typer.Option(None, "--out", help="FILE.csv or FILE.zarr (default: CSV on stdout)"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing output"),
        plot: Optional[str] = typer.Option(None, "--plot", help="FILE.png with Z, A_cl, Y_e, n_g, r_WS, P vs n_B"),
    ) -> None:
        """The equilibrium crust from the surface to the core: outer crust from a mass table,
        CLDM inner crust in beta equilibrium at T >= 0, crust-core transition."""
        from crustuq.models.cldm.surface import parse_surface
        from crustuq.models.crust.cldm_cell import CellOptions
        from crustuq.models.crust.cldm_outer import is_cldm_spec
        from crustuq.models.crust.outer import resolve_mass_table
        from crustuq.models.crust.profile import CrustOptions, solve_crust, validate_crust_grid
        from crustuq.models.matter.parameters import EmpiricalParameters
        from crustuq.sweep import grids, table_io

        if not is_cldm_spec(table):
            resolve_mass_table(table)
        p = EmpiricalParameters.named(params)
        overrides = grids.parse_assignments("--param", param)
        if overrides:
            p = p.with_overrides(**overrides)
        sp = parse_surface(surface)
        temps = grids.parse_float_list("--T", T)
        dens = grids.parse_float_list("--nb", nb)
        dens, temps = validate_crust_grid(dens, temps)
        if out is not None:
            table_io.check_output_path(out, overwrite=overwrite)
        if plot is not None:
            if not plot.lower().endswith(".png"):
                raise ValueError(f"--plot={plot!r}: the file name must end in .png")
            table_io.check_output_path(plot, overwrite=overwrite, option="--plot", formats=(".png",))
        options = CrustOptions(mass_table=table, integer_Z=integer_z,
                               cell=CellOptions(surface_temperature_factor=surface_h, ion_translation=ion_translation))
        result = solve_crust(dens, temps, p, sp, options)
        for it, temp in enumerate(result.T):
            typer.echo(f"T = {temp:g} MeV: neutron drip n = {result.n_drip[0]:.4e} fm^-3 (P = {result.P_drip[0]:.4e} MeV fm^-3); "
                       f"crust-core transition n_t = {result.n_t[0, it]:.5f} fm^-3, P_t = {result.P_t[0, it]:.5f} MeV fm^-3",
                       err=True)
        if out is None:
            cols = csv_columns(result)
            typer.echo(",".join(cols))
            for row in zip(*cols.values()):
                typer.echo(",".join(v if isinstance(v, str) else f"{v:.12g}" for v in row))
        elif table_io.output_format(out) == "csv":
            table_io.write_csv(out, csv_columns(result), overwrite=overwrite)
        else:
            table_io.write_zarr(out, crust_dataset(result, p, sp, options), overwrite=overwrite)
        if plot is not None:
            plot_crust(result, plot)
