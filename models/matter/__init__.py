"""Homogeneous nuclear matter: empirical parameters, meta-model, priors, filters."""
