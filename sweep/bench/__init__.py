"""Benchmarks behind ``crustuq bench``: the registry, the timer and the runner. Each benchmark
lives in a module of this folder named for what it measures and returns a JSON-able dict.

Timings are the best of a few repetitions after a warm-up, on one core (numpy element-wise
work is single-threaded); :func:`best_times` gives CPU time (``time.process_time``, not moved by
a loaded machine) with the wall time beside it. Speed targets are recorded next to the figure; nothing here is a
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


def best_times(fn, repeat: int = 3, warm_up: bool = True) -> tuple[float, float]:
    """Best CPU seconds (``time.process_time``) and best wall seconds of ``repeat`` calls of
    ``fn`` after one warm-up call."""
    if warm_up:
        fn()
    cpu, wall = np.inf, np.inf
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return float(cpu), float(wall)


def best_time(fn, repeat: int = 3) -> float:
    """Best CPU seconds of ``repeat`` calls after a warm-up (see :func:`best_times`)."""
    return best_times(fn, repeat)[0]


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or "unknown", "cpu_count": os.cpu_count()}


#: modules of this folder that define the benchmarks with ``@benchmark(name)``
BENCH_MODULES: tuple[str, ...] = (
    "crustuq.sweep.bench.metamodel",
    "crustuq.sweep.bench.crust",
    "crustuq.sweep.bench.surface",
    "crustuq.sweep.bench.sweep",
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
