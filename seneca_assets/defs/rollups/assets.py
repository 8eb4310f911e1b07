"""The rollups: metrics and activity per UTC hour, day and month, one multi-asset per grain.

Hours are built from silver, days from hours and months from days.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from seneca_assets.defs.partitions import BY_GRAIN
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key, table_spec
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import MESSAGES, METRICS, SYSTEM_EVENTS
from seneca_assets.lib.rollup_build import (
    FINER,
    activity_unsummed,
    build_range,
    percentile_errors,
    stale_hours,
    unsummed,
)
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.sketch import ALPHA

GOLD_POOL = "seneca_gold"
"""Steps that write the rollup tables share this pool: the assets here and the chunks of
`rollups_backfill`. Its limit is dagster.yaml's default of 1 until raised for parallel backfills
(`dagster instance concurrency set seneca_gold N`, docs/DEPLOY.md); concurrent writers of one
table commit safely (`Lake.write`), the limit bounds the load."""


FOLLOWS_FINER = (
    dg.AutomationCondition.any_deps_updated().since(
        dg.AutomationCondition.newly_requested() | dg.AutomationCondition.newly_updated()
    )
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
)
"""A day (or month) is built once any of its hours (or days) changed, and nothing else: only
closed periods are partitions, and any partition, not only the latest, follows its inputs."""


CHECKS = {
    "hourly": "hours_reconcile_with_silver",
    "daily": "days_sum_their_hours",
    "monthly": "months_sum_their_days",
}
P95_CHECK = "p95_within_1pct_of_raw"
ACTIVITY_CHECK = "activity_sums_its_finer_tier"
"""Days' (months') activity equals the sum of their hours' (days'), checked in SQL."""


def _checks(grain: str, table: TableSpec) -> list[dg.AssetCheckSpec]:
    checks = [dg.AssetCheckSpec(CHECKS[grain], asset=table_key(table))]
    if grain != "hourly":
        checks.append(dg.AssetCheckSpec(ACTIVITY_CHECK, asset=table_key(TIERS[grain][1])))
    if grain == "monthly":
        checks.append(dg.AssetCheckSpec(P95_CHECK, asset=table_key(table)))
    return checks


def check_results(grain: str, lake: Lake, duckdb: DuckDBResource) -> list[dg.AssetCheckResult]:
    """The checks of a grain, over the whole tables (they are cheap next to a build)."""
    table, activity_table = TIERS[grain]
    if grain == "hourly":
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        stale = stale_hours(lake, now)
        results = [
            dg.AssetCheckResult(
                asset_key=table_key(table),
                check_name=CHECKS[grain],
                passed=not stale,
                metadata={"stale_hours": len(stale), "first": str(stale[0]) if stale else ""},
            )
        ]
    else:
        wrong = unsummed(lake, grain)
        results = [
            dg.AssetCheckResult(
                asset_key=table_key(table),
                check_name=CHECKS[grain],
                passed=wrong == 0,
                metadata={"rows_not_summing": wrong},
            )
        ]
    if grain == "monthly":
        errors = percentile_errors(lake, grain)
        results.append(
            dg.AssetCheckResult(
                asset_key=table_key(table),
                check_name=P95_CHECK,
                passed=all(error <= ALPHA for error in errors),
                metadata={"series": len(errors), "worst": max(errors, default=0.0)},
            )
        )
    if grain != "hourly":
        with duckdb.get_connection() as con:
            wrong = activity_unsummed(con, lake, grain)
        results.append(
            dg.AssetCheckResult(
                asset_key=table_key(activity_table),
                check_name=ACTIVITY_CHECK,
                passed=wrong == 0,
                metadata={"rows_not_summing": wrong},
            )
        )
    return results


def _rollups(grain: str) -> dg.AssetsDefinition:
    metrics_table, activity_table = TIERS[grain]
    if grain == "hourly":
        deps = {
            metrics_table: [table_key(METRICS)],
            activity_table: [table_key(MESSAGES), table_key(SYSTEM_EVENTS)],
        }
        condition = None
    else:
        finer_metrics, finer_activity = TIERS[FINER[grain]]
        deps = {
            metrics_table: [table_key(finer_metrics)],
            activity_table: [table_key(finer_activity)],
        }
        condition = FOLLOWS_FINER

    @dg.multi_asset(
        name=f"rollups_{grain}",
        specs=[
            table_spec(t, group_name="gold", deps=deps[t], automation_condition=condition)
            for t in (metrics_table, activity_table)
        ],
        check_specs=_checks(grain, metrics_table),
        partitions_def=BY_GRAIN[grain],
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=GOLD_POOL,
    )
    def rollups(context: dg.AssetExecutionContext, lake: LakeResource, duckdb: DuckDBResource):
        window = context.partition_time_window
        written = build_range(lake.lake(), grain, window.start, window.end)
        context.log.info(f"{grain} rollups of {window.start} .. {window.end}: {written}")
        for table in (metrics_table, activity_table):
            yield dg.MaterializeResult(
                asset_key=table_key(table),
                metadata={
                    "dagster/uri": lake.lake().uri(table),
                    "rows_written": written[table.name],
                    "range": f"{window.start.isoformat()} .. {window.end.isoformat()}",
                },
            )
        yield from check_results(grain, lake.lake(), duckdb)

    rollups.__doc__ = f"The {grain} rollups of metrics and activity."
    return rollups


rollups_hourly = _rollups("hourly")
rollups_daily = _rollups("daily")
rollups_monthly = _rollups("monthly")
