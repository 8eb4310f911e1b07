"""The silver tables, built together from bronze/events whenever bronze changes."""

import dagster as dg

from seneca_assets.defs.automation import MODELLED_FRESH
from seneca_assets.defs.ingest.assets import EVENTS_KEY
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key, table_spec
from seneca_assets.lib.model.build import SilverReport, build_silver
from seneca_assets.lib.model.checks import (
    KEYS,
    data_span,
    reconcile_messages,
    table_health,
)
from seneca_assets.lib.model.tables import (
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    SILVER_TABLES,
    TASKS,
)
from seneca_assets.lib.schemas import TableSpec

SILVER_POOL = "seneca_silver"
"""Runs that write the silver tables share this pool (limit 1 in dagster.yaml)."""
MESSAGES_KEY = table_key(MESSAGES)


def _build_facts(table: TableSpec, report: SilverReport) -> dict[str, str | int]:
    """What this build did that concerns `table`, beyond its row counts."""
    if table is MESSAGES:
        return {"silver_build": report.summary()}
    if table is CONVERSATIONS and report.conversations_cut is not None:
        return {"rebuilt_from": report.conversations_cut.isoformat()}
    if table is TASKS:
        return {"tasks_recomputed": report.tasks_recomputed}
    if table is DECISIONS:
        return {"decisions_rejudged": report.decisions_rejudged}
    return {}


def _checks(table: TableSpec) -> list[dg.AssetCheckSpec]:
    checks = [
        dg.AssetCheckSpec("keys_unique_and_present", asset=table_key(table)),
        dg.AssetCheckSpec("times_within_data_span", asset=table_key(table)),
    ]
    if table is MESSAGES:
        checks += [
            dg.AssetCheckSpec("every_conversation_event_once", asset=MESSAGES_KEY),
            dg.AssetCheckSpec("every_message_from_bronze", asset=MESSAGES_KEY),
        ]
    return checks


@dg.multi_asset(
    name="silver_model",
    specs=[
        table_spec(
            t,
            group_name="silver",
            deps=[EVENTS_KEY],
            automation_condition=dg.AutomationCondition.eager(),
            freshness_policy=MODELLED_FRESH,
        )
        for t in SILVER_TABLES
    ],
    check_specs=[check for t in SILVER_TABLES for check in _checks(t)],
    pool=SILVER_POOL,
)
def silver_model(context: dg.AssetExecutionContext, lake: LakeResource):
    """Model what is new in bronze/events into the silver tables, exactly and incrementally.

    Messages, system events, decisions, task facts, metrics and data-quality issues are appended
    per row; tasks, agents and conversations are recomputed for what the new rows touch.
    """
    store = lake.lake()
    report = build_silver(store, lake.model_settings())
    context.log.info(report.summary())
    span = data_span(store)
    for table in SILVER_TABLES:
        health = table_health(store, table, span)
        yield dg.MaterializeResult(
            asset_key=table_key(table),
            metadata={
                "dagster/uri": store.uri(table),
                "dagster/row_count": health.rows,
                "rows_written": report.rows.get(table.name, 0),
                "built_up_to_batch": report.acknowledged_batch,
                **_build_facts(table, report),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=table_key(table),
            check_name="keys_unique_and_present",
            passed=health.null_keys == 0 and health.duplicate_keys == 0,
            metadata={
                "key": KEYS[table],
                "null_keys": health.null_keys,
                "duplicate_keys": health.duplicate_keys,
            },
        )
        yield dg.AssetCheckResult(
            asset_key=table_key(table),
            check_name="times_within_data_span",
            passed=health.outside_span == 0,
            metadata={
                "outside_span": health.outside_span,
                "span": "empty"
                if span is None
                else f"{span[0].isoformat()} .. {span[1].isoformat()}",
            },
        )
    reconciliation = reconcile_messages(store)
    yield dg.AssetCheckResult(
        asset_key=MESSAGES_KEY,
        check_name="every_conversation_event_once",
        passed=reconciliation.missing == 0
        and table_health(store, MESSAGES, None).duplicate_keys == 0,
        metadata={
            "bronze_conversation_events": reconciliation.bronze_events,
            "missing": reconciliation.missing,
        },
    )
    yield dg.AssetCheckResult(
        asset_key=MESSAGES_KEY,
        check_name="every_message_from_bronze",
        passed=reconciliation.orphans == 0,
        metadata={"orphans": reconciliation.orphans},
    )
