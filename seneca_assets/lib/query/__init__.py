"""Querying the lake from Python: `Lake(root)` (no Dagster needed).

from seneca_assets.lib.query import Lake
lake = Lake("data/lake")
lake.metrics("marcus.task_duration_ms", start="30d")
lake.messages(agent="agent-3", start="24h", limit=20)
lake.as_of("2026-11-20T12:00:00Z").tasks(status="blocked")
lake.sql("SELECT kind, count(*) AS n FROM silver_messages WHERE event_time >= ? GROUP BY ALL",
         [start])
"""

from seneca_assets.lib.query.api import Lake
from seneca_assets.lib.query.cache import CacheStats, ResultCache
from seneca_assets.lib.query.errors import (
    BadTimeRange,
    QueryError,
    QueryTimeout,
    RefusedQuery,
    ResultTooLarge,
    UnknownMetricWarning,
    UnknownName,
)

__all__ = [
    "BadTimeRange",
    "CacheStats",
    "Lake",
    "QueryError",
    "QueryTimeout",
    "RefusedQuery",
    "ResultCache",
    "ResultTooLarge",
    "UnknownMetricWarning",
    "UnknownName",
]
