"""``crustuq bench``: the benchmark figures as JSON (benchmarks in ``crustuq.sweep.bench``)."""

from __future__ import annotations

from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
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
