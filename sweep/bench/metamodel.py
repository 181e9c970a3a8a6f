"""Meta-model benchmark (``crustuq bench --only metamodel``)."""

from __future__ import annotations

import numpy as np

from crustuq.sweep.bench import benchmark, best_times


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
    t, wall = best_times(lambda: mm.state(nn, npp, T))
    return {"name": "metamodel", "figure": "meta-model evaluations per second (finite T)",
            "points": n, "seconds": t, "cpu_s": t, "wall_s": wall, "value": n / t, "unit": "points/s", "target": 2e6,
            "meets_target": bool(n / t >= 2e6)}
