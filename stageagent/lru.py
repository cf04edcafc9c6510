"""A small least-recently-used cache: what the runtime keeps per stage config or prompt.

Programs that derive a config per request (`config.model_copy(update=...)`) would
otherwise grow a cache keyed by config forever; this one keeps the `size` entries used
last. A plain dict keeps insertion order, so a hit moves its key to the end by popping
and re-inserting it - cheaper than an `OrderedDict` in CPython for small sizes.
"""

from __future__ import annotations

from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """`get`/`put` with at most `size` entries; the least recently used goes first."""

    __slots__ = ("size", "_data")

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"LRUCache size must be >= 1, not {size}")
        self.size = size
        self._data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        data = self._data
        value = data.pop(key, None)
        if value is not None:
            data[key] = value  # now the most recently used
        return value

    def put(self, key: K, value: V) -> None:
        data = self._data
        data.pop(key, None)
        data[key] = value
        if len(data) > self.size:
            del data[next(iter(data))]

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
