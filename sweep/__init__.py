"""crustuq.sweep: Dask sweeps, posterior sampling, Zarr stores, command line."""
