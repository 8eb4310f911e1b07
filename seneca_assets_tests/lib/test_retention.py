"""Retention cannot lose a rollup: raw points go only once their hours are rolled up, in one
logged transaction, a second run changes nothing, the rollups are not taken for stale (or
rebuilt from nothing) afterwards, and a policy that would lose data is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.gold_tables import METRICS_HOURLY
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.retention import RAW_DAYS, Policy, apply, validate
from seneca_assets.lib.retention_log import RETENTION_LOG, retained_since
from seneca_assets.lib.rollup_build import build_range, stale_hours
from seneca_assets_tests.lib.query.conftest import START, built_lake, lake_copy  # noqa: F401

# The simulated deployment runs 2026-11-01 to 11-04; judged as of 32 days after its start,
# retention deletes the points of its first two days.
NOW = START + timedelta(days=RAW_DAYS + 2, hours=5)


def _hourly_totals(lake: Lake) -> pl.DataFrame:
    return lake.read(METRICS_HOURLY).group_by("bucket").agg(pl.col("count").sum()).sort("bucket")


def test_raw_points_go_once_rolled_up_and_a_second_run_changes_nothing(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    rollups = _hourly_totals(lake)
    raw = lake.read(METRICS)
    cutoff = (NOW - timedelta(days=RAW_DAYS)).replace(minute=0)
    (row,) = apply(lake, NOW).iter_rows(named=True)
    assert row["rows"] == raw.filter(pl.col("timestamp") < cutoff).height > 0
    assert row["version_after"] == row["version_before"] + 1 and row["boundary"] == cutoff
    assert lake.read(METRICS).get_column("timestamp").min() >= cutoff
    assert _hourly_totals(lake).equals(rollups), "no rollup was touched"
    # The hours whose points are gone are not stale: nothing rebuilds them from nothing.
    assert stale_hours(lake, NOW.replace(minute=0)) == []
    version = lake.table(METRICS).version()
    assert apply(lake, NOW).is_empty()
    assert lake.table(METRICS).version() == version
    assert lake.read(RETENTION_LOG).height == 1
    assert retained_since(lake, METRICS.name) == cutoff


def test_an_hour_not_rolled_up_holds_the_deletion_back(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    hole = START + timedelta(days=1, hours=6)
    hourly = lake.read(METRICS_HOURLY)
    lake.write(METRICS_HOURLY, hourly.filter(pl.col("bucket") != hole), mode="overwrite")
    (row,) = apply(lake, NOW).iter_rows(named=True)
    assert row["boundary"] == hole and "not built" in row["reason"]
    kept = lake.read(METRICS).filter(pl.col("timestamp") >= hole)
    assert kept.filter(pl.col("timestamp") < hole + timedelta(hours=1)).height > 0
    # Once the hour is rolled up, the next run goes on to the policy's boundary.
    build_range(lake, "hourly", hole, hole + timedelta(hours=1))
    (later,) = apply(lake, NOW).iter_rows(named=True)
    assert later["boundary"] == (NOW - timedelta(days=RAW_DAYS)).replace(minute=0)


def test_a_policy_that_would_lose_a_rollup_is_refused():
    validate()  # the declared ones are sound
    two_hours = timedelta(hours=2)
    too_short = Policy("silver/metrics", timedelta(hours=1), "gold/metrics_hourly", two_hours)
    with pytest.raises(ConfigurationError, match="before gold/metrics_hourly is built"):
        validate((too_short, Policy("gold/metrics_hourly", None)))
    raw = Policy("silver/metrics", timedelta(days=30), "gold/metrics_hourly", two_hours)
    with pytest.raises(ConfigurationError, match="the rollup would go first"):
        validate((raw, Policy("gold/metrics_hourly", timedelta(days=7))))


def test_future_dated_points_are_never_taken_for_old(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    ahead = (
        lake.read(METRICS)
        .head(5)
        .with_columns(
            metric_id=pl.lit("e" * 28) + pl.int_range(5).cast(pl.String).str.zfill(4),
            timestamp=pl.col("timestamp") + timedelta(days=400),  # a clock a year ahead
        )
    )
    lake.write(METRICS, ahead)
    apply(lake, NOW)
    kept = lake.read(METRICS).filter(pl.col("metric_id").is_in(ahead["metric_id"].implode()))
    assert kept.height == 5
