"""Building the gold rollups for a time range, and finding the hours whose rollups are stale.

Each grain's build reads only its time range: hourly rows from silver/metrics, the messages of
every conversation tier and silver/system_events; daily rows from hourly rows; monthly rows from
daily rows. It replaces exactly that range of its tables in one commit each, so building a range
again changes nothing.

Retention deletes a tier's source only once the tier holds it (`lib/retention.py`), and logs up
to where. Nothing here ever judges or rebuilds a bucket before that boundary: its source is gone
by design, and rebuilding it from what is left would lose it (the trap of aggregates refreshed
over dropped raw data).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from seneca_assets.lib import rollups as R
from seneca_assets.lib import sketch as S
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.lake import Lake, time_literal
from seneca_assets.lib.model.tables import MESSAGES, METRICS, SYSTEM_EVENTS
from seneca_assets.lib.retention_log import retained_since
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.tier_tables import TIER_TABLES

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
    messages = pl.concat(
        [
            lake.scan(spec)
            .filter(_within("event_time", start, end))
            .select("event_time", "kind", "agent_id", "intent", "sender")
            for _, spec in TIER_TABLES.values()
            if spec is MESSAGES or lake.exists(spec)
        ]
    )
    calls = (
        lake.scan(SYSTEM_EVENTS)
        .filter(_within("event_time", start, end) & (pl.col("event_type") == "tool_call"))
        .select("event_time", "stream", "event_type", "actor", "success", "result_success")
    )
    return points, messages, calls


def build_range(lake: Lake, grain: str, start: datetime, end: datetime) -> dict[str, int]:
    """Build the `grain` rollups of [start, end) and replace that range of their tables.

    The range is cut, per table, to start at the boundary retention deleted the table or its
    source up to (`judged_from`): nothing before it is rebuilt. Returns the rows written per
    table.
    """
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
    for table, rows in zip(TIERS[grain], (metrics, activity), strict=True):
        since = max(start, judged_from(lake, grain, table))
        kept = rows.filter(pl.col("bucket") >= since)
        if since < end:
            _replace(lake, table, kept, since, end)
        written[table.name] = kept.height if since < end else 0
    return written


def judged_from(lake: Lake, grain: str, table: TableSpec) -> datetime:
    """The first time a rollup table's buckets may be judged or rebuilt from their source.

    The later of the boundaries retention deleted the table and its source up to (for hourly
    metrics, the raw points; the hourly activity's sources outlive it, as validated).
    """
    sources = [table.name]
    if grain == "hourly" and table is TIERS["hourly"][0]:
        sources.append(METRICS.name)
    elif grain != "hourly":
        sources.append(TIERS[FINER[grain]][TIERS[grain].index(table)].name)
    bounds = [b for b in (retained_since(lake, name) for name in sources) if b is not None]
    return max(bounds, default=EARLIEST)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


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
    Hours before the boundary retention deleted their source or rollup up to are not judged.
    """
    metrics_table, activity_table = TIERS["hourly"]
    start = judged_from(lake, "hourly", metrics_table)
    points = _silver(lake, start, before)[0]
    judged = pl.col("bucket").is_between(start, before, closed="left")
    stale_metrics = R.stale_buckets(points, lake.scan(metrics_table).filter(judged), "1h")
    start = judged_from(lake, "hourly", activity_table)
    _, messages, calls = _silver(lake, start, before)
    judged = pl.col("bucket").is_between(start, before, closed="left")
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
    table = TIERS[grain][0]
    return _unsummed(lake, grain, table, judged_from(lake, grain, table)).height


def unsettled(lake: Lake, grain: str, before: datetime) -> list[datetime]:
    """The daily (monthly) buckets before `before` that do not yet hold their hours (days).

    A bucket is unsettled when its metrics or activity are missing for a series or an agent
    its finer rows have, or do not sum them: the finer rows of that bucket must stay.
    """
    out: set[datetime] = set()
    for table in TIERS[grain]:
        wrong = _unsummed(lake, grain, table, judged_from(lake, grain, table), missing=True)
        out |= {b for b in wrong.get_column("bucket").to_list() if b < before}
    return sorted(out)


def _unsummed(
    lake: Lake, grain: str, table: TableSpec, since: datetime, missing: bool = False
) -> pl.DataFrame:
    """The rows of `table` from `since` whose count is not their finer rows' sum.

    With `missing`, also the finer rows' groups the table has no row for (as its buckets).
    """
    finer = TIERS[FINER[grain]][TIERS[grain].index(table)]
    keys = list(R.SERIES) if table is TIERS[grain][0] else ["agent_id", "kind"]
    every = R.GRAINS[grain]
    summed = (
        lake.scan(finer)
        .group_by(pl.col("bucket").dt.truncate(every), *keys)
        .agg(expected=pl.col("count").sum())
    )
    stored = lake.scan(table).select("bucket", *keys, "count")
    checked = stored.join(
        summed,
        on=["bucket", *keys],
        how="full" if missing else "left",
        coalesce=True,
        nulls_equal=True,
    )
    wrong = checked.filter(
        (pl.col("bucket") >= since) & pl.col("count").ne_missing(pl.col("expected"))
    )
    return wrong.select("bucket").collect()


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
  AND bucket >= $since::TIMESTAMP
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
    since = judged_from(lake, grain, table).replace(tzinfo=None)
    row = con.execute(_ACTIVITY_UNSUMMED, {"unit": unit, "since": since}).fetchone()
    return int(row[0]) if row else 0
