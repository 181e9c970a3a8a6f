"""Figures of a sweep store's uncertainty bands (``crustuq plot``).

* ``bands_T<T>MeV.png``, one per temperature: Z, A_cl, A_cell, Y_e, n_g (fm^-3), r_WS (fm) and
  P (MeV fm^-3) versus n_B (fm^-3, log axis): median (line), 68 % band (16-84 %) and 90 % band
  (5-95 %) shaded; an eighth panel shows which fraction of the computed samples is included,
  excluded by the filter, excluded as not converged, and undefined (Z in the core).
* ``parameters.png``: histograms of the 13 bulk (meta-model) and 5 surface parameters of the
  included samples (filter passed, block done at >= 1 temperature); with chiral-EFT importance
  weights the weighted histogram is drawn on top.

The stored ``bands`` group is used if it holds the 5, 16, 50, 84 and 95 % quantiles and is up to
date (computed with the blocks now done); otherwise the bands are computed in memory (with the
stored weighting if any, else equal weights) and nothing is written to the store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: (variable, axis label, log y axis)
BAND_PANELS = (
    ("Z", "Z", False),
    ("A_cl", "A$_{cl}$", False),
    ("A_cell", "A$_{cell}$", True),
    ("Y_e", "Y$_e$", False),
    ("n_g", "n$_g$ [fm$^{-3}$]", True),
    ("r_WS", "r$_{WS}$ [fm]", True),
    ("P", "P [MeV fm$^{-3}$]", True),
)
PLOT_QUANTILES = (0.05, 0.16, 0.5, 0.84, 0.95)


def figure_names(T) -> list[str]:
    """File names written by :func:`plot_store` for the temperatures ``T`` (MeV)."""
    return [f"bands_T{float(t):g}MeV.png" for t in np.atleast_1d(T)] + ["parameters.png"]


def check_out_dir(out_dir, names, *, overwrite: bool = False) -> Path:
    """Validate the output folder before anything is computed: it may exist (as a folder) or be
    created inside an existing folder; existing figures are refused unless ``overwrite``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out={str(out)!r}: exists and is not a folder")
    if not out.exists():
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise ValueError(f"--out={str(out)!r}: folder {str(parent)!r} does not exist")
    else:
        existing = [n for n in names if (out / n).exists()]
        if existing and not overwrite:
            raise ValueError(f"--out={str(out)!r}: {existing[0]} already exists (pass --overwrite to replace it)")
    return out


def _quantile_index(ds, q: float):
    qs = np.asarray(ds["quantile"].values, float)
    i = int(np.argmin(np.abs(qs - q)))
    return i if abs(qs[i] - q) < 1e-9 else None


def _bands_for_plot(store_path):
    """The bands with the plot quantiles: stored if suitable, else computed in memory."""
    from crustuq.sweep import bands as bd

    from crustuq.sweep.store import open_group

    stored = bd.open_bands(store_path)
    if stored is not None:
        done_now = (np.asarray(open_group(store_path, "r")["done"][:]) == 1).sum(axis=0)
        fresh = "n_blocks_done" in stored and np.array_equal(stored["n_blocks_done"].values, done_now)
        if fresh and all(_quantile_index(stored, q) is not None for q in PLOT_QUANTILES):
            return stored.load()
    weights = "none"
    if stored is not None and stored.attrs.get("weights") in bd.WEIGHT_CHOICES:
        weights = stored.attrs["weights"]
    return bd.band_dataset(store_path, quantiles=PLOT_QUANTILES, weights=weights)


