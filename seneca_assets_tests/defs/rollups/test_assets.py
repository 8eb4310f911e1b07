"""The rollup assets: hours from silver, days from hours, months from days, rebuilt exactly where
late data lands, and idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from seneca_assets.defs.ingest.assets import bronze_ingestion
from seneca_assets.defs.model.assets import silver_model
from seneca_assets.defs.resources import LakeResource, shared
from seneca_assets.defs.rollups.assets import (
    ACTIVITY_CHECK,
    rollups_daily,
    rollups_hourly,
    rollups_monthly,
)
from seneca_assets.defs.rollups.automation import (
    closed_ranges,
    gold_automation,
    hour_ranges,
    range_tags,
    rollup_sensor,
)
from seneca_assets.lib.gold_tables import (
    ACTIVITY_DAILY,
    ACTIVITY_HOURLY,
    METRICS_DAILY,
    METRICS_HOURLY,
    METRICS_MONTHLY,
)
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.rollup_build import merged, series
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets.lib.sketch import ALPHA
from seneca_assets_tests.conftest import copy_tree

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
"""After the simulated deployment (November 2026): its days and its month are closed."""
LATE = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rollups")
    simulate_deployment(root / "logs", days=2, agents=3, seed=8)
    return root / "logs"


def _lake(logs: Path, root: Path) -> LakeResource:
    copy_tree(logs, root / "logs")
    resource = LakeResource(log_dir=str(root / "logs"), lake_dir=str(root / "lake"))
    assert dg.materialize([bronze_ingestion, silver_model], resources=shared(resource)).success
    return resource


def _build(resource: LakeResource, now: datetime = NOW) -> dict[str, list[tuple[str, str]]]:
    """What `seneca run` does after silver: hours, then days, then months, by ranges."""
    hours = hour_ranges(resource, now)
    plan = {
        "hourly": hours,
        "daily": closed_ranges(hours, "daily", now),
        "monthly": closed_ranges(hours, "monthly", now),
    }
    assets = {"hourly": rollups_hourly, "daily": rollups_daily, "monthly": rollups_monthly}
    for grain, ranges in plan.items():
        for first, last in ranges:
            result = dg.materialize(
                [assets[grain]], resources=shared(resource), tags=range_tags(first, last)
            )
            assert result.success
            failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
            assert not failed, f"{grain} checks failed: {failed}"
    return plan


def test_every_hour_reaches_its_day_and_every_day_its_month(deployment: Path, tmp_path: Path):
    resource = _lake(deployment, tmp_path)
    plan = _build(resource)
    assert plan["hourly"] and plan["daily"] and plan["monthly"]
    lake = Lake(resource.lake_dir)
    order = ["bucket", "name", "tags"]
    hourly, daily = lake.read(METRICS_HOURLY).sort(order), lake.read(METRICS_DAILY).sort(order)
    monthly = lake.read(METRICS_MONTHLY).sort(order)
    assert (
        hourly.get_column("count").sum()
        == lake.read(METRICS).get_column("value").drop_nulls().len()
    )
    per_day = (
        hourly.group_by(pl.col("bucket").dt.truncate("1d"), "name", "tags")
        .agg(pl.col("count").sum())
        .sort("bucket", "name", "tags")
    )
    assert per_day.equals(daily.select("bucket", "name", "tags", "count"))
    per_month = daily.group_by(pl.col("bucket").dt.truncate("1mo"), "name", "tags").agg(
        pl.col("count").sum()
    )
    assert per_month.sort("bucket", "name", "tags").equals(
        monthly.select("bucket", "name", "tags", "count")
    )
    assert hour_ranges(resource, NOW) == [], "nothing is stale after a build"


def test_rebuilding_a_partition_duplicates_nothing(deployment: Path, tmp_path: Path):
    resource = _lake(deployment, tmp_path)
    _build(resource)
    lake = Lake(resource.lake_dir)
    tables = (METRICS_HOURLY, ACTIVITY_HOURLY, METRICS_DAILY, ACTIVITY_DAILY)

    def rows() -> list[pl.DataFrame]:
        return [lake.read(t).sort(t.schema.names()[:3]) for t in tables]

    before = rows()
    for asset, key in ((rollups_hourly, "2026-11-01-10:00"), (rollups_daily, "2026-11-01")):
        assert dg.materialize([asset], resources=shared(resource), partition_key=key).success
    for table, old, new in zip(tables, before, rows(), strict=True):
        assert new.equals(old), table.name


def test_a_late_event_rebuilds_its_hour_day_and_month_and_nothing_else(
    deployment: Path, tmp_path: Path
):
    resource = _lake(deployment, tmp_path)
    _build(resource)
    late = {
        "type": "metric",
        "timestamp": LATE.isoformat(),
        "source": "seneca.metrics",
        "data": {"name": "api_latency_ms", "value": 123.0, "unit": "ms", "tags": {"endpoint": "x"}},
    }
    with (Path(resource.log_dir) / "seneca" / "seneca_events_late.jsonl").open("w") as out:
        out.write(json.dumps(late) + "\n")
    assert dg.materialize([bronze_ingestion, silver_model], resources=shared(resource)).success

    hours = hour_ranges(resource, NOW)
    assert hours == [("2026-11-02-14:00", "2026-11-02-14:00")]
    assert closed_ranges(hours, "daily", NOW) == [("2026-11-02", "2026-11-02")]
    assert closed_ranges(hours, "monthly", NOW) == [("2026-11-01", "2026-11-01")]
    request = rollup_sensor(dg.build_sensor_context(resources=shared(resource)))
    assert [r.tags["dagster/asset_partition_range_start"] for r in request] == ["2026-11-02-14:00"]

    _build(resource)
    daily = (
        Lake(resource.lake_dir)
        .read(METRICS_DAILY)
        .filter(pl.col("name") == "api_latency_ms", pl.col("tags") == '{"endpoint":"x"}')
    )
    assert daily.select("bucket", "count").rows() == [(datetime(2026, 11, 2, tzinfo=UTC), 1)]


def test_days_follow_their_hours_through_automation(deployment: Path, tmp_path: Path):
    resource = _lake(deployment, tmp_path)
    defs = dg.Definitions(
        assets=[rollups_hourly, rollups_daily, rollups_monthly],
        sensors=[gold_automation],
        resources=shared(resource),
    )
    instance = dg.DagsterInstance.ephemeral()
    idle = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert idle.total_requested == 0, "no hour built, no day requested"
    dg.materialize(
        [rollups_hourly],
        resources=shared(resource),
        instance=instance,
        tags=range_tags("2026-11-02-05:00", "2026-11-02-07:00"),
    )
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=idle.cursor)
    daily_keys = [dg.AssetKey(t.name.split("/")) for t in (METRICS_DAILY, ACTIVITY_DAILY)]
    assert after.get_requested_partitions(daily_keys[0]) == {"2026-11-02"}
    assert after.get_requested_partitions(daily_keys[1]) == {"2026-11-02"}
    assert after.total_requested == 2, "the day of those hours, and nothing else"


def test_a_missing_hour_fails_the_reconciliation_check(deployment: Path, tmp_path: Path):
    resource = _lake(deployment, tmp_path)
    _build(resource)
    lake = Lake(resource.lake_dir)
    lake.delete(METRICS_HOURLY, "bucket = '2026-11-01T10:00:00+00:00'")
    result = dg.materialize(
        [rollups_hourly], resources=shared(resource), partition_key="2026-11-01-11:00"
    )
    (check,) = [
        c for c in result.get_asset_check_evaluations() if c.asset_key.path[-1] == "metrics_hourly"
    ]
    assert not check.passed
    assert check.metadata["stale_hours"].value == 1


def test_activity_that_does_not_sum_fails_its_sql_check(deployment: Path, tmp_path: Path):
    resource = _lake(deployment, tmp_path)
    _build(resource)
    result = dg.materialize([rollups_daily], resources=shared(resource), partition_key="2026-11-02")
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == ACTIVITY_CHECK]
    assert check.passed
    lake = Lake(resource.lake_dir)
    day = lake.read(ACTIVITY_DAILY).filter(pl.col("bucket") == datetime(2026, 11, 1, tzinfo=UTC))
    lake.write(ACTIVITY_DAILY, day.head(1).with_columns(count=pl.col("count") + 1))
    result = dg.materialize([rollups_daily], resources=shared(resource), partition_key="2026-11-02")
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == ACTIVITY_CHECK]
    assert not check.passed and check.metadata["rows_not_summing"].value >= 1


def test_a_series_reads_at_any_resolution_and_merges_across_buckets_and_tags(
    deployment: Path, tmp_path: Path
):
    resource = _lake(deployment, tmp_path)
    _build(resource)
    lake = Lake(resource.lake_dir)
    raw = lake.read(METRICS).filter(pl.col("name") == "marcus.tool_call_duration_ms")
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    for grain in ("hourly", "daily", "monthly"):
        rows = series(lake, "marcus.tool_call_duration_ms", start, end, grain)
        assert rows.get_column("count").sum() == raw.height, grain
        (total,) = merged(lake, "marcus.tool_call_duration_ms", start, end, grain).iter_rows(
            named=True
        )
        exact = float(np.quantile(raw.get_column("value").to_numpy(), 0.95, method="lower"))
        assert total["count"] == raw.height
        assert abs(total["p95"] - exact) <= ALPHA * exact, grain
    by_tags = merged(lake, "marcus.tool_call_duration_ms", start, end, "daily", by=("tags",))
    assert by_tags.height == raw.get_column("tags").n_unique()
