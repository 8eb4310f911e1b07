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


def from_points(points: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll raw points (`timestamp`, `name`, `tags`, `value`, `unit`) into buckets of `every`.

    Points without a value are left out of the statistics.
    """
    valued = (
        points.lazy()
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .with_columns(bucket=pl.col("timestamp").dt.truncate(every))
    )
    keys = ["bucket", *SERIES]
    value = pl.col("value")
    stats = valued.group_by(keys).agg(
        count=pl.len().cast(pl.Int64),
        sum=value.sum(),
        min=value.min(),
        max=value.max(),
        m2=((value - value.mean()) ** 2).sum(),
        first=value.sort_by("timestamp").first(),
        last=value.sort_by("timestamp").last(),
        first_at=pl.col("timestamp").min(),
        last_at=pl.col("timestamp").max(),
        unit=pl.col("unit").drop_nulls().first(),
    )
    sketches = S.sketch(valued, keys, "value")
    return _finish(stats.join(sketches, on=keys, how="left"), keys)


def from_tier(rows: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll rows of a finer tier into buckets of `every`, merging their statistics exactly."""
    finer = rows.lazy().with_columns(coarse=pl.col("bucket").dt.truncate(every))
    keys = ["coarse", *SERIES]
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
    sketches = S.merge(finer, keys)
    merged = stats.join(sketches, on=keys, how="left").rename({"coarse": "bucket"})
    return _finish(merged, ["bucket", *SERIES])


def _finish(frame: pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
    """Add the mean and the percentiles read from the sketch; order the rows."""
    percentiles = S.quantiles(frame.select(*keys, "sketch"), keys, PERCENTILES)
    return (
        frame.with_columns(mean=pl.col("sum") / pl.col("count"))
        .join(percentiles, on=keys, how="left")
        .sort(keys)
        .collect()
    )


def variance(rows: pl.DataFrame) -> pl.Series:
    """The sample variance of each row's series in its bucket (null for a single point)."""
    return rows.select(
        pl.when(pl.col("count") > 1).then(pl.col("m2") / (pl.col("count") - 1))
    ).to_series()
