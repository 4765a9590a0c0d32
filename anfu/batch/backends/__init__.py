"""Batch back-ends, registered in `registry.batch_backends`: `local` (a process pool on this
machine) and `ray` (Ray Data `map_batches`, the `anfu[scale]` extra). A back-end maps chunks of
items to `ChunkResult`s in input order; the runner does the reading, writing and resuming."""
