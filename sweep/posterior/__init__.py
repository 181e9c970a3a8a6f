"""Posteriors of model parameters: emcee chains stored in Zarr, summaries and draws for sweeps."""
