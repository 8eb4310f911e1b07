"""Building the gold rollups for a time range, and finding the hours whose rollups are stale.

Each grain's build reads only its time range: hourly rows from silver/metrics, silver/messages and
silver/system_events; daily rows from hourly rows; monthly rows from daily rows. It replaces
exactly that range of its tables in one commit each, so building a range again changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from seneca_assets.lib import rollups as R
from seneca_assets.lib import sketch as S
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.lake import Lake, time_literal
from seneca_assets.lib.model.tables import MESSAGES, METRICS, SYSTEM_EVENTS
from seneca_assets.lib.retention_log import retained_since
from seneca_assets.lib.schemas import TableSpec

FINER = {"daily": "hourly", "monthly": "daily"}
"""The tier each coarser tier is built from."""


def _within(column: str, start: datetime, end: datetime) -> pl.Expr:
    return (pl.col(column) >= start) & (pl.col(column) < end)


def _silver(lake: Lake, start: datetime, end: datetime) -> tuple[pl.LazyFrame, ...]:
    """The silver rows the hourly rollups read, between `start` and `end`."""
    points = (
        lake.scan(METRICS)
        .filter(_within("timestamp", start, end))
        .select("timestamp", "name", "tags", "value", "unit")
    )
    messages = (
        lake.scan(MESSAGES)
        .filter(_within("event_time", start, end))
        .select("event_time", "kind", "agent_id", "intent", "sender")
    )
    calls = (
        lake.scan(SYSTEM_EVENTS)
        .filter(_within("event_time", start, end) & (pl.col("event_type") == "tool_call"))
        .select("event_time", "stream", "event_type", "actor", "success", "result_success")
    )
    return points, messages, calls


def build_range(lake: Lake, grain: str, start: datetime, end: datetime) -> dict[str, int]:
    """Build the `grain` rollups of [start, end) and replace that range of their tables.

    Returns the rows written per table.
    """
    metrics_table, activity_table = TIERS[grain]
    every = R.GRAINS[grain]
    if grain == "hourly":
        points, messages, calls = _silver(lake, start, end)
        metrics = R.from_points(points, every)
        activity = R.activity_from_silver(messages, calls, every)
    else:
        finer_metrics, finer_activity = TIERS[FINER[grain]]
        metrics = R.from_tier(lake.scan(finer_metrics).filter(_within("bucket", start, end)), every)
        activity = R.activity_from_tier(
            lake.scan(finer_activity).filter(_within("bucket", start, end)), every
        )
    written = {}
    for table, rows in ((metrics_table, metrics), (activity_table, activity)):
        _replace(lake, table, rows, start, end)
        written[table.name] = rows.height
    return written


def _replace(
    lake: Lake, table: TableSpec, rows: pl.DataFrame, start: datetime, end: datetime
) -> None:
    """Replace the rows of [start, end) of `table` with `rows`, in one commit."""
    predicate = f"bucket >= {time_literal(start)} AND bucket < {time_literal(end)}"
    lake.write(table, rows, mode="overwrite", predicate=predicate)


def stale_hours(lake: Lake, before: datetime) -> list[datetime]:
    """The closed hours (starting before `before`) whose hourly rollups disagree with silver.

    An hour is stale when its metric points were added, changed or removed since it was rolled
    up, when its activity counts would come out differently, or when it has data but no rollup.
    Hours before the boundary retention deleted raw points up to are not judged.
    """
    metrics_table, activity_table = TIERS["hourly"]
    # Hours before the raw points' retention boundary have rollups and no points, by design.
    start = retained_since(lake, METRICS.name) or datetime.min.replace(tzinfo=before.tzinfo)
    points, messages, calls = _silver(lake, start, before)
    judged = pl.col("bucket").is_between(start, before, closed="left")
    stale_metrics = R.stale_buckets(points, lake.scan(metrics_table).filter(judged), "1h")
    fresh_activity = R.activity_from_silver(messages, calls, "1h")
    stored = lake.scan(activity_table).filter(judged).collect()
    differ = pl.concat(
        [
            fresh_activity.join(stored, on=list(stored.columns), how="anti"),
            stored.join(fresh_activity, on=list(stored.columns), how="anti"),
        ]
    ).get_column("bucket")
    hours = pl.concat([stale_metrics, differ]).unique().sort()
    return [h for h in hours.to_list() if h < before]


def contiguous(buckets: list[datetime], grain: str) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive buckets of `grain` as (first, last) pairs, in order."""
    ranges: list[tuple[datetime, datetime]] = []
    for bucket in sorted(set(buckets)):
        if ranges and _next(ranges[-1][1], grain) == bucket:
            ranges[-1] = (ranges[-1][0], bucket)
        else:
            ranges.append((bucket, bucket))
    return ranges


def _next(bucket: datetime, grain: str) -> datetime:
    return pl.select(pl.lit(bucket).dt.offset_by(R.GRAINS[grain])).item()


