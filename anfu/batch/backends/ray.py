"""The Ray back-end (`anfu[scale]`): Ray Data `map_batches` with a callable class that holds
the unpickled Analyzer, one actor per worker, on a local Ray (`ray.init(num_cpus=N)`) or an
existing cluster (`address`, e.g. "ray://head:10001" or "auto").

The archive is fed in windows of chunks (one dataset row per chunk, the chunk pickled), so
only a window is ever in memory and the runner can checkpoint after each chunk; the dataset
keeps input order (`preserve_order`), and each chunk runs through the same `process_chunk` as
the local back-end, so the output is the same record for record.
"""

from __future__ import annotations

import pickle
from itertools import islice
from typing import Any, Iterable, Iterator

from ... import registry
from ...errors import ConfigError
from ..sources import Item
from ..work import ChunkResult, process_chunk


class AnalyzeChunks:
    """The map_batches callable: built once per actor, then called on batches of chunks."""

    def __init__(self, analyzer_ref: Any, mode: str, scorecard: Any) -> None:
        import ray

        self.analyzer = ray.get(analyzer_ref[0]) if isinstance(analyzer_ref, list) else analyzer_ref
        self.mode = mode
        self.scorecard = scorecard

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        out = []
        for blob in batch["chunk"]:
            items: list[Item] = pickle.loads(blob)
            out.append(pickle.dumps(process_chunk(self.analyzer, items, self.mode, self.scorecard)))
        return {"result": out}


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("AF104", "ray", extra="scale") from None
    return ray


@registry.batch_backends.register("ray")
class RayBackend:
    def __init__(self, analyzer: Any, mode: str = "analyze", scorecard: Any = None, workers: int | None = None,
                 address: str | None = None, window: int | None = None) -> None:
        self.ray = import_ray()
        self.analyzer = analyzer
        self.mode = mode
        self.scorecard = scorecard
        self.workers = workers or 2
        self.address = address
        self.window = window or max(8, 8 * self.workers)
        self._started = False

    def _start(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
            else:
                ray.init(num_cpus=self.workers, include_dashboard=False, logging_level="ERROR",
                         log_to_driver=False)
            self._started = True
        import logging
        import warnings

        logging.getLogger("ray.data").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message=".*minimum number of concurrent actors.*")
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        self._ref = [ray.put(self.analyzer)]

    def map(self, chunks: Iterable[list[Item]]) -> Iterator[ChunkResult]:
        self._start()
        ray = self.ray
        it = iter(chunks)
        while True:
            window = list(islice(it, self.window))
            if not window:
                return
            ds = ray.data.from_items([{"chunk": pickle.dumps(c)} for c in window],
                                     override_num_blocks=len(window))
            ds = ds.map_batches(AnalyzeChunks, fn_constructor_args=(self._ref, self.mode, self.scorecard),
                                batch_size=1, batch_format="numpy", concurrency=self.workers,
                                num_cpus=1)
            for row in ds.iter_rows():
                yield pickle.loads(row["result"])

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
            self._started = False
