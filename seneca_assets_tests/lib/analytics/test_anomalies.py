"""Anomalies: injected spikes, dips and level shifts found on seasonal series, few false ones,
from three days of history; bad series give valid rows, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES

START = datetime(2026, 10, 1, tzinfo=UTC)


def _seasonal(rng: np.random.Generator, name: str, days: int) -> tuple[pl.DataFrame, np.ndarray]:
    """An hourly series with a daily cycle and noise, six spikes or dips and a 4-hour shift."""
    hours = np.arange(days * 24)
    values = 100 + 30 * np.sin(2 * np.pi * (hours % 24) / 24) + rng.normal(0, 4, hours.size)
    truth = np.zeros(hours.size, dtype=bool)
    for at in rng.choice(np.arange(24, hours.size), 6, replace=False):
        values[at] += rng.choice([-1, 1]) * rng.uniform(25, 60)
        truth[at] = True
    shift = int(rng.integers(30, hours.size - 6))
    values[shift : shift + 4] += 50
    truth[shift : shift + 4] = True
    frame = pl.DataFrame(
        {
            "bucket": [START + timedelta(hours=int(h)) for h in hours],
            "name": name,
            "tags": "{}",
            "mean": values,
        }
    ).with_columns(pl.col("bucket").dt.cast_time_unit("us"))
    return frame, truth


def _scores(days: int) -> tuple[float, float]:
    """F1 of the seasonal method and of a plain 3-sigma rule over 30 series."""
    rng = np.random.default_rng(4)
    made = [_seasonal(rng, f"m{k:02d}", days) for k in range(30)]
    rows = pl.concat([frame for frame, _ in made])
    truth = np.concatenate([t for _, t in made])
    judged = metric_anomalies(rows, START + timedelta(days=days))
    assert judged.schema == METRIC_ANOMALIES.schema
    found = judged.sort("name", "bucket").get_column("is_anomaly").to_numpy()
    sigma = rows.with_columns(
        flag=((pl.col("mean") - pl.col("mean").mean().over("name")).abs()
              > 3 * pl.col("mean").std().over("name"))
    ).sort("name", "bucket").get_column("flag").to_numpy()  # fmt: skip
    return _f1(found, truth), _f1(sigma, truth)


def _f1(found: np.ndarray, truth: np.ndarray) -> float:
    hits = float((found & truth).sum())
    return 2 * hits / max(float(found.sum() + truth.sum()), 1.0)


def test_injected_anomalies_are_found_on_seasonal_series():
    seasonal, sigma = _scores(days=14)
    assert seasonal >= 0.9
    assert sigma < 0.5, "a plain 3-sigma rule misses what hides in the daily cycle"


def test_three_days_of_history_are_enough_to_judge():
    seasonal, sigma = _scores(days=3)
    assert seasonal >= 0.6 and seasonal > sigma


@pytest.mark.parametrize(
    "values",
    [[5.0] * 48, [np.nan] * 48, [7.0], [], [-100.0 - (i % 24) for i in range(96)]],
)
def test_bad_series_give_rows_not_exceptions(values: list[float]):
    rows = pl.DataFrame(
        {
            "bucket": [START + timedelta(hours=h) for h in range(len(values))],
            "name": "m",
            "tags": "{}",
            "mean": pl.Series(values, dtype=pl.Float64),
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )
    judged = metric_anomalies(rows, START + timedelta(days=5))
    finite = [v for v in values if np.isfinite(v)]
    assert judged.height == len(finite)
    assert not judged.get_column("is_anomaly").any()


def test_a_constant_series_that_moves_is_an_anomaly():
    values = [5.0] * 48
    values[30] = 6.0
    hours = [START + timedelta(hours=h) for h in range(48)]
    rows = pl.DataFrame(
        {"bucket": hours, "name": "m", "tags": "{}", "mean": values},
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )
    judged = metric_anomalies(rows, START + timedelta(days=3))
    assert judged.filter("is_anomaly").get_column("bucket").to_list() == [
        START + timedelta(hours=30)
    ]
    assert "above expected" in judged.filter("is_anomaly").item(0, "reason")


def test_a_ratio_pinned_near_one_is_judged_by_its_real_moves_only():
    rng = np.random.default_rng(9)
    values = np.where(rng.random(96) < 0.7, 1.0, 0.999)  # utilization: busy, a wobble apart
    values[60] = 0.5
    rows = pl.DataFrame(
        {
            "bucket": [START + timedelta(hours=h) for h in range(96)],
            "name": "agent_utilization",
            "tags": "{}",
            "mean": values,
        },
        schema_overrides={"bucket": pl.Datetime("us", "UTC")},
    )
    judged = metric_anomalies(rows, START + timedelta(days=4))
    assert judged.filter("is_anomaly").get_column("bucket").to_list() == [
        START + timedelta(hours=60)
    ]
    assert judged.get_column("score").is_finite().all()


@pytest.mark.parametrize("kind", ["level_shift", "variance_burst"])
def test_long_shifts_and_bursts_of_variance_are_found(kind: str):
    """Shifts of up to a day stand out of the 3-day level; bursts are found by their spread."""
    from seneca_assets.lib.simulate_series import Recipe, generate

    made = generate(Recipe(days=28, kinds=(kind,), anomalies=7, phi=(0.0, 0.5)), 21, 12, kind)
    now = made.frame.get_column("bucket").max() + timedelta(hours=1)
    judged = metric_anomalies(made.frame, now).join(
        made.labels.select("name", "bucket", "is_anomaly"), on=["name", "bucket"], suffix="_true"
    )
    found, truth = (judged.get_column(c).to_numpy() for c in ("is_anomaly", "is_anomaly_true"))
    assert _f1(found, truth) >= 0.65  # per hour: a burst's quiet hours look like noise
    # Per event: nearly every shift or burst has hours flagged.
    events = judged.sort("name", "bucket").with_columns(
        event=(pl.col("is_anomaly_true") & ~pl.col("is_anomaly_true").shift(1).fill_null(False))
        .cum_sum()
        .over("name")
    )
    caught = (
        events.filter("is_anomaly_true").group_by("name", "event").agg(pl.col("is_anomaly").any())
    )
    assert caught.get_column("is_anomaly").mean() >= 0.85
    if kind == "variance_burst":
        reasons = judged.filter("is_anomaly").get_column("reason")
        assert reasons.str.starts_with("variance burst").any()
