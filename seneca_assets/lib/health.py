"""Storage health: the lake's measures against the design's ranges, in ops/storage_health.

Each run measures, one row per measure (and per table for sizes):
- size and file count per table and for the lake, and the small-file backlog;
- monthly growth: 30 days of the capacity table's growth rate over the lake's size;
- query response p50 and p95 of a probe set (the table list, the last day's messages, a metric
  over the last day), each run PROBE_RUNS times with an empty cache;
- the query result caches' hit rate over the last day, from the hits and misses every process
  that queried the lake reported (`lib/query/traffic.py`), and how many lookups that was;
- backup success rate over the last 30 days of ops/backups, and the age of the last verified
  restore (every backup is verified by a restore into scratch).
Each measure with a range in the design gets a status: `healthy`, `warning` or `action`.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.tables import CAPACITY
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.maintenance import backlog
from seneca_assets.lib.model.tables import MESSAGES, METRICS
from seneca_assets.lib.query import Lake as QueryLake
from seneca_assets.lib.query import traffic
from seneca_assets.lib.query.cache import ResultCache
from seneca_assets.lib.schemas import STORAGE_HEALTH

PROBE_RUNS = 5
CACHE_BYTES = 64 * 2**20
RANGES = {
    # measure: (healthy while, warning until, direction): "below" means smaller is better.
    "monthly_growth": (0.10, 0.25, "below"),
    "query_p95_ms": (100.0, 1000.0, "below"),
    "cache_hit_rate": (0.90, 0.70, "above"),
    "backup_success_rate": (1.0, 0.95, "above"),
}
"""The design's ranges: growth healthy under 10% a month, warning to 25%; queries under 100 ms,
warning to 1 s; cache hits above 90%, warning from 70%; backups 100%, warning from 95%."""


def status(measure: str, value: float | None) -> tuple[str, str | None]:
    """The status of `value` for `measure`, and the range in words."""
    if measure not in RANGES:
        return "unranged", None
    good, bad, direction = RANGES[measure]
    words = (
        f"healthy under {good:g}, warning to {bad:g}, action above"
        if direction == "below"
        else f"healthy above {good:g}, warning from {bad:g}, action below"
    )
    if value is None:
        return "unranged", words
    if direction == "below":
        return ("healthy" if value < good else "warning" if value <= bad else "action"), words
    return ("healthy" if value >= good else "warning" if value >= bad else "action"), words


def measure(lake: Lake, now: datetime) -> pl.DataFrame:
    """Every measure of one check, as rows of ops/storage_health."""
    rows: list[tuple[str, str, float | None, str]] = []
    total_bytes = total_files = 0
    for spec in TABLES:
        if not lake.exists(spec):
            continue
        actions = pl.DataFrame(lake.table(spec).get_add_actions(flatten=True))
        size = int(actions.get_column("size_bytes").sum()) if actions.height else 0
        rows += [("bytes", spec.name, size, "bytes"), ("files", spec.name, actions.height, "files")]
        total_bytes += size
        total_files += actions.height
    rows += [
        ("bytes", "(lake)", total_bytes, "bytes"),
        ("files", "(lake)", total_files, "files"),
        ("small_file_backlog", "(lake)", len(backlog(lake)), "tables"),
        ("monthly_growth", "(lake)", _growth(lake, total_bytes), "share"),
        *_probe(lake, now),
        *_cache(lake, now),
        *_backups(lake, now),
    ]
    frame = pl.DataFrame(
        [
            {"checked_at": now, "measure": m, "subject": s, "value": v, "unit": u}
            | dict(zip(("status", "range"), status(m, v), strict=True))
            for m, s, v, u in rows
        ],
        schema=STORAGE_HEALTH.schema,
    )
    return frame


def _growth(lake: Lake, size: int) -> float | None:
    if not lake.exists(CAPACITY) or size == 0:
        return None
    row = lake.scan(CAPACITY).filter(pl.col("table") == "(lake)").collect()
    per_day = row.item(0, "bytes_per_day") if row.height else None
    return None if per_day is None else float(per_day) * 30 / size


def _probe(lake: Lake, now: datetime) -> list[tuple[str, str, float | None, str]]:
    """Query response p50 and p95 of the probe set, each run with an empty cache."""
    queries = [lambda q: q.tables(), lambda q: q.records("messages", start="24h", limit=100)]
    if lake.exists(METRICS):
        names = lake.scan(METRICS).select("name").head(1).collect()
        if names.height:
            name = names.item(0, "name")
            queries.append(lambda q: q.metrics(name, start=now - timedelta(days=1), end=now))
    if not lake.exists(MESSAGES):
        queries = queries[:1]
    timings = []
    for _ in range(PROBE_RUNS):  # an empty cache, which reports no traffic of its own
        fresh = QueryLake(lake.root, cache=ResultCache(CACHE_BYTES, 60.0))
        for query in queries:
            started = time.perf_counter()
            query(fresh)
            timings.append(1000 * (time.perf_counter() - started))
    return [
        ("query_p50_ms", "(lake)", float(np.percentile(timings, 50)), "ms"),
        ("query_p95_ms", "(lake)", float(np.percentile(timings, 95)), "ms"),
    ]


def _cache(lake: Lake, now: datetime) -> list[tuple[str, str, float | None, str]]:
    """The result caches' hit rate over the last day, as every querying process reported it."""
    rate, lookups = traffic.hit_rate(lake.root, now - timedelta(days=1))
    traffic.prune(lake.root, now)
    return [
        ("cache_hit_rate", "(lake)", rate, "share"),
        ("cache_lookups_24h", "(lake)", float(lookups), "lookups"),
    ]


def _backups(lake: Lake, now: datetime) -> list[tuple[str, str, float | None, str]]:
    if not lake.exists(BACKUP_LOG):
        return [
            ("backup_success_rate", "(lake)", None, "share"),
            ("last_verified_restore_age_h", "(lake)", None, "hours"),
        ]
    log = lake.read(BACKUP_LOG)
    recent = log.filter(pl.col("created_at") >= now - timedelta(days=30))
    rate = float(recent.get_column("verified").mean()) if recent.height else None  # type: ignore[arg-type]
    last = log.filter("verified").select(pl.col("verified_at").max()).item()
    age = (now - last).total_seconds() / 3600 if isinstance(last, datetime) else None
    return [
        ("backup_success_rate", "(lake)", rate, "share"),
        ("last_verified_restore_age_h", "(lake)", age, "hours"),
    ]
