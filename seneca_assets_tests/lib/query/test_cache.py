"""The result cache: bounded in bytes, expiring, invalidated by any new commit by construction;
and a Polars query stopped at the timeout."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.model.tables import MESSAGES
from seneca_assets.lib.query import Lake, QueryTimeout, ResultCache
from seneca_assets.lib.query.api import collector


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"x": range(rows)})


def test_least_recently_used_results_leave_first_when_over_size():
    size = _frame(100).estimated_size()
    cache = ResultCache(max_bytes=int(size * 2.5), ttl_s=60)
    cache.put("a", _frame(100))
    cache.put("b", _frame(100))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _frame(100))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    stats = cache.stats()
    assert (stats.entries, stats.evictions, stats.hits, stats.misses) == (2, 1, 3, 1)
    assert stats.bytes <= stats.max_bytes
    cache.put("huge", _frame(10_000))
    assert cache.get("huge") is None, "a result larger than the cache is not kept"


def test_results_expire_after_their_time_to_live():
    now = [0.0]
    cache = ResultCache(max_bytes=1 << 20, ttl_s=10, clock=lambda: now[0])
    cache.put("a", _frame(3))
    now[0] = 9.9
    assert cache.get("a") is not None
    now[0] = 10.1
    assert cache.get("a") is None
    assert cache.stats().entries == 0


def test_a_new_commit_is_never_hidden_by_the_cache(lake_copy: Path):
    lake = Lake(lake_copy / "lake")
    first = lake.messages(limit=5)
    again = lake.messages(limit=5)
    assert again is first and lake.cache_stats().hits == 1
    storage = StorageLake(lake_copy / "lake")
    newest = storage.read(MESSAGES).sort("event_time").tail(1)
    later = newest.with_columns(
        message_id=pl.lit("f" * 32),
        event_time=pl.col("event_time") + pl.duration(hours=1),
    )
    storage.write(MESSAGES, later)
    fresh = lake.messages(limit=5)
    assert fresh.item(0, "message_id") == "f" * 32
    assert lake.cache_stats().misses == 2


def test_the_cache_serves_a_repeated_dashboard(built_lake: Path):
    lake = Lake(built_lake / "lake")
    for _ in range(20):
        lake.messages(kind="worker_communication", limit=50)
        lake.sql("SELECT kind, count(*) AS n FROM silver_messages GROUP BY ALL")
    assert lake.cache_stats().hit_rate == pytest.approx(38 / 40)


def test_a_polars_query_is_stopped_at_the_timeout():
    def slow(batch: pl.Series) -> pl.Series:
        time.sleep(1)
        return batch

    frame = pl.LazyFrame({"x": [1, 2, 3]}).select(pl.col("x").map_batches(slow))
    with pytest.raises(QueryTimeout, match=r"ran over 0\.2 s and was stopped"):
        collector(0.2)(frame)
    assert collector(5)(pl.LazyFrame({"x": [1]})).item() == 1
