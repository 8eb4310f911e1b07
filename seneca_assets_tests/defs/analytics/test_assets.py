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


def test_anomalies_judge_every_recent_hour(lake_copy: Path):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    from seneca_assets.defs.analytics.assets import anomalies
    from seneca_assets.lib.analytics.anomalies import metric_anomalies
    from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES
    from seneca_assets.lib.gold_tables import METRICS_HOURLY

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([anomalies], resources={"lake": resource})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("anomalies")
    assert "anomalous hours" in materialization.metadata["summary"].value
    lake = Lake(lake_copy / "lake")
    # The simulated deployment is in November 2026, judged as of a few days after it.
    hourly = lake.read(METRICS_HOURLY)
    judged = metric_anomalies(hourly, hourly.get_column("bucket").max() + timedelta(days=1))
    assert judged.height == hourly.filter(pl.col("mean").is_finite()).height > 0
    spans = judged.group_by("name", "tags").agg(
        hours=(pl.col("bucket").max() - pl.col("bucket").min()).dt.total_hours(),
        method=pl.col("method").first(),
    )
    assert set(spans.filter(pl.col("hours") >= 71).get_column("method")) == {"seasonal-mad"}
    assert set(spans.filter(pl.col("hours") < 71).get_column("method")) <= {"mad"}
    # The asset judged as of a moment ago: an hour may have left the 28 days since, per series.
    judged_by_asset = lake.read(METRIC_ANOMALIES).height
    recent = hourly.filter(pl.col("bucket") >= datetime.now(UTC) - timedelta(days=28)).height
    assert 0 <= judged_by_asset - recent <= hourly.select("name", "tags").unique().height


def test_seasonality_has_a_row_per_hourly_series(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import seasonality
    from seneca_assets.lib.analytics.tables import METRIC_SEASONALITY

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    assert dg.materialize([seasonality], resources={"lake": resource}).success
    from datetime import UTC, datetime, timedelta

    from seneca_assets.lib.gold_tables import METRICS_HOURLY

    lake = Lake(lake_copy / "lake")
    table = lake.read(METRIC_SEASONALITY)
    recent = lake.read(METRICS_HOURLY).filter(
        pl.col("bucket") >= datetime.now(UTC) - timedelta(days=28)
    )
    # As of a moment ago: a series may have left the 28 days since.
    series = lake.read(METRICS_HOURLY).select("name", "tags").unique().height
    assert recent.select("name", "tags").unique().height <= table.height <= series
    assert set(table.get_column("status")) <= {"ok", "insufficient data"}


def test_forecasts_asset_writes_its_table_and_summary(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import forecasts

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([forecasts], resources={"lake": resource})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("forecasts")
    assert "series forecast for the next 7 days" in materialization.metadata["summary"].value
    from seneca_assets.lib.analytics.tables import METRIC_FORECASTS

    table = Lake(lake_copy / "lake").read(METRIC_FORECASTS)
    # Three days of data: every series has an hourly row; the daily tier is too short to forecast.
    daily = table.filter(pl.col("resolution") == "daily")
    assert set(daily.get_column("status")) == {"insufficient data"}
    assert daily.get_column("reason").str.contains("week").all()
    hourly = table.filter(pl.col("resolution") == "hourly")
    assert hourly.select("name", "tags").unique().height == daily.height


def test_agent_performance_covers_every_agent_that_completed_a_task(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import agents
    from seneca_assets.lib.analytics.tables import AGENT_PERFORMANCE
    from seneca_assets.lib.model.tables import TASKS

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    assert dg.materialize([agents], resources={"lake": resource}).success
    lake = Lake(lake_copy / "lake")
    table = lake.read(AGENT_PERFORMANCE)
    done = lake.read(TASKS).filter(pl.col("completed_at").is_not_null())
    assert (
        table.get_column("tasks_completed").sum()
        == done.filter(pl.col("agent_id").is_not_null()).height
    )
    assert set(done.get_column("agent_id").drop_nulls()) <= set(table.get_column("agent_id"))


def test_outcomes_compare_every_feature_at_both_levels(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import outcomes
    from seneca_assets.lib.analytics.outcomes import FEATURES
    from seneca_assets.lib.analytics.tables import PROJECT_OUTCOMES

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    assert dg.materialize([outcomes], resources={"lake": resource}).success
    table = Lake(lake_copy / "lake").read(PROJECT_OUTCOMES)
    assert table.height == 2 * len(FEATURES)
    assert set(table.get_column("status")) <= {"ok", "insufficient data"}


def test_conversation_patterns_and_network_build_from_silver(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import collaboration_network, conversation_patterns
    from seneca_assets.lib.analytics.tables import COLLABORATION_NETWORK, CONVERSATION_PATTERNS
    from seneca_assets.lib.model.tables import CONVERSATIONS, MESSAGES

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize(
        [conversation_patterns, collaboration_network], resources={"lake": resource}
    )
    assert result.success
    lake = Lake(lake_copy / "lake")
    patterns = lake.read(CONVERSATION_PATTERNS)
    assert set(patterns.get_column("pattern")) == {"topic", "flow", "signal"}
    # Every message of every conversation is one transition, plus one end per conversation.
    conversations = lake.read(CONVERSATIONS)
    flows = patterns.filter(pl.col("pattern") == "flow").get_column("messages").sum()
    assert flows == conversations.get_column("messages").list.len().sum() + conversations.height
    network = lake.read(COLLABORATION_NETWORK)
    messages = lake.read(MESSAGES).filter(pl.col("sender") != pl.col("recipient"))
    edges = network.filter(pl.col("element") == "edge")
    assert edges.get_column("messages_out").sum() + edges.get_column("messages_in").sum() == (
        messages.height
    )
    assert "marcus" in set(network.filter(pl.col("element") == "node").get_column("source"))
    for node in ("conversation_patterns", "collaboration_network"):
        (materialization,) = result.asset_materializations_for_node(node)
        assert "|" in materialization.metadata["summary"].value


def test_capacity_measures_every_table_of_the_lake(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics.assets import capacity
    from seneca_assets.lib.analytics.tables import CAPACITY
    from seneca_assets.lib.catalog import TABLES

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([capacity], resources={"lake": resource})
    assert result.success
    lake = Lake(lake_copy / "lake")
    table = lake.read(CAPACITY)
    present = {spec.name for spec in TABLES if lake.exists(spec)} - {CAPACITY.name}
    assert set(table.get_column("table")) - {"(lake)"} == present
    total = table.filter(pl.col("table") == "(lake)").row(0, named=True)
    assert total["limit_basis"] == "disk"
    (materialization,) = result.asset_materializations_for_node("capacity")
    assert "**Lake**" in materialization.metadata["summary"].value


def test_every_analytics_asset_shows_a_summary_and_its_row_count(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.analytics import assets as module
    from seneca_assets.lib.analytics.tables import ANALYTICS_TABLES
    from seneca_assets.lib.export import table_named

    built = [
        value
        for value in vars(module).values()
        if isinstance(value, dg.AssetsDefinition) and value.group_names_by_key
    ]
    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize(built, resources={"lake": resource})
    assert result.success
    lake = Lake(lake_copy / "lake")
    seen = set()
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
        name = materialization.asset_key.to_user_string()
        summary = materialization.metadata["summary"]
        assert isinstance(summary, dg.MarkdownMetadataValue) and summary.value.strip(), name
        rows = materialization.metadata["dagster/row_count"].value
        assert rows == lake.read(table_named(name)).height, name
        seen.add(name)
    assert seen == {spec.name for spec in ANALYTICS_TABLES}
