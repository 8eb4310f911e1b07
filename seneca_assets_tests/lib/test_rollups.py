"""Rollups: statistics exact against numpy, and every tier built from the one below equal to the
same tier built from raw points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib import rollups as R
from seneca_assets.lib import sketch as S
from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.model.tables import MESSAGES, SYSTEM_EVENTS, TASKS
from seneca_assets.lib.simulate import simulate_deployment

START = datetime(2026, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def points() -> pl.DataFrame:
    """Five days of points of three series around a month boundary, with a few missing values."""
    rng = np.random.default_rng(5)
    n = 60_000
    seconds = np.sort(rng.uniform(0, 5 * 86_400, n))
    series = rng.integers(0, 3, n)
    values = np.where(
        series == 0,
        rng.lognormal(5, 1.2, n),
        np.where(series == 1, rng.normal(-20, 15, n), rng.choice([0.0, 1.0, 250.0], n)),
    )
    frame = pl.DataFrame(
        {
            "timestamp": [START + timedelta(seconds=float(s)) for s in seconds],
            "name": [f"metric_{s}" for s in series],
            "tags": ['{"agent":"a1"}' if s != 2 else "{}" for s in series],
            "value": values,
            "unit": "ms",
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))
    return frame.with_columns(
        value=pl.when(pl.int_range(pl.len()) % 997 == 0).then(None).otherwise("value")
    )


def _exact(points: pl.DataFrame, every: str) -> dict[tuple, np.ndarray]:
    grouped = points.drop_nulls("value").with_columns(bucket=pl.col("timestamp").dt.truncate(every))
    return {
        (key[0], key[1], key[2]): group.sort("timestamp").get_column("value").to_numpy()
        for key, group in grouped.group_by(["bucket", "name", "tags"])
    }


@pytest.mark.parametrize("grain", ["hourly", "daily", "monthly"])
def test_statistics_are_exact_against_numpy(points: pl.DataFrame, grain: str):
    every = R.GRAINS[grain]
    rows = R.from_points(points, every)
    exact = _exact(points, every)
    assert rows.height == len(exact)
    for row in rows.iter_rows(named=True):
        values = exact[(row["bucket"], row["name"], row["tags"])]
        assert row["count"] == values.size
        assert row["sum"] == pytest.approx(values.sum())
        assert (row["min"], row["max"]) == (values.min(), values.max())
        assert (row["first"], row["last"]) == (values[0], values[-1])
        assert row["m2"] == pytest.approx(((values - values.mean()) ** 2).sum(), abs=1e-6)
        for q in R.PERCENTILES:
            exact_q = float(np.quantile(values, q, method="lower"))
            assert abs(row[S._name(q)] - exact_q) <= S.ALPHA * abs(exact_q) + 1e-12


def test_each_tier_from_the_one_below_equals_the_tier_from_raw(points: pl.DataFrame):
    hourly = R.from_points(points, R.GRAINS["hourly"])
    daily = R.from_tier(hourly, R.GRAINS["daily"])
    monthly = R.from_tier(daily, R.GRAINS["monthly"])
    assert monthly.get_column("bucket").dt.month().unique().sort().to_list() == [10, 11]
    for built, grain in ((daily, "daily"), (monthly, "monthly")):
        raw = R.from_points(points, R.GRAINS[grain])
        assert built.columns == raw.columns
        exact_columns = [
            "bucket",
            "name",
            "tags",
            "count",
            "min",
            "max",
            "first",
            "last",
            "first_at",
            "last_at",
            "unit",
            "sketch",
            "p50",
            "p90",
            "p95",
            "p99",
        ]
        assert built.select(exact_columns).equals(raw.select(exact_columns)), grain
        for column in ("sum", "mean", "m2"):
            assert np.allclose(built[column].to_numpy(), raw[column].to_numpy(), rtol=1e-9)
    assert daily.get_column("count").sum() == points.get_column("value").drop_nulls().len()


def test_variance_reads_the_sample_variance(points: pl.DataFrame):
    daily = R.from_tier(R.from_points(points, "1h"), "1d")
    exact = _exact(points, "1d")
    for row, var in zip(daily.iter_rows(named=True), R.variance(daily), strict=True):
        values = exact[(row["bucket"], row["name"], row["tags"])]
        assert var == pytest.approx(values.var(ddof=1), rel=1e-9)


def test_ties_missing_values_and_units_are_settled_the_same_way_at_every_tier():
    at = START + timedelta(minutes=5)
    points = pl.DataFrame(
        {
            "timestamp": [at, at, at, at + timedelta(hours=1), at, at],
            "name": ["m", "m", "m", "m", "n", "n"],
            "tags": ["{}"] * 6,
            "value": [3.0, 1.0, None, 2.0, float("nan"), float("inf")],
            "unit": [None, "ms", "s", None, "ms", None],
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))
    hourly = R.from_points(points, "1h")
    # Only finite values count; a series with none has no row.
    assert hourly.select("name", "count").rows() == [("m", 2), ("m", 1)]
    # Points at the same instant: the smaller is first, the larger last.
    assert (hourly.item(0, "first"), hourly.item(0, "last")) == (1.0, 3.0)
    # The unit is the first one given among the bucket's valued points, null if none.
    assert hourly.get_column("unit").to_list() == ["ms", None]
    daily = R.from_tier(hourly, "1d")
    assert daily.drop("sum", "mean", "m2").equals(
        R.from_points(points, "1d").drop("sum", "mean", "m2")
    )
    assert (daily.item(0, "first"), daily.item(0, "last"), daily.item(0, "unit")) == (
        1.0,
        2.0,
        "ms",
    )


def test_nothing_to_roll_up_gives_no_rows_of_the_same_shape(points: pl.DataFrame):
    shape = R.from_points(points, "1h").schema
    hourly = R.from_points(points.clear(), "1h")
    assert hourly.is_empty() and hourly.schema == shape
    assert R.from_tier(hourly, "1d").schema == shape
    assert R.from_tier(R.from_tier(hourly, "1d"), "1mo").is_empty()


def test_a_bucket_is_stale_once_its_points_change(points: pl.DataFrame):
    hourly = R.from_points(points, "1h")
    assert R.stale_buckets(points, hourly, "1h").is_empty()
    hours = points.get_column("timestamp").dt.truncate("1h")
    late = points.head(1).with_columns(
        pl.col("timestamp") + timedelta(minutes=1), value=pl.lit(7.0)
    )
    assert R.stale_buckets(pl.concat([points, late]), hourly, "1h").to_list() == [hours[0]]
    row = 5000 if points.item(5000, "value") is not None else 5001
    changed = points.with_columns(
        value=pl.when(pl.int_range(pl.len()) == row).then(pl.col("value") + 1).otherwise("value")
    )
    assert R.stale_buckets(changed, hourly, "1h").to_list() == [hours[row]]
    dropped = points.filter(hours != hours[100])
    assert R.stale_buckets(dropped, hourly, "1h").to_list() == [hours[100]]


@pytest.fixture(scope="module")
def built_silver(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("activity")
    simulate_deployment(root / "logs", days=2, agents=3, seed=9)
    ingest(IngestSettings(root / "logs", root / "lake", tail_grace_s=0))
    lake = Lake(root / "lake")
    build_silver(lake)
    return lake


def test_activity_counts_each_agent_s_work(built_silver: Lake):
    lake = built_silver
    messages, events = lake.read(MESSAGES), lake.read(SYSTEM_EVENTS)
    hourly = R.activity_from_silver(messages, events, "1h")
    assert set(hourly.get_column("kind").unique()) == set(R.ACTIVITY_KINDS)
    totals = dict(hourly.group_by("kind").agg(pl.col("count").sum()).iter_rows())
    assert (
        totals["tasks_completed"] == lake.read(TASKS).filter(pl.col("status") == "completed").height
    )
    sent = messages.filter(
        (pl.col("kind") == "worker_communication") & (pl.col("sender") == pl.col("agent_id"))
    )
    assert totals["messages"] == sent.height
    calls = events.filter((pl.col("stream") == "audit") & (pl.col("event_type") == "tool_call"))
    assert totals["tool_calls"] == calls.filter(pl.col("actor").is_not_null()).height
    minutes = hourly.filter(pl.col("kind") == "active_minutes").get_column("count")
    assert minutes.max() <= 60 and minutes.min() >= 1
    daily = R.activity_from_tier(hourly, "1d")
    assert daily.equals(R.activity_from_silver(messages, events, "1d"))


def test_rolling_up_a_few_hours_at_a_time_gives_the_same_rows(
    points: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    whole = R.from_points(points, "1h")
    monkeypatch.setattr(R, "CHUNK_POINTS", 700)
    assert len(R._hour_chunks(np.array([0, 0, 1, 5, 5, 5]))) == 1
    assert R.from_points(points, "1h").equals(whole)
    chunks = R._hour_chunks(points.get_column("timestamp").dt.hour().to_numpy().astype(np.int64))
    assert len(chunks) > 1 and sum(c.size for c in chunks) == points.height