def _band_figure(ds, it: int, path: Path) -> None:
    import matplotlib.pyplot as plt

    T = float(ds["T"].values[it])
    nB = np.asarray(ds["n_B"].values, float)
    iq = {q: _quantile_index(ds, q) for q in PLOT_QUANTILES}
    fig, axes = plt.subplots(2, 4, figsize=(17, 8), sharex=True)
    for ax, (key, label, logy) in zip(axes.ravel(), BAND_PANELS):
        y = np.asarray(ds[key].values[:, it, :], float)
        lo90, lo68, med, hi68, hi90 = (y[iq[q]] for q in PLOT_QUANTILES)
        ok90 = np.isfinite(lo90) & np.isfinite(hi90)
        ok68 = np.isfinite(lo68) & np.isfinite(hi68)
        ax.fill_between(nB, lo90, hi90, where=ok90, color="C0", alpha=0.2, lw=0, label="90 % (5-95 %)")
        ax.fill_between(nB, lo68, hi68, where=ok68, color="C0", alpha=0.45, lw=0, label="68 % (16-84 %)")
        ax.plot(nB, med, color="C0", lw=1.5, label="median")
        finite = y[np.isfinite(y)]
        if logy and finite.size and np.all(finite > 0) and finite.max() > 30 * finite.min():
            ax.set_yscale("log")
        if not finite.size:
            ax.text(0.5, 0.5, "no included values", transform=ax.transAxes, ha="center", va="center")
        ax.set_xscale("log")
        ax.set_xlim(nB.min(), nB.max())
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax = axes.ravel()[-1]
    n_comp = np.asarray(ds["n_computed"].values[it], float)
    def frac(v):
        return np.where(n_comp > 0, np.asarray(v, float) / np.where(n_comp > 0, n_comp, 1.0), np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        ax.plot(nB, frac(ds["n_included_P"].values[it]), label="included (P)")
        ax.plot(nB, frac(ds["n_excluded_filter"].values[it]), label="excluded: filter")
        ax.plot(nB, frac(ds["n_excluded_not_converged"].values[it]), label="excluded: not converged")
        ax.plot(nB, frac(ds["n_undefined_Z"].values[it]), label="Z undefined (core)")
    ax.set_xscale("log")
    ax.set_xlim(nB.min(), nB.max())
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("fraction of computed samples")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    axes[0, 0].legend(fontsize=8)
    for a in axes[1]:
        a.set_xlabel("n$_B$ [fm$^{-3}$]")
    n = int(n_comp.max()) if n_comp.size else 0
    fig.suptitle(f"T = {T:g} MeV: {n} samples computed, weights: {ds.attrs.get('weights', 'none')}")
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.07, top=0.94, wspace=0.28, hspace=0.08)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _parameter_figure(store_path, ds, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, NullLocator

    from crustuq.models.cldm.surface import SURFACE_PARAMETER_NAMES
    from crustuq.models.matter.parameters import PARAMETER_NAMES, PARAMETER_UNITS
    from crustuq.sweep.store import open_group

    root = open_group(store_path, "r")
    S = int(root.attrs["n_samples"])
    B = int(root.attrs["block_size"])
    block_of = np.arange(S) // B
    done_any = (np.asarray(root["done"][:]) == 1).any(axis=1)[block_of]
    prep = (np.asarray(root["prep_done"][:]) == 1)[block_of]
    inc = np.asarray(root["filter_passed"][:]).astype(bool) & done_any & prep
    w = None
    if ds.attrs.get("weights", "none") != "none" and "weight" in ds:
        w = np.asarray(ds["weight"].values, float)
    names = [(f"param_{k}", f"{k} [{PARAMETER_UNITS[k]}]" if PARAMETER_UNITS.get(k, "1") not in ("1", "") else k)
             for k in PARAMETER_NAMES]
    names += [(f"surface_{k}", k) for k in SURFACE_PARAMETER_NAMES]
    fig, axes = plt.subplots(3, 6, figsize=(20, 9.5))
    for ax, (var, label) in zip(axes.ravel(), names):
        v = np.asarray(root[var][:], float) if var in root else np.full(S, np.nan)
        m = inc & np.isfinite(v)
        if m.any() and np.ptp(v[m]) == 0:
            ax.text(0.5, 0.5, f"fixed at {v[m][0]:.6g}\n({int(m.sum())} samples)", transform=ax.transAxes,
                    ha="center", va="center")
            ax.xaxis.set_major_locator(NullLocator())
        elif m.any():
            ax.hist(v[m], bins=30, density=True, histtype="stepfilled", color="C0", alpha=0.45,
                    label=f"included ({int(m.sum())})")
            if w is not None and np.sum(w[m]) > 0:
                ax.hist(v[m], bins=30, density=True, weights=w[m], histtype="step", color="C3", lw=1.5,
                        label="chiral-EFT weighted")
        else:
            ax.text(0.5, 0.5, "no included samples", transform=ax.transAxes, ha="center", va="center")
        ax.set_xlabel(label)
        ax.set_yticks([])
        if not isinstance(ax.xaxis.get_major_locator(), NullLocator):
            ax.xaxis.set_major_locator(MaxNLocator(4))
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    for ax in axes.ravel():
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
            break
    fig.suptitle(f"parameters of the included samples ({int(inc.sum())} of {S})")
    fig.subplots_adjust(left=0.02, right=0.99, bottom=0.07, top=0.94, wspace=0.12, hspace=0.35)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_store(store_path, out_dir, *, overwrite: bool = False) -> list[Path]:
    """Write the band figures (one per T) and the parameter figure into ``out_dir`` (created if
    its parent exists); returns the paths. One-line ValueErrors, before anything is written,
    for a missing store, a store without a completed block, or existing figures (unless
    ``overwrite``)."""
    import matplotlib

    matplotlib.use("Agg")
    from crustuq.sweep import bands as bd

    root = bd.check_store(store_path)  # exists, is a sweep store, has a completed block
    names = figure_names(np.asarray(root["T"][:]))
    out = check_out_dir(out_dir, names, overwrite=overwrite)
    ds = _bands_for_plot(store_path)
    out.mkdir(exist_ok=True)
    paths = []
    for it in range(ds.sizes["T"]):
        p = out / names[it]
        _band_figure(ds, it, p)
        paths.append(p)
    p = out / names[-1]
    _parameter_figure(store_path, ds, p)
    paths.append(p)
    return paths


__all__ = ["plot_store", "figure_names", "check_out_dir", "BAND_PANELS", "PLOT_QUANTILES"]
