"""`crustuq plot`: the band and parameter figures, the output folder rules, one-line errors."""

from __future__ import annotations

import os

import pytest

from _bands_store import make_store
from crustuq.sweep import bands as bd
from crustuq.sweep.cli import main
from crustuq.sweep.plots import figure_names, plot_store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "sweep.zarr"
    # the second temperature has no completed block: its panels say so, the figure is still drawn
    truth = make_store(path, n_samples=30, block_size=10, T=(0.0, 0.5), n_points=8, seed=11,
                       done_pattern="last T undone")
    return path, truth


def _files(path):
    return {p: os.stat(p).st_mtime_ns for p in sorted(str(q) for q in path.rglob("*"))}


def test_plot_without_stored_bands_writes_figures_only(store, tmp_path):
    path, truth = store
    before = _files(path)
    out = tmp_path / "figs"                                  # created: its parent exists
    paths = plot_store(path, out)
    assert [p.name for p in paths] == ["bands_T0MeV.png", "bands_T0.5MeV.png", "parameters.png"]
    assert [p.name for p in paths] == figure_names(truth["T"])
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == PNG and len(data) > 20_000
    assert _files(path) == before and not bd.has_bands(path)   # bands computed in memory only


def test_plot_cli_with_stored_bands_and_overwrite(store, tmp_path, capsys):
    path, truth = store
    work = tmp_path / "s.zarr"
    make_store(work, n_samples=20, block_size=10, T=(1.0,), n_points=6, seed=3)
    bd.compute_bands(work, weights="chiral-eft", pressure_points=8)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["plot", str(work), "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert "wrote 2 figures" in cap.err
    assert sorted(p.name for p in out.iterdir()) == ["bands_T1MeV.png", "parameters.png"]
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    rc = main(["plot", str(work), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bands_T1MeV.png already exists" in err and err.count("\n") == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp
    assert main(["plot", str(work), "--out", str(out), "--overwrite"]) == 0
    capsys.readouterr()
    assert all((out / n).stat().st_size > 20_000 for n in stamp)


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing store", "does not exist"),
        ("no done block", "no completed block"),
        ("out parent missing", "does not exist"),
        ("out is a file", "is not a folder"),
    ],
)
def test_plot_bad_input(tmp_path, capsys, case, message):
    path = tmp_path / "s.zarr"
    make_store(path, n_samples=10, block_size=5, T=(0.0,), n_points=4,
               done_pattern="none" if case == "no done block" else "default")
    out = tmp_path / "figs"
    if case == "out parent missing":
        out = tmp_path / "nope" / "figs"
    if case == "out is a file":
        out.write_text("x")
    target = tmp_path / "missing.zarr" if case == "missing store" else path
    before = _files(tmp_path)
    rc = main(["plot", str(target), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert message in err and err.count("\n") == 1, err
    assert _files(tmp_path) == before

