"""crustuq.models: the physics (pure, vectorised functions)."""
