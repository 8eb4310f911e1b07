"""The analytics assets follow the rollups and write their tables with a summary for people."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from seneca_assets.defs.analytics.assets import analytics_automation, trends
from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.analytics.tables import METRIC_TRENDS
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import METRICS
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


def test_trends_cover_every_series_at_every_tier(lake_copy: Path):  # noqa: F811
    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([trends], resources={"lake": resource})
    assert result.success
    lake = Lake(lake_copy / "lake")
    table = lake.read(METRIC_TRENDS)
    series = lake.read(METRICS).select("name", "tags").unique().height
    assert table.height == 3 * series
    assert set(table.get_column("status")) <= {"ok", "insufficient data"}
    assert table.filter(pl.col("resolution") == "hourly", pl.col("status") == "ok").height > 0
    (materialization,) = result.asset_materializations_for_node("trends")
    assert "| resolution | direction | series |" in materialization.metadata["summary"].value
    assert analytics_automation.default_status == dg.DefaultSensorStatus.RUNNING
