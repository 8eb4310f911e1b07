"""The analytics tables, recomputed when the rollups they read change."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import follower
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import publish, table_key, table_spec
from seneca_assets.lib.analytics.agents import agent_performance
from seneca_assets.lib.analytics.agents import summary as agents_summary
from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.analytics.anomalies import summary as anomaly_summary
from seneca_assets.lib.analytics.capacity import summary as capacity_summary
from seneca_assets.lib.analytics.capacity import table_growth
from seneca_assets.lib.analytics.conversations import conversation_patterns as patterns_of
from seneca_assets.lib.analytics.conversations import summary as patterns_summary
from seneca_assets.lib.analytics.forecasts import metric_forecasts
from seneca_assets.lib.analytics.forecasts import summary as forecast_summary
from seneca_assets.lib.analytics.network import collaboration_network as network_of
from seneca_assets.lib.analytics.network import summary as network_summary
from seneca_assets.lib.analytics.outcomes import project_outcomes
from seneca_assets.lib.analytics.outcomes import summary as outcomes_summary
from seneca_assets.lib.analytics.seasonal import metric_seasonality
from seneca_assets.lib.analytics.seasonal import summary as seasonality_summary
from seneca_assets.lib.analytics.tables import (
    AGENT_PERFORMANCE,
    CAPACITY,
    COLLABORATION_NETWORK,
    CONVERSATION_PATTERNS,
    METRIC_ANOMALIES,
    METRIC_FORECASTS,
    METRIC_SEASONALITY,
    METRIC_TRENDS,
    PROJECT_OUTCOMES,
)
from seneca_assets.lib.analytics.trends import metric_trends, summary
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import (
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    TASK_EVENTS,
    TASKS,
)
from seneca_assets.lib.schemas import TableSpec

ANALYTICS_POOL = "seneca_analytics"
HOURLY = TIERS["hourly"][0]
DAILY = TIERS["daily"][0]


def _spec(table: TableSpec, *reads: TableSpec) -> dg.AssetSpec:
    """An analytics table recomputed whenever a table it reads changes."""
    return table_spec(
        table,
        group_name="analytics",
        deps=[table_key(read) for read in reads],
        automation_condition=dg.AutomationCondition.eager(),
    )


def _rollups(store: Lake, table: TableSpec) -> pl.DataFrame:
    """What the analytics read of a rollup tier: each series' bucket means."""
    return store.scan(table).select("bucket", "name", "tags", "mean").collect()


@dg.multi_asset(
    name="trends",
    specs=[_spec(METRIC_TRENDS, *(t[0] for t in TIERS.values()))],
    pool=ANALYTICS_POOL,
)
def trends(context: dg.AssetExecutionContext, lake: LakeResource):
    """Trends of every series at each tier: corrected Mann-Kendall and Theil-Sen (lib/analytics)."""
    store = lake.lake()
    rows = {resolution: _rollups(store, tables[0]) for resolution, tables in TIERS.items()}
    table = metric_trends(rows, datetime.now(UTC))
    yield publish(
        context,
        store,
        METRIC_TRENDS,
        table,
        {"summary": summary(table)},
    )


@dg.multi_asset(name="seasonality", specs=[_spec(METRIC_SEASONALITY, HOURLY)], pool=ANALYTICS_POOL)
def seasonality(context: dg.AssetExecutionContext, lake: LakeResource):
    """Each hourly series' daily and weekly profiles, seasonal strength and dominant period."""
    store = lake.lake()
    table = metric_seasonality(_rollups(store, HOURLY), datetime.now(UTC))
    strong = table.filter(pl.col("daily_strength") >= 0.6).height
    facts = {"strong_daily_cycle": strong, "summary": seasonality_summary(table)}
    yield publish(context, store, METRIC_SEASONALITY, table, facts)


@dg.multi_asset(name="anomalies", specs=[_spec(METRIC_ANOMALIES, HOURLY)], pool=ANALYTICS_POOL)
def anomalies(context: dg.AssetExecutionContext, lake: LakeResource):
    """Every hourly bucket of the last 28 days judged: seasonal decomposition, then MAD."""
    store = lake.lake()
    now = datetime.now(UTC)
    table = metric_anomalies(_rollups(store, HOURLY), now)
    facts = {
        "anomalies": table.filter("is_anomaly").height,
        "judged": table.height,
        "summary": anomaly_summary(table, now),
    }
    yield publish(context, store, METRIC_ANOMALIES, table, facts)


