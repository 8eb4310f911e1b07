"""Anomalies in hourly series: a robust seasonal decomposition, then residuals judged by MAD.

The expected value of a bucket is its series' level plus its daily shape and weekday offset
(`seasonal.decompose`). A bucket is anomalous when its residual is more than THRESHOLD robust
standard deviations of the noise from the expected value, or when it sits in a burst of
variance: the robust spread of the BURST_HOURS around it is more than BURST_SPREAD of them.

The noise's standard deviation is the largest of:
- 1.4826 / sqrt(2) times the median absolute difference between successive values without
  their shape (the level cancels out, and so does the shape's fit to each hour's own days);
- 1.4826 times the median absolute deviation of the residuals (successive differences see
  too little of autocorrelated noise);
- RESOLUTION of the series' median magnitude (a ratio pinned near 1 would judge its every
  wobble);
and, when the shape is the median of a few days, it is widened by sqrt(D / (D - 1)) for the
D days it was learned from, since each hour's residual then shares in its own shape.
The decomposition is refined (`decompose(refine=True)`): the shape is learned again from the
values less the rolling level rather than less each day's median, so that a level shift of a
few hours, which moves its day's median, does not bend the shape of every hour of that day
(3-day F1 on the tuning seeds 0.71 to 0.79, level shifts 0.76 to 0.87).
Medians throughout, so the anomalies themselves do not bend what is expected.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.analytics.seasonal import SERIES, decompose
from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES

THRESHOLD = 3.5
"""Robust standard deviations from the expected value that make a bucket anomalous."""
RESOLUTION = 0.01
"""The smallest noise scale, relative to the series' median magnitude: a change of 1% of a
value is not told apart from noise, however quiet the series."""
BURST_HOURS = 7
"""Hours (centred) whose robust spread is judged for a burst of variance."""
BURST_SPREAD = 3.0
"""Robust standard deviations of the noise beyond which that spread is a burst."""
_MAD_SCALE = 1.4826


def metric_anomalies(hourly: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/metric_anomalies rows from hourly rollup rows (`bucket`, `name`, `tags`, `mean`)."""
    series = list(SERIES)
    deseasoned = pl.col("value") - pl.col("shape") - pl.col("week")
    residual_mad = (pl.col("residual") - pl.col("residual").median()).abs().median()
    spread = _MAD_SCALE * pl.col("residual").abs().rolling_median(
        BURST_HOURS, center=True, min_samples=BURST_HOURS
    )
    judged = (
        decompose(hourly, now, refine=True)
        .with_columns(
            step=deseasoned.diff().abs().over(series),
            spread=spread.over(series),
        )
        .with_columns(
            scale=pl.max_horizontal(
                _MAD_SCALE / math.sqrt(2) * pl.col("step").median().over(series),
                _MAD_SCALE * residual_mad.over(series),
                RESOLUTION * pl.col("value").abs().median().over(series),
            ).fill_null(0.0)  # a lone bucket has no difference
            * pl.when(pl.col("seasonal_ok"))
            .then((pl.col("turns") / (pl.col("turns") - 1)).sqrt())
            .otherwise(1.0)
        )
        .with_columns(
            score=pl.when(pl.col("scale") > 0)
            .then(pl.col("residual") / pl.col("scale"))
            .when(pl.col("residual") == 0)
            .then(0.0)
            .otherwise(pl.col("residual").sign() * float("inf")),
            burst=(pl.col("spread") > BURST_SPREAD * pl.col("scale")).fill_null(False),
        )
        .with_columns(is_anomaly=(pl.col("score").abs() > THRESHOLD) | pl.col("burst"))
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
            .when(pl.col("score").abs() <= THRESHOLD)
            .then(
                pl.format(
                    "variance burst: the {} hours around it spread {} robust sds",
                    pl.lit(BURST_HOURS),
                    (pl.col("spread") / pl.col("scale")).round(1),
                )
            )
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
        strongest = recent.sort(pl.col("score").abs(), descending=True).head(top)
        lines += markdown_table(
            ["metric", "tags", "hour", "value", "expected", "score"],
            (
                (r["name"], r["tags"], f"{r['bucket']:%Y-%m-%d %H:00}", f"{r['value']:.4g}",
                 f"{r['expected']:.4g}", f"{r['score']:+.1f}")
                for r in strongest.iter_rows(named=True)
            ),
        )  # fmt: skip
    return "\n".join(lines)
