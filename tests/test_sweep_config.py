"""Sweep configuration: malformed configurations give one line naming the problem, and no store
is created."""

from __future__ import annotations

import copy

import pytest

from crustuq.sweep.cli import main
from crustuq.sweep.config import EXAMPLE_CONFIG, load_config, parse_config

GOOD = {
    "sweep": {"name": "t", "n_samples": 4, "seed": 1, "block_size": 2},
    "parameters": {"source": "prior", "prior": "margueron2018-gaussian"},
    "surface": {"treatment": "fixed", "set": "BSk24-AME2020"},
    "grid": {"T": [0.0, 1.0], "n_B": {"start": 1e-4, "stop": 0.08, "num": 10}},
}


def _with(path: str, value, base=GOOD):
    cfg = copy.deepcopy(base)
    keys = path.split(".")
    d = cfg
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    if value is _DELETE:
        d.pop(keys[-1])
    else:
        d[keys[-1]] = value
    return cfg


_DELETE = object()

BAD = [
    ("sweep.n_samples", "ten", "sweep.n_samples"),                      # wrong type
    ("sweep.n_samples", 0, "sweep.n_samples"),                          # zero samples
    ("sweep.seed", -1, "sweep.seed"),
    ("sweep.block_size", 0, "sweep.block_size"),
    ("sweep.colour", "blue", "unknown key"),                            # unknown key
    ("grid.T", [], "need at least one temperature"),                    # empty temperature list
    ("grid.T", [0.0, -1.0], "T=-1 MeV"),
    ("grid.T", "0,1", "grid.T"),                                        # wrong type
    ("grid.n_B", {"start": 0.08, "stop": 1e-4, "num": 10}, "range reversed"),  # n_B reversed
    ("grid.n_B", {"start": 1e-4, "stop": 0.5, "num": 10}, "the crust model covers"),
    ("grid.n_B", {"start": 1e-4, "stop": 0.08, "num": 10, "spacing": "cubic"}, "spacing"),
    ("parameters.source", "oracle", "parameters.source"),
    ("parameters.prior", "flat", "known priors"),
    ("parameters.uniform", {"Lsym": [10, 80]}, "unknown parameter 'Lsym'"),  # unknown parameter in a prior
    ("parameters.gaussian", {"L_sym": [60, -5]}, "sigma > 0"),          # negative width
    ("parameters.set", "BSk99", "known sets are"),
    ("parameters.sampling", "halton", "parameters.sampling"),
    ("surface.treatment", "guess", "surface.treatment"),
    ("surface.set", "BSk24-XYZ", "unknown surface set"),
    ("surface.values", {"sigma0": -1, "sigma0c": 0.1, "b_s": 30, "beta": 0.7}, "sigma0=-1"),
    ("model.mass_table", "NOPE", "unknown table spec"),
    ("grid", _DELETE, "grid: missing"),
    ("cluster.kind", "kubernetes", "cluster.kind"),
]


@pytest.mark.parametrize("path, value, message", BAD, ids=[b[0] + ":" + str(i) for i, b in enumerate(BAD)])
def test_malformed_configurations_give_one_line(path, value, message):
    with pytest.raises(ValueError) as info:
        parse_config(_with(path, value))
    text = str(info.value)
    assert "\n" not in text
    assert message.lower() in text.lower(), text


def test_missing_chain_files_and_bad_toml(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text(EXAMPLE_CONFIG.replace('treatment = "refit"', 'treatment = "posterior"\nchain = "nope.zarr"'))
    with pytest.raises(ValueError, match=r"surface.chain: value .*nope.zarr.* file not found"):
        load_config(toml)
    toml.write_text(EXAMPLE_CONFIG.replace('source = "prior"', 'source = "chain"\nchain = "missing.zarr"', 1))
    with pytest.raises(ValueError, match=r"parameters.chain: value .*missing.zarr.* file not found"):
        load_config(toml)
    toml.write_text("[sweep\nn_samples = 3")
    with pytest.raises(ValueError, match="TOML syntax error"):
        load_config(toml)
    with pytest.raises(ValueError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_example_configuration_is_valid(tmp_path):
    assert main(["sweep", "init", str(tmp_path / "s.toml")]) == 0
    cfg = load_config(tmp_path / "s.toml")
    assert cfg.sweep.n_samples == 40 and cfg.surface.treatment == "refit"
    from pathlib import Path

    for example in Path(__file__).resolve().parents[1].glob("examples/*.toml"):
        load_config(example)


def test_cli_rejects_bad_configs_and_creates_no_store(tmp_path, capsys):
    store = tmp_path / "s.zarr"
    cases = [
        ('n_samples = 8', 'n_samples = 0', "sweep.n_samples"),
        ('T = [0.0, 1.0]', 'T = []', "need at least one temperature"),
        ('[output]', '[output]\ncolour = "red"', "unknown key"),
    ]
    for old, new, msg in cases:
        toml = tmp_path / "bad.toml"
        toml.write_text(EXAMPLE_CONFIG.replace("n_samples = 40", "n_samples = 8").replace(old, new))
        rc = main(["sweep", "run", str(toml), "--store", str(store), "--no-progress"])
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and err.count("\n") == 1, err
        assert not store.exists()
    # a bad option on the command line
    toml = tmp_path / "ok.toml"
    toml.write_text(EXAMPLE_CONFIG)
    rc = main(["sweep", "run", str(toml), "--store", str(store), "--cluster", "mesos"])
    assert rc == 2 and "--cluster='mesos'" in capsys.readouterr().err
    rc = main(["sweep", "run", str(toml), "--store", str(tmp_path / "no" / "s.zarr")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    assert not store.exists()
