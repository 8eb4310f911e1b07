"""Trends: right directions with few false alarms on autocorrelated series, and bad series that
give an "insufficient data" row or a valid result, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from seneca_assets.lib.analytics.tables import METRIC_TRENDS
from seneca_assets.lib.analytics.trends import metric_trends, trend


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    noise = rng.normal(0, 1, n)
    out = np.zeros(n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return out


@pytest.mark.parametrize(("n", "phi"), [(60, 0.0), (60, 0.5), (168, 0.7)])
def test_directions_are_right_and_false_trends_rare_on_autocorrelated_series(n: int, phi: float):
    rng = np.random.default_rng(11)
    periods = np.arange(n, dtype=float)
    false_alarms = plain_alarms = right = 0
    runs = 200
    for i in range(runs):
        flat = _ar1(rng, n, phi)
        false_alarms += trend(periods, flat).direction != "no trend"
        plain_alarms += stats.kendalltau(periods, flat).pvalue < 0.05
        sign = 1 if i % 2 else -1
        sloped = _ar1(rng, n, phi) + sign * 4.0 / n * periods  # four noise sds over the series
        found = trend(periods, sloped)
        right += found.direction == ("increasing" if sign > 0 else "decreasing")
        assert found.slope_low is not None and found.slope_high is not None
        assert found.slope_low <= found.slope <= found.slope_high
    assert right / runs >= 0.95
    assert false_alarms / runs <= 0.09
    assert false_alarms <= plain_alarms, (
        "the correction never finds more trends than the plain test"
    )


def test_the_slope_is_the_one_put_in_and_outliers_do_not_move_it():
    periods = np.arange(200, dtype=float)
    values = 10 + 0.5 * periods + np.random.default_rng(2).normal(0, 1, 200)
    values[[20, 90, 150]] = [1e9, -1e9, 5e8]
    found = trend(periods, values)
    assert found.direction == "increasing"
    assert found.slope == pytest.approx(0.5, abs=0.02)
    assert found.change_per_period == pytest.approx(found.slope / np.median(np.abs(values)))


@pytest.mark.parametrize(
    ("values", "status", "direction"),
    [
        ([5.0] * 30, "ok", "no trend"),
        ([np.nan] * 30, "insufficient data", None),
        ([3.0], "insufficient data", None),
        ([], "insufficient data", None),
        ([1.0, 2.0, 3.0, 4.0], "insufficient data", None),
        ([-50.0 - i for i in range(30)], "ok", "decreasing"),
        ([np.inf, 1.0, np.nan] + [float(i) for i in range(30)], "ok", "increasing"),
    ],
)
def test_bad_series_give_a_clear_row(values: list[float], status: str, direction: str | None):
    found = trend(np.arange(len(values), dtype=float), np.asarray(values, dtype=float))
    assert (found.status, found.direction) == (status, direction)
    if status != "ok":
        assert found.reason and "point" in found.reason


def test_gaps_are_time_not_shifts():
    periods = np.concatenate([np.arange(0, 20), np.arange(100, 120)]).astype(float)
    values = 2.0 * periods
    found = trend(periods, values)
    assert found.slope == pytest.approx(2.0)


def test_the_table_has_a_row_per_series_and_resolution():
    start = datetime(2026, 9, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(24 * 20)]
    rows = pl.DataFrame(
        {
            "bucket": hours * 2,
            "name": ["up"] * len(hours) + ["flat"] * len(hours),
            "tags": "{}",
            "mean": [float(h) for h in range(len(hours))] + [1.0] * len(hours),
        }
    ).with_columns(pl.col("bucket").dt.cast_time_unit("us"))
    daily = rows.group_by(pl.col("bucket").dt.truncate("1d"), "name", "tags").agg(
        pl.col("mean").mean()
    )
    table = metric_trends(
        {"hourly": rows, "daily": daily, "monthly": daily.head(0)}, start + timedelta(days=20)
    )
    assert table.schema == METRIC_TRENDS.schema
    found = {(r["name"], r["resolution"]): r["direction"] for r in table.iter_rows(named=True)}
    assert found == {
        ("up", "hourly"): "increasing",
        ("flat", "hourly"): "no trend",
        ("up", "daily"): "increasing",
        ("flat", "daily"): "no trend",
    }


def test_a_daily_cycle_does_not_hide_a_trend_or_make_one():
    """Hourly series with a strong daily cycle: the cycle is taken out before the test."""
    from seneca_assets.lib.simulate_series import Recipe, generate

    now = datetime(2026, 11, 2, tzinfo=UTC)  # the generator's 28 days end here
    rising = generate(Recipe(trend_sds=(4.0, 4.0), phi=(0.5, 0.5)), 31, 30)
    flat = generate(Recipe(phi=(0.5, 0.5)), 32, 30)
    for made, expected, share in ((rising, "increasing", 0.95), (flat, "no trend", 0.85)):
        table = metric_trends({"hourly": made.frame}, now)
        truth = {name: t.slope for name, t in made.truths.items()}
        right = [
            (expected if truth[name] >= 0 else "decreasing") == direction
            for name, direction in table.select("name", "direction").iter_rows()
        ]
        assert len(right) == 30 and np.mean(right) >= share
