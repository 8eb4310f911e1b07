"""Metric series at a resolution: raw points, or rollup rows merged across tag sets.

`auto` picks the finest resolution whose span limit covers the range, whose table still holds
the range's start (raw points and fine tiers are dropped by retention before coarse ones), and
whose answer fits in the result limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib import rollups as R
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.query.errors import QueryError, ResultTooLarge
from seneca_assets.lib.schemas import TableSpec

RESOLUTIONS = ("raw", "hourly", "daily", "monthly")
"""From the finest to the coarsest."""
SPAN_LIMITS = {
    "raw": timedelta(days=2),
    "hourly": timedelta(days=90),
    "daily": timedelta(days=1826),
}
"""The longest range `auto` reads at each resolution (monthly has no limit)."""
AGGREGATES = (
    "count", "sum", "min", "max", "mean", "variance", "first", "last", "p50", "p90", "p95", "p99",
)  # fmt: skip
DEFAULT_AGGREGATES = ("count", "mean", "min", "max", "p50", "p95", "p99")


def table_of(resolution: str) -> TableSpec:
    """The table a resolution reads."""
    return METRICS if resolution == "raw" else TIERS[resolution][0]


def time_column(resolution: str) -> str:
    """The time column of a resolution's table."""
    return "timestamp" if resolution == "raw" else "bucket"


@dataclass(frozen=True)
class MetricQuery:
    """One metric over [start, end), for tag sets that include `tags`."""

    name: str
    start: datetime
    end: datetime
    tags: tuple[tuple[str, str], ...] = ()
    aggregates: tuple[str, ...] = DEFAULT_AGGREGATES
    by_tags: bool = False

    def __post_init__(self) -> None:
        unknown = [a for a in self.aggregates if a not in AGGREGATES]
        if unknown or not self.aggregates:
            given = unknown or "(none given)"
            raise QueryError(f"unknown aggregate(s) {given}: choose from {', '.join(AGGREGATES)}")


def candidates(
    query: MetricQuery, resolution: str, earliest: Mapping[str, datetime | None]
) -> list[str]:
    """The resolutions to try in order: the one asked for, or those `auto` may use.

    `earliest` is the first time each resolution's table holds (None when it is empty).
    """
    if resolution != "auto":
        if resolution not in RESOLUTIONS:
            raise QueryError(
                f"unknown resolution {resolution!r}: choose auto or one of {RESOLUTIONS}"
            )
        return [resolution]
    span = query.end - query.start
    fitting = []
    for tier in RESOLUTIONS:
        limit = SPAN_LIMITS.get(tier)
        if limit is not None and span > limit:
            continue
        if _dropped_before(tier, query.start, earliest):
            continue
        fitting.append(tier)
    return fitting or ["monthly"]


def _dropped_before(tier: str, start: datetime, earliest: Mapping[str, datetime | None]) -> bool:
    """True if `tier` has lost data after `start` that a coarser tier still holds.

    That is, a coarser tier has a bucket earlier than the bucket of that grain holding the
    tier's first time, and the tier's first time is after `start`.
    """
    first = earliest.get(tier)
    if first is None or first <= start:
        return False
    coarser = RESOLUTIONS[RESOLUTIONS.index(tier) + 1 :]
    return any(
        (held := earliest.get(other)) is not None and held < _truncate(first, other)
        for other in coarser
    )


def _truncate(moment: datetime, resolution: str) -> datetime:
    """The start of the bucket of `resolution` holding `moment` (UTC)."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    if resolution == "hourly":
        return hour
    day = hour.replace(hour=0)
    return day if resolution == "daily" else day.replace(day=1)


def rows(
    query: MetricQuery,
    resolution: str,
    scan: Callable[[TableSpec], pl.LazyFrame],
    collect: Callable[[pl.LazyFrame], pl.DataFrame],
    max_rows: int,
) -> pl.DataFrame | None:
    """The answer at one resolution, or None if it has more than `max_rows` rows."""
    column = time_column(resolution)
    wanted = (
        (pl.col("name") == query.name)
        & (pl.col(column) >= query.start)
        & (pl.col(column) < query.end)
    )
    frame = scan(table_of(resolution)).filter(wanted)
    if query.tags:
        tag_sets = collect(frame.select("tags").unique()).get_column("tags").to_list()
        frame = frame.filter(pl.col("tags").is_in(matching(tag_sets, query.tags)))
    if resolution == "raw":
        found = collect(frame.select("timestamp", "tags", "value").head(max_rows + 1))
        if found.height > max_rows:
            return None
        return _from_points(found, query).with_columns(resolution=pl.lit(resolution))
    found = collect(frame)
    if not query.by_tags:
        every = R.GRAINS[resolution]
        found = R.from_tier(found.with_columns(tags=pl.lit("*")), every)
    if found.height > max_rows:
        return None
    return _from_rollups(found, query).with_columns(resolution=pl.lit(resolution))


def answer(
    query: MetricQuery,
    tiers: Sequence[str],
    scan: Callable[[TableSpec], pl.LazyFrame],
    collect: Callable[[pl.LazyFrame], pl.DataFrame],
    max_rows: int,
) -> pl.DataFrame:
    """The answer at the first of `tiers` that fits in `max_rows`; ResultTooLarge if none."""
    for tier in tiers:
        found = rows(query, tier, scan, collect, max_rows)
        if found is not None:
            return found
    raise ResultTooLarge(
        f"{query.name} over {query.start:%Y-%m-%d %H:%M} to {query.end:%Y-%m-%d %H:%M} has more "
        f"than {max_rows:,} rows at {' or '.join(tiers)}: narrow the range or the tags, choose a "
        "coarser resolution, or raise max_result_size"
    )


def matching(tag_sets: Sequence[str], wanted: Sequence[tuple[str, str]]) -> list[str]:
    """The tag sets (JSON text) holding every wanted key with its value (compared as text)."""
    chosen = []
    for text in tag_sets:
        try:
            tags = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(tags, dict) and all(
            key in tags and _text(tags[key]) == value for key, value in wanted
        ):
            chosen.append(text)
    return chosen


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _from_points(points: pl.DataFrame, query: MetricQuery) -> pl.DataFrame:
    """Raw points as rows of one value each (their percentiles are the value itself)."""
    value = pl.col("value")
    each = {a: value for a in AGGREGATES} | {
        "count": pl.lit(1, pl.Int64),
        "variance": pl.lit(None, pl.Float64),
    }
    keys = ["tags"] if query.by_tags else []
    return points.sort("timestamp", "tags").select(
        pl.col("timestamp").alias("time"), *keys, *(each[a].alias(a) for a in query.aggregates)
    )


def _from_rollups(found: pl.DataFrame, query: MetricQuery) -> pl.DataFrame:
    """Rollup rows with the asked aggregates."""
    each = {a: pl.col(a) for a in AGGREGATES} | {
        "variance": pl.when(pl.col("count") > 1).then(pl.col("m2") / (pl.col("count") - 1)),
    }
    keys = ["tags"] if query.by_tags else []
    return found.sort("bucket", "tags").select(
        pl.col("bucket").alias("time"), *keys, *(each[a].alias(a) for a in query.aggregates)
    )
