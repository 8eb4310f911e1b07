"""Forecasts: better than seasonal-naive, 80% intervals that hold about 80% of what came next,
and clear rows for series too short to forecast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.forecasts import HORIZON_HOURS, metric_forecasts
from seneca_assets.lib.analytics.tables import METRIC_FORECASTS

START = datetime(2026, 10, 1, tzinfo=UTC)


def _frame(name: str, values: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "bucket": [START + timedelta(hours=h) for h in range(values.size)],
            "name": name,
            "tags": "{}",
            "mean": values,
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )


def test_forecasts_beat_seasonal_naive_and_their_intervals_hold():
    rng = np.random.default_rng(2)
    hours = np.arange(35 * 24)
    history, future = {}, {}
    for k in range(20):
        values = 100 + 30 * np.sin(2 * np.pi * (hours % 24) / 24) + rng.normal(0, 5, hours.size)
        values += 0.02 * hours
        history[f"m{k:02d}"], future[f"m{k:02d}"] = values[: 28 * 24], values[28 * 24 :]
    rows = pl.concat([_frame(name, values) for name, values in history.items()])
    table = metric_forecasts(rows, START + timedelta(days=28))
    assert table.schema == METRIC_FORECASTS.schema
    assert table.height == 20 * HORIZON_HOURS
    assert (table.get_column("backtest_smape") < table.get_column("naive_smape")).mean() >= 0.9
    inside80 = inside95 = total = 0
    for (name,), forecast in table.sort("bucket").group_by(["name"], maintain_order=True):
        actual = future[str(name)]
        bound = {c: forecast.get_column(c).to_numpy() for c in forecast.columns if "_" in c}
        inside80 += int(((actual >= bound["lower_80"]) & (actual <= bound["upper_80"])).sum())
        inside95 += int(((actual >= bound["lower_95"]) & (actual <= bound["upper_95"])).sum())
        total += actual.size
    assert 0.75 <= inside80 / total <= 0.85
    assert inside95 / total >= 0.9
    assert table.get_column("bucket").min() == START + timedelta(days=28)


def test_short_series_say_why_and_a_few_days_forecast_without_a_backtest():
    rows = pl.concat(
        [
            _frame("two_days", np.ones(48)),
            _frame("five_days", 10 + np.sin(np.arange(120) / 24 * 2 * np.pi)),
        ]
    )
    table = metric_forecasts(rows, START + timedelta(days=5))
    short = table.filter(pl.col("name") == "two_days").row(0, named=True)
    assert short["status"] == "insufficient data" and "day(s) of history" in short["reason"]
    five = table.filter(pl.col("name") == "five_days")
    assert five.height == HORIZON_HOURS and five.get_column("coverage_80").is_null().all()
    assert five.item(0, "reason") == "intervals from the fit, not a backtest"
    assert metric_forecasts(rows.clear(), START).is_empty()


def test_daily_series_are_forecast_30_days_with_their_weekly_cycle_and_trend():
    rng = np.random.default_rng(5)
    days = np.arange(150)
    weekly = np.array([0, 5, 8, 6, 4, -10, -13])  # Monday first; START is a Thursday
    history, future = {}, {}
    for k in range(30):
        values = 200 + weekly[(days + 3) % 7] + rng.normal(0, 3, days.size) + 0.2 * days
        history[f"d{k:02d}"], future[f"d{k:02d}"] = values[:120], values[120:]
    daily = pl.concat(
        [
            pl.DataFrame(
                {
                    "bucket": [START + timedelta(days=int(d)) for d in range(120)],
                    "name": name,
                    "tags": "{}",
                    "mean": values,
                },
                schema_overrides={"bucket": pl.Datetime("us", "UTC")},
            )
            for name, values in history.items()
        ]
    )
    now = START + timedelta(days=120)
    table = metric_forecasts(daily.clear(), now, daily)
    assert table.schema == METRIC_FORECASTS.schema
    assert set(table.get_column("resolution")) == {"daily"}
    assert table.height == 30 * 30 and table.get_column("bucket").min() == now
    assert (table.get_column("backtest_smape") < table.get_column("naive_smape")).mean() >= 0.9
    inside = total = 0
    for (name,), forecast in table.sort("bucket").group_by(["name"], maintain_order=True):
        actual = future[str(name)]
        low, high = forecast.get_column("lower_80"), forecast.get_column("upper_80")
        inside += int(((actual >= low.to_numpy()) & (actual <= high.to_numpy())).sum())
        total += actual.size
        # The weekly shape is learned: Saturday and Sunday are forecast below the week.
        weekday = forecast.get_column("bucket").dt.weekday().to_numpy()
        values = forecast.get_column("forecast").to_numpy()
        assert values[weekday >= 6].mean() < values[weekday <= 5].mean() - 10
    assert 0.7 <= inside / total <= 0.9


def test_daily_series_shorter_than_three_weeks_say_why():
    daily = pl.DataFrame(
        {
            "bucket": [START + timedelta(days=d) for d in range(10)],
            "name": "short",
            "tags": "{}",
            "mean": np.arange(10.0),
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )
    (row,) = metric_forecasts(daily.clear(), START + timedelta(days=10), daily).iter_rows(
        named=True
    )
    assert row["resolution"] == "daily" and row["status"] == "insufficient data"
    assert row["reason"] == "1.4 week(s) of history; 3 are needed"


def test_a_series_never_negative_is_not_forecast_below_zero_and_sparse_ones_say_why():
    rng = np.random.default_rng(3)
    durations = np.abs(rng.normal(2, 4, 10 * 24))  # milliseconds: never negative, noisy
    sparse = np.full(10 * 24, np.nan)
    sparse[::12] = 5.0  # twice a day
    rows = pl.concat([_frame("latency", durations), _frame("sparse", sparse)])
    table = metric_forecasts(rows, START + timedelta(days=10))
    latency = table.filter(pl.col("name") == "latency")
    assert latency.height == HORIZON_HOURS
    assert latency.select(pl.min_horizontal(pl.col("^forecast|lower_.*$")).min()).item() >= 0
    (row,) = table.filter(pl.col("name") == "sparse").iter_rows(named=True)
    assert row["reason"] == "20 hourly values; at least 36 are needed"
