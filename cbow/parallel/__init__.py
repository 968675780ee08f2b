"""Where a step's work runs: threads of this process, or a Dask cluster."""
