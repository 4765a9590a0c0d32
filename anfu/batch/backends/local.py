"""The local back-end: `--workers N` processes (ProcessPoolExecutor, spawn) each holding one
unpickled Analyzer; at most 2 × N chunks in flight, results yielded in input order."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Iterable, Iterator

from ... import registry
from ..sources import Item
from ..work import ChunkResult, process_chunk

_STATE: dict[str, Any] = {}


def _init(analyzer: Any, mode: str, scorecard: Any) -> None:
    _STATE.update(analyzer=analyzer, mode=mode, scorecard=scorecard)


def _work(items: list[Item]) -> ChunkResult:
    return process_chunk(_STATE["analyzer"], items, _STATE["mode"], _STATE["scorecard"])


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@registry.batch_backends.register("local")
class LocalBackend:
    def __init__(self, analyzer: Any, mode: str = "analyze", scorecard: Any = None, workers: int | None = None) -> None:
        self.analyzer = analyzer
        self.mode = mode
        self.scorecard = scorecard
        self.workers = workers or default_workers()

    def map(self, chunks: Iterable[list[Item]]) -> Iterator[ChunkResult]:
        if self.workers == 1:  # no pool: nothing to gain from a second process
            for chunk in chunks:
                yield process_chunk(self.analyzer, chunk, self.mode, self.scorecard)
            return
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init,
                                 initargs=(self.analyzer, self.mode, self.scorecard)) as pool:
            pending: deque[Future[ChunkResult]] = deque()
            for chunk in chunks:
                pending.append(pool.submit(_work, chunk))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def close(self) -> None:
        pass