def unsummed(lake: Lake, grain: str) -> int:
    """Rows of a daily (monthly) rollup whose count is not the sum of its hours' (days')."""
    table, finer = TIERS[grain][0], TIERS[FINER[grain]][0]
    every = R.GRAINS[grain]
    summed = (
        lake.scan(finer)
        .group_by(pl.col("bucket").dt.truncate(every), *R.SERIES)
        .agg(expected=pl.col("count").sum())
    )
    checked = lake.scan(table).join(summed, on=["bucket", *R.SERIES], how="left")
    wrong = checked.filter(pl.col("expected").is_null() | (pl.col("count") != pl.col("expected")))
    return int(wrong.select(pl.len()).collect().item())


def percentile_errors(lake: Lake, grain: str, series: int = 10) -> list[float]:
    """How far the p95 read from rollup sketches is from the exact p95 of the raw points.

    Up to `series` of the busiest series of the latest bucket of `grain` are compared with the
    exact p95 (numpy's "lower" rank) of their raw points, while those exist; relative errors.
    """
    table = TIERS[grain][0]
    latest = lake.scan(table).select(pl.col("bucket").max()).collect().item()
    if latest is None:
        return []
    end = pl.select(pl.lit(latest).dt.offset_by(R.GRAINS[grain])).item()
    rows = (
        lake.scan(table)
        .filter((pl.col("bucket") == latest) & (pl.col("count") >= 20))
        .sort("count", descending=True)
        .head(series)
        .select(*R.SERIES, "p95")
        .collect()
    )
    points, _, _ = _silver(lake, latest, end)
    exact = (
        points.filter(pl.col("value").is_finite())
        .join(rows.lazy(), on=list(R.SERIES), how="semi")
        .group_by(*R.SERIES)
        .agg(exact=pl.col("value").sort().get((0.95 * (pl.len() - 1)).floor().cast(pl.Int64)))
        .collect()
    )
    compared = rows.join(exact, on=list(R.SERIES))
    return [
        abs(p95 - value) / abs(value) if value else abs(p95)
        for p95, value in compared.select("p95", "exact").iter_rows()
    ]


def series(
    lake: Lake,
    name: str,
    start: datetime,
    end: datetime,
    grain: str,
    tags: str | None = None,
) -> pl.DataFrame:
    """One metric's rollup rows of `grain` in [start, end), for one tag set or all of them.

    `tags` is the series' tags as stored (JSON with sorted keys); None keeps every tag set.
    """
    wanted = (pl.col("name") == name) & _within("bucket", start, end)
    if tags is not None:
        wanted &= pl.col("tags") == tags
    return lake.scan(TIERS[grain][0]).filter(wanted).sort("bucket", "tags").collect()


def merged(
    lake: Lake,
    name: str,
    start: datetime,
    end: datetime,
    grain: str,
    by: tuple[str, ...] = (),
    qs: tuple[float, ...] = R.PERCENTILES,
) -> pl.DataFrame:
    """Quantiles of one metric over [start, end), merged across buckets and tag sets.

    With `by` (e.g. `("tags",)` or `("bucket",)`), one row per group; without, one row. The
    count and the quantiles read from the merged sketch are those of all the raw points the
    rows stand for, within 1%.
    """
    rows = series(lake, name, start, end, grain).with_columns(name=pl.lit(name))
    keys = ["name", *by]
    counts = rows.group_by(keys).agg(count=pl.col("count").sum())
    sketches = S.merge(rows, keys)
    return counts.lazy().join(S.quantiles(sketches, keys, qs), on=keys).sort(keys).collect()


_ACTIVITY_UNSUMMED = """
WITH coarse AS (SELECT bucket::TIMESTAMP AS bucket, agent_id, kind, count FROM coarse_rows),
expected AS (
    SELECT date_trunc($unit, bucket::TIMESTAMP) AS bucket, agent_id, kind, sum(count) AS count
    FROM finer_rows GROUP BY ALL
)
SELECT count(*) FROM coarse c FULL JOIN expected e USING (bucket, agent_id, kind)
WHERE c.count IS DISTINCT FROM e.count AND bucket IN (SELECT bucket FROM coarse)
"""


def activity_unsummed(con: duckdb.DuckDBPyConnection, lake: Lake, grain: str) -> int:
    """Activity rows of a built day (month) that differ from the sum of its hours (days), in SQL.

    Runs on `con` (the Dagster DuckDB resource's connection) over the two tables' Delta
    versions registered through Arrow.
    """
    table, finer = TIERS[grain][1], TIERS[FINER[grain]][1]
    for name, spec in (("coarse_rows", table), ("finer_rows", finer)):
        source = (
            lake.table(spec).to_pyarrow_dataset() if lake.exists(spec) else spec.empty().to_arrow()
        )
        con.register(name, source)
    unit = {"daily": "day", "monthly": "month"}[grain]
    row = con.execute(_ACTIVITY_UNSUMMED, {"unit": unit}).fetchone()
    return int(row[0]) if row else 0
