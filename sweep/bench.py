"""Benchmarks behind ``crustuq bench``. Each returns a JSON-able dict of figures.

Timings are the best of a few repetitions after a warm-up, on one core (numpy element-wise
work is single-threaded). Speed targets are recorded next to the figure; nothing here is a
test (timed tests are forbidden in this project: targets live here).
"""

from __future__ import annotations

import os
import platform
import time
from typing import Callable

import numpy as np

BENCHMARKS: dict[str, Callable[[bool], dict]] = {}


def benchmark(name: str):
    def deco(fn):
        BENCHMARKS[name] = fn
        return fn
    return deco


def _best_time(fn, repeat: int = 3) -> float:
    fn()  # warm-up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or "unknown", "cpu_count": os.cpu_count()}


@benchmark("metamodel")
def bench_metamodel(quick: bool = False) -> dict:
    """Meta-model evaluations per second: f, mu_n, mu_p, P (and s) at finite T for 10^6
    random points (n_B in [1e-3, 0.3] fm^-3, delta in [-1, 1], T in [0.1, 5] MeV), BSk24."""
    from crustuq.models.matter.metamodel import meta_model

    n = 10**5 if quick else 10**6
    rng = np.random.default_rng(0)
    nb = rng.uniform(1e-3, 0.3, n)
    d = rng.uniform(-1.0, 1.0, n)
    T = rng.uniform(0.1, 5.0, n)
    nn, npp = 0.5 * nb * (1 + d), 0.5 * nb * (1 - d)
    mm = meta_model("BSk24")
    t = _best_time(lambda: mm.state(nn, npp, T))
    return {"name": "metamodel", "figure": "meta-model evaluations per second (finite T)",
            "points": n, "seconds": t, "value": n / t, "unit": "points/s", "target": 2e6,
            "meets_target": bool(n / t >= 2e6)}


#: feature modules that define more benchmarks with ``@benchmark(name)``
BENCH_MODULES: tuple[str, ...] = (
    "crustuq.sweep.posterior.bench_surface",
)


def run(only: list[str] | None = None, quick: bool = False) -> list[dict]:
    import importlib

    for mod in BENCH_MODULES:
        importlib.import_module(mod)
    names = list(BENCHMARKS) if not only else only
    unknown = [k for k in names if k not in BENCHMARKS]
    if unknown:
        raise ValueError(f"--only={unknown[0]!r}: known benchmarks are {', '.join(BENCHMARKS)}")
    out = []
    for name in names:
        res = BENCHMARKS[name](quick)
        res["machine"] = machine()
        out.append(res)
    return out
