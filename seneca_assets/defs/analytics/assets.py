"""The analytics tables, recomputed when the rollups they read change."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import follower
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key, table_spec
from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.analytics.anomalies import summary as anomaly_summary
from seneca_assets.lib.analytics.seasonal import metric_seasonality
from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES, METRIC_SEASONALITY, METRIC_TRENDS
from seneca_assets.lib.analytics.trends import metric_trends, summary
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.schemas import TableSpec

ANALYTICS_POOL = "seneca_analytics"
HOURLY = TIERS["hourly"][0]


def _spec(table: TableSpec, *reads: TableSpec) -> dg.AssetSpec:
    """An analytics table recomputed whenever a table it reads changes."""
    return table_spec(
        table,
        group_name="analytics",
        deps=[table_key(read) for read in reads],
        automation_condition=dg.AutomationCondition.eager(),
    )


@dg.multi_asset(
    name="trends",
    specs=[_spec(METRIC_TRENDS, *(t[0] for t in TIERS.values()))],
    pool=ANALYTICS_POOL,
)
def trends(context: dg.AssetExecutionContext, lake: LakeResource):
    """Trends of every series at each tier: corrected Mann-Kendall and Theil-Sen (lib/analytics)."""
    store = lake.lake()
    rows = {
        resolution: store.scan(tables[0]).select("bucket", "name", "tags", "mean").collect()
        for resolution, tables in TIERS.items()
    }
    table = metric_trends(rows, datetime.now(UTC))
    store.write(METRIC_TRENDS, table, mode="overwrite")
    context.log.info(f"metric trends: {table.height:,} rows")
    yield dg.MaterializeResult(
        asset_key=table_key(METRIC_TRENDS),
        metadata={
            "trend_rows": table.height,
            "summary": dg.MetadataValue.md(summary(table)),
            "dagster/uri": store.uri(METRIC_TRENDS),
        },
    )


@dg.multi_asset(name="seasonality", specs=[_spec(METRIC_SEASONALITY, HOURLY)], pool=ANALYTICS_POOL)
def seasonality(context: dg.AssetExecutionContext, lake: LakeResource):
    """Each hourly series' daily and weekly profiles, seasonal strength and dominant period."""
    store = lake.lake()
    hourly = store.scan(HOURLY).select("bucket", "name", "tags", "mean").collect()
    table = metric_seasonality(hourly, datetime.now(UTC))
    store.write(METRIC_SEASONALITY, table, mode="overwrite")
    strong = table.filter(pl.col("daily_strength") >= 0.6).height
    context.log.info(f"seasonality: {table.height:,} series, {strong:,} with a strong daily cycle")
    yield dg.MaterializeResult(
        asset_key=table_key(METRIC_SEASONALITY),
        metadata={
            "series": table.height,
            "strong_daily_cycle": strong,
            "dagster/uri": store.uri(METRIC_SEASONALITY),
        },
    )


@dg.multi_asset(name="anomalies", specs=[_spec(METRIC_ANOMALIES, HOURLY)], pool=ANALYTICS_POOL)
def anomalies(context: dg.AssetExecutionContext, lake: LakeResource):
    """Every hourly bucket of the last 28 days judged: seasonal decomposition, then MAD."""
    store = lake.lake()
    now = datetime.now(UTC)
    hourly = store.scan(HOURLY).select("bucket", "name", "tags", "mean").collect()
    table = metric_anomalies(hourly, now)
    store.write(METRIC_ANOMALIES, table, mode="overwrite")
    context.log.info(f"metric anomalies: {table.filter('is_anomaly').height:,} of {table.height:,}")
    yield dg.MaterializeResult(
        asset_key=table_key(METRIC_ANOMALIES),
        metadata={
            "anomalies": table.filter("is_anomaly").height,
            "judged": table.height,
            "summary": dg.MetadataValue.md(anomaly_summary(table, now)),
            "dagster/uri": store.uri(METRIC_ANOMALIES),
        },
    )


analytics_automation = follower(
    "analytics_automation",
    "analytics",
    120,
    "Recomputes the analytics tables whenever the rollups they read change.",
)

analytics_job = dg.define_asset_job(
    "analytics",
    selection=dg.AssetSelection.groups("analytics"),
    description="Recompute the analytics tables from the rollups.",
)
