"""A bounded cache of query results, keyed by the query and the table versions it read.

A new commit to a table changes its version, so results computed before it are never served
after it: the cache needs no invalidation. Entries also expire after a time to live, and the
least recently used go first when the cache is over its size in bytes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import polars as pl

from seneca_assets.lib.query.traffic import Traffic


@dataclass(frozen=True)
class CacheStats:
    """How the cache has served: hits, misses, evictions, and what it holds now."""

    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    max_bytes: int

    @property
    def hit_rate(self) -> float:
        """Share of lookups served from the cache (0 before the first lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class ResultCache:
    """LRU bounded in bytes, with a time to live; safe to share between threads."""

    def __init__(
        self,
        max_bytes: int,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        traffic: Traffic | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.traffic = traffic
        """Where hits and misses are reported for storage health, if anywhere."""
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, int, pl.DataFrame]] = OrderedDict()
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pl.DataFrame | None:
        """The result stored under `key` if it is there and still fresh; counts a hit or miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[0] <= self.ttl_s:
                self._entries.move_to_end(key)
                self._hits += 1
                found: pl.DataFrame | None = entry[2]
            else:
                if entry is not None:
                    self._drop(key)
                self._misses += 1
                found = None
        if self.traffic is not None:
            self.traffic.count(found is not None)
        return found

    def put(self, key: Hashable, frame: pl.DataFrame) -> None:
        """Store `frame` under `key`, evicting the least recently used to stay within size.

        A result larger than the whole cache is not stored.
        """
        size = int(frame.estimated_size())
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = (self._clock(), size, frame)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))
                self._evictions += 1

    def _drop(self, key: Hashable) -> None:
        _, size, _ = self._entries.pop(key)
        self._bytes -= size

    def stats(self) -> CacheStats:
        """Counts so far and the current contents."""
        with self._lock:
            return CacheStats(
                self._hits, self._misses, self._evictions, len(self._entries), self._bytes,
                self.max_bytes,
            )  # fmt: skip
