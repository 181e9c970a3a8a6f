"""``crustuq bands`` and ``crustuq plot``: uncertainty bands of a sweep store and their figures.

``crustuq bands STORE [--quantiles 5,16,50,84,95] [--weights none|chiral-eft]
[--pressure-points 100] [--overwrite]`` writes the ``bands`` group into STORE
(:func:`crustuq.sweep.bands.compute_bands`) and prints a JSON summary with the counts.

``crustuq plot STORE --out DIR [--overwrite]`` writes the PNG figures
(:func:`crustuq.sweep.plots.plot_store`).

Bad input ends in a one-line ValueError naming the option, the value and what is allowed;
nothing is written then.
"""

from __future__ import annotations

import typer


def parse_percentiles(option: str, text: str):
    """``"5,16,50"`` (percent) -> array([0.05, 0.16, 0.5]); each strictly between 0 and 100,
    distinct."""
    import numpy as np

    from crustuq.sweep.grids import parse_float_list

    if ":" in text:
        raise ValueError(f"{option}={text!r}: expected a comma-separated list of percentages, e.g. 5,16,50,84,95")
    pct = parse_float_list(option, text)
    bad = (pct <= 0) | (pct >= 100)
    if np.any(bad):
        raise ValueError(f"{option}={text!r}: {pct[bad][0]:g} is outside (0, 100); "
                         "allowed are percentages strictly between 0 and 100")
    if np.unique(pct).size != pct.size:
        raise ValueError(f"{option}={text!r}: percentages must be distinct")
    return pct / 100.0


def register(app: typer.Typer) -> None:
    @app.command("bands")
    def bands_cmd(
        store: str = typer.Argument(..., help="sweep store (Zarr folder)"),
        quantiles: str = typer.Option("5,16,50,84,95", "--quantiles", help="quantiles in percent, comma-separated"),
        weights: str = typer.Option("none", "--weights", help="sample weights: none or chiral-eft"),
        pressure_points: int = typer.Option(100, "--pressure-points", help="points of the per-T pressure grid"),
        memory_mb: float = typer.Option(1024.0, "--memory-mb", help="approximate memory budget (MB)"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing bands group"),
    ) -> None:
        """Weighted quantiles over samples of every output versus n_B (each T) and versus
        pressure, written into the 'bands' group of STORE; prints a JSON summary."""
        import json

        from crustuq.sweep import bands

        q = parse_percentiles("--quantiles", quantiles)
        if weights not in bands.WEIGHT_CHOICES:
            raise ValueError(f"--weights={weights!r}: allowed are {', '.join(bands.WEIGHT_CHOICES)}")
        if not 2 <= pressure_points <= 100_000:
            raise ValueError(f"--pressure-points={pressure_points}: allowed are integers from 2 to 100000")
        if not memory_mb > 0:
            raise ValueError(f"--memory-mb={memory_mb:g}: must be > 0")
        result = bands.compute_bands(store, quantiles=q, weights=weights, pressure_points=pressure_points,
                                     overwrite=overwrite, memory_mb=memory_mb)
        typer.echo(json.dumps(result))

    @app.command("plot")
    def plot_cmd(
        store: str = typer.Argument(..., help="sweep store (Zarr folder)"),
        out: str = typer.Option(..., "--out", help="output folder (created if its parent exists)"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace existing figures"),
    ) -> None:
        """PNG figures: Z, A_cl, A_cell, Y_e, n_g, r_WS, P versus n_B with 68 % and 90 % bands
        (one figure per T) and the parameter distributions of the included samples."""
        from crustuq.sweep.plots import plot_store

        paths = plot_store(store, out, overwrite=overwrite)
        typer.echo(f"wrote {len(paths)} figures to {out}", err=True)
        for p in paths:
            typer.echo(str(p))


__all__ = ["register", "parse_percentiles"]
