"""Seasonal patterns: the daily and weekly shapes, the strength and the dominant period of
known series; too little history gives an "insufficient data" row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.analytics.seasonal import metric_seasonality
from seneca_assets.lib.analytics.tables import METRIC_SEASONALITY

START = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday


def _rows(series: dict[str, np.ndarray]) -> pl.DataFrame:
    hours = len(next(iter(series.values())))
    times = [START + timedelta(hours=h) for h in range(hours)]
    return pl.DataFrame(
        {
            "bucket": times * len(series),
            "name": [name for name in series for _ in range(hours)],
            "tags": "{}",
            "mean": np.concatenate(list(series.values())),
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )


@pytest.fixture(scope="module")
def patterns() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    hours = np.arange(21 * 24)
    weekend = np.array([(START + timedelta(hours=int(h))).weekday() >= 5 for h in hours])
    rows = _rows(
        {
            "daily": 100
            + 30 * np.sin(2 * np.pi * (hours % 24) / 24)
            + rng.normal(0, 4, hours.size)
            + 0.1 * hours,
            "weekly": 50 + 20 * weekend + rng.normal(0, 2, hours.size),
            "noise": rng.normal(0, 1, hours.size),
        }
    )
    table = metric_seasonality(rows, START + timedelta(days=21))
    assert table.schema == METRIC_SEASONALITY.schema
    return table


def test_a_daily_cycle_is_found_with_its_shape_strength_and_period(patterns: pl.DataFrame):
    daily = patterns.filter(pl.col("name") == "daily").row(0, named=True)
    assert daily["status"] == "ok" and daily["dominant_period_hours"] == 24.0
    assert daily["daily_strength"] > 0.9
    shape = np.array(daily["hour_of_day"])
    assert np.argmax(shape) in (5, 6, 7) and np.argmin(shape) in (17, 18, 19)
    assert shape.max() == pytest.approx(30, abs=5)


def test_a_weekend_pattern_is_found_in_the_day_of_week_profile(patterns: pl.DataFrame):
    weekly = patterns.filter(pl.col("name") == "weekly").row(0, named=True)
    assert weekly["dominant_period_hours"] == 168.0
    profile = np.array(weekly["day_of_week"])
    assert profile[5:].min() > 15 and np.abs(profile[:5]).max() < 3
    assert weekly["daily_strength"] < 0.2


def test_noise_has_no_dominant_period(patterns: pl.DataFrame):
    noise = patterns.filter(pl.col("name") == "noise").row(0, named=True)
    assert noise["dominant_period_hours"] is None and noise["daily_strength"] < 0.2


def test_too_little_history_is_insufficient_data_and_short_history_has_no_weekly_profile():
    rng = np.random.default_rng(1)
    rows = _rows({"two_days": rng.normal(0, 1, 48)})
    (row,) = metric_seasonality(rows, START + timedelta(days=2)).iter_rows(named=True)
    assert row["status"] == "insufficient data"
    assert row["reason"] == "48 hour(s) of history; 72 are needed"
    sparse = rng.normal(0, 1, 5 * 24)
    sparse[np.arange(sparse.size) % 6 != 0] = np.nan  # every sixth hour: 20 values
    (row,) = metric_seasonality(_rows({"sparse": sparse}), START + timedelta(days=5)).iter_rows(
        named=True
    )
    assert row["status"] == "insufficient data"
    assert row["reason"] == "20 hourly values; at least 36 are needed"
    rows = _rows({"five_days": rng.normal(0, 1, 5 * 24)})
    (row,) = metric_seasonality(rows, START + timedelta(days=5)).iter_rows(named=True)
    assert row["status"] == "ok" and row["day_of_week"] is None
    assert metric_seasonality(rows.clear(), START).is_empty()
