"""Anomalies in hourly series: a robust seasonal decomposition, then residuals judged by MAD.

For each series, the daily shape is the median, per hour of day, of each bucket's difference
from its day's median (from three days of history; with less, no shape is assumed); the level
is a centred rolling median, over a day of buckets, of the values with the shape taken out; the
expected value is their sum. A bucket is anomalous
when its residual is more than THRESHOLD robust standard deviations of the noise from the
expected value; that sd is 1.4826 / sqrt(2) times the median absolute difference between
successive values without their daily shape. Medians throughout, so
the anomalies themselves do not bend what is expected.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES

THRESHOLD = 3.5
"""Robust standard deviations from the expected value that make a bucket anomalous."""
WINDOW = 25
"""Buckets in the rolling median of the level: a day, centred."""
SEASONAL_DAYS = 3
"""Days of history from which the daily shape is used."""
HISTORY_DAYS = 28
"""Days of hourly buckets judged (and learned from) at each run."""
_MAD_SCALE = 1.4826


def metric_anomalies(hourly: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/metric_anomalies rows from hourly rollup rows (`bucket`, `name`, `tags`, `mean`)."""
    series = ["name", "tags"]
    rows = (
        hourly.lazy()
        .filter(pl.col("bucket") >= now - timedelta(days=HISTORY_DAYS))
        .filter(pl.col("mean").is_finite())
        .sort(*series, "bucket")
        .select(*series, "bucket", value="mean")
    )
    span_hours = (pl.col("bucket").max() - pl.col("bucket").min()).dt.total_hours().over(series)
    # Window expressions are not nested: each step is its own column.
    day_median = pl.col("value").median().over(*series, pl.col("bucket").dt.date())
    by_hour = pl.col("from_day").median().over(*series, pl.col("bucket").dt.hour())
    level = (
        (pl.col("value") - pl.col("shape"))
        .rolling_median(WINDOW, center=True, min_samples=1)
        .over(series)
    )
    judged = (
        rows.with_columns(seasonal_ok=span_hours >= SEASONAL_DAYS * 24 - 1, day=day_median)
        .with_columns(from_day=pl.col("value") - pl.col("day"))
        .with_columns(shape=pl.when("seasonal_ok").then(by_hour).otherwise(0.0))
        .with_columns(level=level)
        .with_columns(expected=pl.col("level") + pl.col("shape"))
        .with_columns(residual=pl.col("value") - pl.col("expected"))
        # The noise's scale from successive differences of the values without their daily
        # shape: the level cancels out, and so does the shape's fit to each hour's own days,
        # which makes residuals too small when the shape is the median of a few days.
        .with_columns(step=(pl.col("value") - pl.col("shape")).diff().abs().over(series))
        .with_columns(scale=_MAD_SCALE / math.sqrt(2) * pl.col("step").median().over(series))
        .with_columns(
            score=pl.when(pl.col("scale") > 0)
            .then(pl.col("residual") / pl.col("scale"))
            .when(pl.col("residual") == 0)
            .then(0.0)
            .otherwise(pl.col("residual").sign() * float("inf"))
        )
        .with_columns(is_anomaly=pl.col("score").abs() > THRESHOLD)
    )
    return (
        judged.select(
            *series,
            "bucket",
            "value",
            "expected",
            lower=pl.col("expected") - THRESHOLD * pl.col("scale"),
            upper=pl.col("expected") + THRESHOLD * pl.col("scale"),
            score=pl.col("score"),
            is_anomaly="is_anomaly",
            method=pl.when("seasonal_ok").then(pl.lit("seasonal-mad")).otherwise(pl.lit("mad")),
            reason=pl.when(~pl.col("is_anomaly"))
            .then(None)
            .otherwise(
                pl.format(
                    "{} robust sds {} expected {}",
                    pl.col("score").abs().round(1),
                    pl.when(pl.col("score") > 0).then(pl.lit("above")).otherwise(pl.lit("below")),
                    pl.col("expected").round(3),
                )
            ),
            computed_at=pl.lit(now, pl.Datetime("us", "UTC")),
        )
        .collect()
        .cast(METRIC_ANOMALIES.schema)
    )


def summary(table: pl.DataFrame, now: datetime, top: int = 10) -> str:
    """Markdown for people: anomalies of the last day, the strongest first."""
    recent = table.filter(pl.col("is_anomaly") & (pl.col("bucket") >= now - timedelta(days=1)))
    lines = [
        f"{table.filter('is_anomaly').height:,} anomalous hours in {table.height:,} judged; "
        f"{recent.height:,} in the last day.",
    ]
    if recent.height:
        lines += [
            "",
            "| metric | tags | hour | value | expected | score |",
            "|---|---|---|---|---|---|",
        ]
        for row in (
            recent.sort(pl.col("score").abs(), descending=True).head(top).iter_rows(named=True)
        ):
            lines.append(
                f"| {row['name']} | {row['tags']} | {row['bucket']:%Y-%m-%d %H:00} | "
                f"{row['value']:.4g} | {row['expected']:.4g} | {row['score']:+.1f} |"
            )
    return "\n".join(lines)
