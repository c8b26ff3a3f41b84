"""Carrying the plan out: the doit task graph (`tasks`), the processes it runs (`runner`, with the run log),
the impure steps that measure (probe, crop samples, scene scan, chunk tries, validation) and the executors
that run chunk work units here or on a Dask cluster."""
