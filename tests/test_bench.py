"""`crustuq bench` runs and reports its figures as JSON (a smoke test with --quick: the figures
themselves are benchmarks, never timed tests)."""

from __future__ import annotations

import json

import pytest

from crustuq.sweep.cli import main


def test_quick_benchmarks_print_json_figures(capsys):
    rc = main(["bench", "--quick", "--only", "metamodel", "--only", "surface_logprob"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in out] == ["metamodel", "surface_logprob"]
    for r in out:
        assert r["value"] > 0 and "target" in r and isinstance(r["meets_target"], bool)
        assert r["machine"]["cpu_count"] >= 1


def test_unknown_benchmark_is_a_one_line_error(capsys):
    assert main(["bench", "--only", "nonsense"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nonsense" in err and "metamodel" in err


@pytest.mark.slow
def test_quick_crust_benchmark_reports_both_sample_kinds(capsys):
    assert main(["bench", "--quick", "--only", "crust"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    for kind in ("bsk24-like", "gaussian-prior"):
        assert r[f"{kind}_inner_T0_points_per_s"] > 0 and r[f"{kind}_full_crust_T0_s"] > 0