@dg.multi_asset(
    name="forecasts", specs=[_spec(METRIC_FORECASTS, HOURLY, DAILY)], pool=ANALYTICS_POOL
)
def forecasts(context: dg.AssetExecutionContext, lake: LakeResource):
    """The next 7 days hourly and 30 days daily of every series, with intervals and a backtest."""
    store = lake.lake()
    now = datetime.now(UTC)
    table = metric_forecasts(_rollups(store, HOURLY), now, _rollups(store, DAILY))
    facts = {"summary": forecast_summary(table)}
    yield publish(context, store, METRIC_FORECASTS, table, facts)


@dg.multi_asset(name="agents", specs=[_spec(AGENT_PERFORMANCE, TASKS)], pool=ANALYTICS_POOL)
def agents(context: dg.AssetExecutionContext, lake: LakeResource):
    """Each agent's weeks: tasks done, durations, estimate ratio, blockers; and its trend."""
    store = lake.lake()
    table = agent_performance(store.read(TASKS), datetime.now(UTC))
    improving = table.filter(pl.col("trend") == "improving").select("agent_id").unique().height
    facts = {"agents_improving": improving, "summary": agents_summary(table)}
    yield publish(context, store, AGENT_PERFORMANCE, table, facts)


@dg.multi_asset(
    name="outcomes", specs=[_spec(PROJECT_OUTCOMES, TASKS, DECISIONS)], pool=ANALYTICS_POOL
)
def outcomes(context: dg.AssetExecutionContext, lake: LakeResource):
    """What separates completed tasks and projects from blocked or abandoned ones."""
    store = lake.lake()
    table = project_outcomes(store.read(TASKS), store.read(DECISIONS), datetime.now(UTC))
    separating = table.filter(pl.col("separates").fill_null(False))
    facts = {"separating": separating.height, "summary": outcomes_summary(table)}
    yield publish(context, store, PROJECT_OUTCOMES, table, facts)


@dg.multi_asset(
    name="conversation_patterns",
    specs=[_spec(CONVERSATION_PATTERNS, CONVERSATIONS)],
    pool=ANALYTICS_POOL,
)
def conversation_patterns(context: dg.AssetExecutionContext, lake: LakeResource):
    """Topics, flows between kinds of message, and early signals of a task's outcome."""
    store = lake.lake()
    table = patterns_of(store.read(CONVERSATIONS), datetime.now(UTC))
    facts = {"summary": patterns_summary(table)}
    yield publish(context, store, CONVERSATION_PATTERNS, table, facts)


@dg.multi_asset(
    name="collaboration_network",
    specs=[_spec(COLLABORATION_NETWORK, MESSAGES, TASK_EVENTS)],
    pool=ANALYTICS_POOL,
)
def collaboration_network(context: dg.AssetExecutionContext, lake: LakeResource):
    """Per week, who works with whom: links by messages and shared tasks, and centrality."""
    store = lake.lake()
    table = network_of(
        store.scan(MESSAGES).select("event_time", "sender", "recipient").collect(),
        store.scan(TASK_EVENTS).select("event_time", "task_id", "fact", "agent_id").collect(),
        datetime.now(UTC),
    )
    facts = {"summary": network_summary(table)}
    yield publish(context, store, COLLABORATION_NETWORK, table, facts)


@dg.multi_asset(
    name="capacity",
    specs=[
        table_spec(
            CAPACITY,
            group_name="analytics",
            automation_condition=dg.AutomationCondition.on_cron("0 4 * * *"),
        )
    ],
    pool=ANALYTICS_POOL,
)
def capacity(context: dg.AssetExecutionContext, lake: LakeResource):
    """Each table's growth in data time, and when the lake will reach its size limit (daily)."""
    store = lake.lake()
    table = table_growth(store, datetime.now(UTC))
    facts = {"summary": capacity_summary(table)}
    yield publish(context, store, CAPACITY, table, facts)


analytics_automation = follower(
    "analytics_automation",
    "analytics",
    120,
    "Recomputes the analytics tables whenever the rollups or silver tables they read change.",
)

analytics_job = dg.define_asset_job(
    "analytics",
    selection=dg.AssetSelection.groups("analytics"),
    description="Recompute the analytics tables from the rollups.",
)
