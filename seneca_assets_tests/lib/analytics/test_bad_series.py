"""Every bad series the issue names, through every series analysis: each gives a clear
"insufficient data" row or a valid result, never an exception, and no series is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.analytics.forecasts import metric_forecasts
from seneca_assets.lib.analytics.seasonal import metric_seasonality
from seneca_assets.lib.analytics.tables import (
    METRIC_ANOMALIES,
    METRIC_FORECASTS,
    METRIC_SEASONALITY,
    METRIC_TRENDS,
)
from seneca_assets.lib.analytics.trends import metric_trends

START = datetime(2026, 9, 1, tzinfo=UTC)
HOURS = 40 * 24
_cycle = 10 + 3 * np.sin(2 * np.pi * np.arange(HOURS) / 24)
_outliers = _cycle.copy()
_outliers[::97] = 1e12
_gaps = _cycle.copy()
_gaps[24 * 5 : 24 * 12] = np.nan  # a week missing
_gaps[24 * 20 :: 3] = np.nan  # then every third hour

BAD = {
    "constant": np.full(HOURS, 7.0),
    "all missing": np.full(HOURS, np.nan),
    "a single point": np.array([3.0]),
    "shorter than two seasons": _cycle[:30],
    "with gaps": _gaps,
    "with huge outliers": _outliers,
    "negative": -_cycle - 100,
    "infinite": np.where(np.arange(HOURS) % 50 == 0, np.inf, _cycle),
}


def _rows(values: np.ndarray, step: timedelta) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "bucket": [START + k * step for k in range(values.size)],
            "name": "m",
            "tags": "{}",
            "mean": values,
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )


@pytest.mark.parametrize("case", list(BAD))
def test_each_analysis_gives_a_row_or_a_valid_result(case: str):
    values = BAD[case]
    hourly, daily = _rows(values, timedelta(hours=1)), _rows(values, timedelta(days=1))
    now = START + timedelta(days=max(values.size, 1) + 1)
    # Judged as of just after the hourly series (anomalies and forecasts look back 28 days).
    hourly_now = START + timedelta(hours=values.size)
    finite = bool(np.isfinite(values).any())

    trends = pl.concat(
        [metric_trends({"hourly": hourly}, hourly_now), metric_trends({"daily": daily}, now)]
    )
    METRIC_TRENDS.model.validate(trends)
    assert trends.height == 2  # one per resolution, if only to say why not
    unjudged = trends.filter(pl.col("status") == "insufficient data")
    assert unjudged.get_column("reason").is_not_null().all()

    seasonality = metric_seasonality(hourly, hourly_now)
    METRIC_SEASONALITY.model.validate(seasonality)
    assert seasonality.height == (1 if finite else 0)

    anomalies = metric_anomalies(hourly, hourly_now)
    METRIC_ANOMALIES.model.validate(anomalies)
    recent = hourly.filter(
        pl.col("mean").is_finite() & (pl.col("bucket") >= hourly_now - timedelta(days=28))
    )
    assert anomalies.height == recent.height

    forecasts = metric_forecasts(hourly, hourly_now, daily)
    METRIC_FORECASTS.model.validate(forecasts)
    for resolution in ("hourly", "daily"):
        rows = forecasts.filter(pl.col("resolution") == resolution)
        if rows.filter(pl.col("status") == "ok").height:
            assert rows.get_column("forecast").is_finite().all()
            assert (rows.get_column("lower_80") <= rows.get_column("upper_80")).all()
        else:
            assert rows.height <= 1
            assert rows.get_column("reason").str.contains("history").all()
