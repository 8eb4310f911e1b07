"""The query cache's traffic, reported by every process that queries the lake.

Each query cache counts its hits and misses and appends them, at most every FLUSH_S seconds and
when the process ends, as one JSON line to `<lake>/_seneca/query_traffic.jsonl`, opened for
appending so that lines from processes side by side stay whole. Storage health reads the lines
of the last day for the cache hit rate, and drops those older than KEEP. A lake that cannot be
written (a restore on a read-only disk) reports nothing; queries never fail for it.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FILE = Path("_seneca") / "query_traffic.jsonl"
FLUSH_S = 10.0
KEEP = timedelta(days=7)
_LIVE: weakref.WeakSet[Traffic] = weakref.WeakSet()


class Traffic:
    """Counts one cache's hits and misses and appends them to the lake's traffic file."""

    def __init__(self, root: Path) -> None:
        self.path = root / FILE
        self.hits = self.misses = 0
        self._flushed = time.monotonic()
        self._lock = threading.Lock()
        _LIVE.add(self)

    def count(self, hit: bool) -> None:
        """One lookup; the counts are written out once FLUSH_S has passed since the last time."""
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
            if time.monotonic() - self._flushed >= FLUSH_S:
                self._flush()

    def flush(self) -> None:
        """Write out the counts not written yet."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        self._flushed = time.monotonic()
        if not (self.hits or self.misses):
            return
        line = {"at": datetime.now(UTC).isoformat(), "pid": os.getpid(),
                "hits": self.hits, "misses": self.misses}  # fmt: skip
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
        except OSError:
            return  # a lake we cannot write: the counts stay for a later flush
        self.hits = self.misses = 0


@atexit.register
def _flush_all() -> None:
    for traffic in list(_LIVE):
        traffic.flush()


def hit_rate(root: Path, since: datetime) -> tuple[float | None, int]:
    """The share of cache lookups served from the cache since `since`, and how many there were.

    None when no lookup was reported.
    """
    hits = lookups = 0
    for line in _lines(root):
        if datetime.fromisoformat(line["at"]) >= since:
            hits += int(line["hits"])
            lookups += int(line["hits"]) + int(line["misses"])
    return (hits / lookups if lookups else None), lookups


def prune(root: Path, now: datetime) -> None:
    """Drop the lines older than KEEP (the file is rewritten and renamed over the old one)."""
    path = root / FILE
    kept = [line for line in _lines(root) if datetime.fromisoformat(line["at"]) >= now - KEEP]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(json.dumps(line) + "\n" for line in kept), encoding="utf-8")
    temporary.replace(path)


def _lines(root: Path) -> list[dict[str, Any]]:
    path = root / FILE
    if not path.exists():
        return []
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            continue  # a line cut by a crash mid-write
    return out
