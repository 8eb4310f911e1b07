"""Rollups of metric series into hourly, daily and monthly buckets, each tier from the one below.

A rollup row holds one series (`name`, `tags`) in one bucket with statistics that merge exactly:
`count`, `sum`, `min`, `max`, `mean`, the sum of squared deviations `m2` (combined with Chan's
formula, so variance stays right across tiers), the `first` and `last` values with their times,
and a quantile sketch (`lib.sketch`) from which p50, p90, p95 and p99 are read within 1%.
Hourly rows come from raw points; daily rows only from hourly rows and monthly rows only from
daily rows, so each tier outlives the raw data and the tier below it.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib import sketch as S

SERIES = ("name", "tags")
"""The columns that identify a series."""
PERCENTILES = (0.5, 0.9, 0.95, 0.99)
GRAINS = {"hourly": "1h", "daily": "1d", "monthly": "1mo"}
"""Each tier's bucket width, as a Polars duration; buckets start at UTC boundaries."""


def _numbered(frame: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """`frame` with an integer `series` number in place of its name and tags, and the numbers.

    Grouping and sorting by one integer is much cheaper than by two strings.
    """
    numbers = (
        frame.select(*SERIES)
        .unique()
        .sort(*SERIES)
        .with_row_index("series")
        .with_columns(pl.col("series").cast(pl.Int64))
    )
    return frame.join(numbers, on=list(SERIES)).drop(*SERIES), numbers


_SERIES_BITS = 22
_BIN_BITS = 19
_BIN_SHIFT = 1 << (_BIN_BITS - 1)


def _group(bucket: pl.Expr) -> pl.Expr:
    """One integer per bucket and series: the bucket's hour since the epoch, then the series.

    Grouping by one integer is much cheaper than by a time and a number.
    """
    hours = bucket.dt.epoch("s") // 3600
    return (hours * (1 << _SERIES_BITS) + pl.col("series")).alias("group")


def _ungroup(group: pl.Expr) -> list[pl.Expr]:
    """`bucket` and `series` back from a `_group` integer."""
    return [
        pl.from_epoch((group // (1 << _SERIES_BITS)) * 3600, time_unit="s")
        .dt.cast_time_unit("us")
        .dt.replace_time_zone("UTC")
        .alias("bucket"),
        (group % (1 << _SERIES_BITS)).alias("series"),
    ]


def _bin_counts(frame: pl.LazyFrame, value: str) -> pl.LazyFrame:
    """Sorted bin counts per bucket and series (`S.counts`), grouped by one integer."""
    key = pl.col("group") * (1 << _BIN_BITS) + (S.bins(pl.col(value)) + _BIN_SHIFT)
    return (
        frame.select(key=key)
        .drop_nulls("key")
        .group_by("key")
        .agg(count=pl.len().cast(pl.Int64))
        .sort("key")
        .select(
            *_ungroup(pl.col("key") // (1 << _BIN_BITS)),
            bin=(pl.col("key") % (1 << _BIN_BITS) - _BIN_SHIFT).cast(pl.Int32),
            count="count",
        )
    )


def from_points(points: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll raw points (`timestamp`, `name`, `tags`, `value`, `unit`) into buckets of `every`.

    Points without a value are left out of the statistics. Sums follow the points' order as
    read, so the same points give the same rollup.
    """
    valued = (
        points.lazy()
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .with_columns(bucket=pl.col("timestamp").dt.truncate(every))
    )
    valued, numbers = _numbered(valued)
    valued = valued.with_columns(_group(pl.col("bucket"))).collect().lazy()
    value, earliest = pl.col("value"), pl.col("timestamp")
    means = valued.group_by("group").agg(_mean=value.mean())
    stats = (
        valued.join(means, on="group")
        .group_by("group")
        .agg(
            count=pl.len().cast(pl.Int64),
            sum=value.sum(),
            min=value.min(),
            max=value.max(),
            m2=((value - pl.col("_mean")) ** 2).sum(),
            first=value.get(earliest.arg_min()),
            last=value.get(earliest.arg_max()),
            first_at=earliest.min(),
            last_at=earliest.max(),
            unit=pl.col("unit").drop_nulls().first(),
        )
        .with_columns(_ungroup(pl.col("group")))
        .drop("group")
    )
    counted = _bin_counts(valued, "value").collect().lazy()
    return _finish(stats, counted, numbers)


def from_tier(rows: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll rows of a finer tier into buckets of `every`, merging their statistics exactly."""
    finer, numbers = _numbered(rows.lazy().with_columns(coarse=pl.col("bucket").dt.truncate(every)))
    keys = ["coarse", "series"]
    finer = finer.sort([*keys, "bucket"]).collect().lazy()  # the same sums on every rebuild
    count, mean = pl.col("count"), pl.col("sum") / pl.col("count")
    total = count.sum()
    overall = pl.col("sum").sum() / total
    stats = finer.group_by(keys).agg(
        count=total,
        sum=pl.col("sum").sum(),
        min=pl.col("min").min(),
        max=pl.col("max").max(),
        # Chan et al.: the squared deviations of the parts plus those of their means.
        m2=pl.col("m2").sum() + (count * (mean - overall) ** 2).sum(),
        first=pl.col("first").sort_by("first_at").first(),
        last=pl.col("last").sort_by("last_at").last(),
        first_at=pl.col("first_at").min(),
        last_at=pl.col("last_at").max(),
        unit=pl.col("unit").drop_nulls().first(),
    )
    counted = S.merged_counts(finer, keys).collect().lazy()
    rename = {"coarse": "bucket"}
    return _finish(stats.rename(rename), counted.rename(rename), numbers)


def _finish(stats: pl.LazyFrame, counted: pl.LazyFrame, numbers: pl.LazyFrame) -> pl.DataFrame:
    """Add the mean, the sketch and the percentiles read from it; name the series; order."""
    keys = ["bucket", "series"]
    return (
        stats.with_columns(mean=pl.col("sum") / pl.col("count"))
        .join(S.pack(counted, keys), on=keys, how="left")
        .join(S.quantiles_of_counts(counted, keys, PERCENTILES), on=keys, how="left")
        .join(numbers, on="series")
        .drop("series")
        .sort("bucket", *SERIES)
        .select(_COLUMNS)
        .collect()
    )


_COLUMNS = [
    "bucket", *SERIES, "unit", "count", "sum", "min", "max", "mean", "m2", "first", "last",
    "first_at", "last_at", "sketch", *(S._name(q) for q in PERCENTILES),
]  # fmt: skip
"""The column order of rollup rows (that of the gold tables)."""


def variance(rows: pl.DataFrame) -> pl.Series:
    """The sample variance of each row's series in its bucket (null for a single point)."""
    return rows.select(
        pl.when(pl.col("count") > 1).then(pl.col("m2") / (pl.col("count") - 1))
    ).to_series()


ACTIVITY_KINDS = (
    "messages",
    "tasks_assigned",
    "tasks_completed",
    "blockers",
    "tool_calls",
    "tool_errors",
    "active_minutes",
)
"""What the activity rollups count per agent and bucket."""


def activity_from_silver(
    messages: pl.DataFrame | pl.LazyFrame,
    system_events: pl.DataFrame | pl.LazyFrame,
    every: str,
) -> pl.DataFrame:
    """Count each agent's activity per bucket and kind, from silver messages and system events.

    Rows are `bucket`, `agent_id`, `kind` (one of ACTIVITY_KINDS) and `count`. An agent's
    messages are the worker communications it sent; its tool calls (and tool errors: an
    exception, or a result that said it failed) are the audit records it made; its active
    minutes are the distinct minutes with any of these.
    """
    said = (
        messages.lazy()
        .filter((pl.col("kind") == "worker_communication") & pl.col("agent_id").is_not_null())
        .select("event_time", "agent_id", "intent", "sender")
    )
    calls = (
        system_events.lazy()
        .filter(
            (pl.col("stream") == "audit")
            & (pl.col("event_type") == "tool_call")
            & pl.col("actor").is_not_null()
        )
        .select(
            "event_time",
            agent_id="actor",
            failed=(~pl.col("success").fill_null(True)) | ~pl.col("result_success").fill_null(True),
        )
    )
    bucket = pl.col("event_time").dt.truncate(every).alias("bucket")
    counted = [
        said.filter(pl.col("sender") == pl.col("agent_id")).select(
            bucket, "agent_id", kind=pl.lit("messages")
        ),
        said.filter(pl.col("intent") == "assignment").select(
            bucket, "agent_id", kind=pl.lit("tasks_assigned")
        ),
        said.filter(pl.col("intent") == "completion").select(
            bucket, "agent_id", kind=pl.lit("tasks_completed")
        ),
        said.filter(pl.col("intent") == "blocker").select(
            bucket, "agent_id", kind=pl.lit("blockers")
        ),
        calls.select(bucket, "agent_id", kind=pl.lit("tool_calls")),
        calls.filter("failed").select(bucket, "agent_id", kind=pl.lit("tool_errors")),
    ]
    events = (
        pl.concat(counted).group_by("bucket", "agent_id", "kind").agg(count=pl.len().cast(pl.Int64))
    )
    minutes = (
        pl.concat(
            [
                said.filter(pl.col("sender") == pl.col("agent_id")).select(
                    "event_time", "agent_id"
                ),
                calls.select("event_time", "agent_id"),
            ]
        )
        .select(bucket, "agent_id", minute=pl.col("event_time").dt.truncate("1m"))
        .group_by("bucket", "agent_id")
        .agg(count=pl.col("minute").n_unique().cast(pl.Int64))
        .with_columns(kind=pl.lit("active_minutes"))
    )
    return (
        pl.concat([events, minutes.select("bucket", "agent_id", "kind", "count")])
        .sort("bucket", "agent_id", "kind")
        .collect()
    )


def activity_from_tier(rows: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll activity rows of a finer tier into buckets of `every` (counts add up)."""
    return (
        rows.lazy()
        .group_by(pl.col("bucket").dt.truncate(every), "agent_id", "kind")
        .agg(count=pl.col("count").sum())
        .sort("bucket", "agent_id", "kind")
        .collect()
    )


def stale_buckets(
    points: pl.DataFrame | pl.LazyFrame, rows: pl.DataFrame | pl.LazyFrame, every: str
) -> pl.Series:
    """The buckets whose raw points no longer agree with their rollup rows.

    Each bucket is fingerprinted by its number of valued points and the sum of their values, on
    both sides: a bucket is stale when a point was added, removed or changed since it was rolled
    up, or when it has points but no rollup (and the other way round).
    """
    raw = (
        points.lazy()
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .group_by(bucket=pl.col("timestamp").dt.truncate(every))
        .agg(raw_count=pl.len().cast(pl.Int64), raw_sum=pl.col("value").sum())
    )
    rolled = (
        rows.lazy()
        .group_by("bucket")
        .agg(rolled_count=pl.col("count").sum(), rolled_sum=pl.col("sum").sum())
    )
    both = raw.join(rolled, on="bucket", how="full", coalesce=True)
    differs = (pl.col("raw_count").fill_null(0) != pl.col("rolled_count").fill_null(0)) | (
        (pl.col("raw_sum").fill_null(0.0) - pl.col("rolled_sum").fill_null(0.0)).abs()
        > 1e-9 * pl.max_horizontal(pl.col("raw_sum").abs(), pl.col("rolled_sum").abs(), pl.lit(1.0))
    )
    return both.filter(differs).select("bucket").sort("bucket").collect().to_series()
