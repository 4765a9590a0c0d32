"""`Lru`: the one bounded, thread-safe memo of the package. It keeps the entries used most
recently, up to `size` entries and, when given a `weight`, up to `max_weight` in total (the
turn memo counts characters). The turn memo (pipeline.py), the pre-send verdicts
(components/strategy.py), the recent message windows (store/windows.py), the resolved
conversations of a connection (service/turns.py) and the rate limiter's buckets
(server/ratelimit.py) are each one `Lru`.

Pickling gives an empty memo of the same bounds: what one process remembered does not travel
to a worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class Lru(Generic[K, V]):
    def __init__(self, size: int, weight: Callable[[V], int] | None = None, max_weight: int | None = None) -> None:
        if size < 0 or (max_weight is not None and weight is None):
            raise ValueError("Lru needs size >= 0, and a weight function with max_weight")
        self.size = size
        self.weight = weight
        self.max_weight = max_weight
        self._items: OrderedDict[K, V] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"size": self.size, "weight": self.weight, "max_weight": self.max_weight}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["size"], state["weight"], state["max_weight"])  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @property
    def total_weight(self) -> int:
        return self._total

    def get(self, key: K, default: Any = None) -> Any:
        """The value of `key` (now the most recently used), or `default`."""
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._items.move_to_end(key)
            return value

    def peek(self, key: K, default: Any = None) -> Any:
        """The value of `key` without marking it used."""
        with self._lock:
            return self._items.get(key, default)

    def put(self, key: K, value: V) -> None:
        """Remember `value` under `key` as the most recently used, then drop the least recently
        used entries beyond the bounds."""
        with self._lock:
            old = self._items.pop(key, _MISSING)
            if old is not _MISSING and self.weight is not None:
                self._total -= self.weight(old)  # type: ignore[arg-type]
            self._items[key] = value
            if self.weight is not None:
                self._total += self.weight(value)
            while self._items and (len(self._items) > self.size or
                                   (self.max_weight is not None and self._total > self.max_weight)):
                _, dropped = self._items.popitem(last=False)
                if self.weight is not None:
                    self._total -= self.weight(dropped)

    def discard_where(self, drop: Callable[[K, V], bool]) -> int:
        """Forget every entry for which `drop(key, value)` is true; how many were forgotten."""
        with self._lock:
            keys = [k for k, v in self._items.items() if drop(k, v)]
            for key in keys:
                value = self._items.pop(key)
                if self.weight is not None:
                    self._total -= self.weight(value)
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0

    def keys(self) -> Iterator[K]:
        """A snapshot of the keys, least recently used first."""
        with self._lock:
            return iter(list(self._items))
