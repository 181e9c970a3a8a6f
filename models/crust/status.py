"""Status codes of a crust point (stored in results and sweep stores as int8).

A failed point is data: it keeps its status and final residual; it never raises out of a
batch and is never a silent NaN.
"""

from __future__ import annotations

CONVERGED = 0           #: equilibrium conditions satisfied to tolerance
NOT_CONVERGED = 1       #: iteration limit reached; residual says how far
NO_CLUSTER = 2          #: no clusterised solution (u -> 1 or gas -> n_B): homogeneous matter
BEYOND_TRANSITION = 3   #: beyond the crust-core transition: homogeneous npe matter reported
INVALID = 4             #: input outside the model's domain (e.g. a sample failing validation)

STATUS_NAMES = {
    CONVERGED: "converged",
    NOT_CONVERGED: "not_converged",
    NO_CLUSTER: "no_cluster_solution",
    BEYOND_TRANSITION: "beyond_transition",
    INVALID: "invalid_input",
}

UNSTABLE = 5            #: outer crust: thermodynamically unstable cold-lattice state (dP/dn <= 0)
STATUS_NAMES[UNSTABLE] = "unstable"

#: layer codes of a crust point
LAYER_OUTER, LAYER_INNER, LAYER_CORE = 0, 1, 2
LAYER_NAMES = {LAYER_OUTER: "outer", LAYER_INNER: "inner", LAYER_CORE: "core"}
