"""Backups on schedules, each verified by a restore into scratch and logged in ops/backups.

A weekly full backup, a daily differential one and an hourly incremental one.
"""

import os
import time
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import follower
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key, table_spec
from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.audit_chain import AUDIT_CHAIN, extend, verify
from seneca_assets.lib.audit_chain import head as chain_head
from seneca_assets.lib.backup import service
from seneca_assets.lib.backup.seal import KEY_VARIABLE
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.health import measure
from seneca_assets.lib.maintenance import backlog, maintain, record
from seneca_assets.lib.model.tables import SYSTEM_EVENTS
from seneca_assets.lib.retention import apply as apply_retention
from seneca_assets.lib.retention import declared, retention_summary, rows_deleted
from seneca_assets.lib.retention import validate as validate_retention
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import MAINTENANCE, STORAGE_HEALTH, TableSpec
from seneca_assets.lib.tiering import POLICY as TIERS
from seneca_assets.lib.tiering import flag_anomalies
from seneca_assets.lib.tiering import move as move_tiers


class BackupConfig(dg.Config):
    """Which kind of backup to make."""

    kind: str = "incremental"


@dg.multi_asset(
    name="backups",
    specs=[table_spec(BACKUP_LOG, group_name="lifecycle")],
)
def backups(context: dg.AssetExecutionContext, config: BackupConfig, lake: LakeResource):
    """Make a backup of the lake (lib/backup), verify it, and log both in ops/backups."""
    store = lake.lake()
    started = time.perf_counter()
    made = service.create(store, config.kind)
    seconds = time.perf_counter() - started
    checked = service.verify(made.id)
    row = pl.DataFrame(
        [
            {
                "backup_id": made.id,
                "kind": made.kind,
                "parent": made.parent,
                "created_at": made.created_at,
                "tables": len(made.versions),
                "files": len(made.files),
                "bytes": sum(f.size for f in made.files),
                "seconds": seconds,
                "verified": checked.ok,
                "problems": "; ".join(checked.problems) or None,
                "verified_at": datetime.now(UTC),
            }
        ],
        schema=BACKUP_LOG.schema,
    )
    store.write(BACKUP_LOG, row)
    log = store.read(BACKUP_LOG)
    good = log.filter("verified").height
    summary = (
        f"Backup {made.id} ({made.kind}): {len(made.files):,} files, "
        f"{row.item(0, 'bytes'):,} bytes in {seconds:.1f} s; "
        f"{'verified' if checked.ok else 'NOT verified: ' + checked.problems[0]}. "
        f"{good:,} of {log.height:,} logged backups verified."
    )
    context.log.info(summary)
    yield dg.MaterializeResult(
        asset_key=table_key(BACKUP_LOG),
        metadata={
            "summary": dg.MetadataValue.md(summary),
            "verified": checked.ok,
            "dagster/uri": store.uri(BACKUP_LOG),
            "dagster/row_count": log.height,
        },
    )
    if not checked.ok:
        raise dg.Failure(f"backup {made.id} does not verify: {checked.problems[0]}")
    gone, swept = service.prune()
    context.log.info(f"retention deleted {len(gone)} backup(s) and {swept:,} sealed file(s)")


@dg.multi_asset(
    name="audit_chain",
    specs=[
        table_spec(
            AUDIT_CHAIN,
            group_name="lifecycle",
            deps=[table_key(SYSTEM_EVENTS)],
            automation_condition=dg.AutomationCondition.eager(),
        )
    ],
    check_specs=[dg.AssetCheckSpec("chain_intact", asset=table_key(AUDIT_CHAIN))],
)
def audit_chain(context: dg.AssetExecutionContext, lake: LakeResource):
    """Extend the hash chain over silver/system_events, then verify all of it."""
    store = lake.lake()
    added = extend(store)
    checked = verify(store)
    summary = f"{added:,} audit rows chained; {checked.rows:,} in the chain, " + (
        "intact." if checked.intact else f"broken at {checked.broken_at}: {checked.reason}."
    )
    context.log.info(summary)
    yield dg.MaterializeResult(
        asset_key=table_key(AUDIT_CHAIN),
        metadata={
            "summary": dg.MetadataValue.md(summary),
            "head": chain_head(store) or "",
            "dagster/row_count": checked.rows,
        },
    )
    yield dg.AssetCheckResult(
        asset_key=table_key(AUDIT_CHAIN),
        check_name="chain_intact",
        passed=checked.intact,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"first_break": checked.broken_at or "", "reason": checked.reason or ""},
    )


validate_retention(declared(TABLES))  # a policy that would lose data stops the definitions
TIERS.validate()


@dg.multi_asset(
    name="retention",
    specs=[table_spec(RETENTION_LOG, group_name="lifecycle")],
)
def retention(context: dg.AssetExecutionContext, lake: LakeResource):
    """Apply the retention policies and move conversations between tiers (lib/retention.py)."""
    store = lake.lake()
    now = datetime.now(UTC)
    flagged = flag_anomalies(store, now)
    done = pl.concat([apply_retention(store, now), move_tiers(store, now)])
    summary = retention_summary(done, flagged)
    context.log.info(summary)
    yield dg.MaterializeResult(
        asset_key=table_key(RETENTION_LOG),
        metadata={
            "summary": dg.MetadataValue.md(summary),
            "rows_deleted": rows_deleted(done),
        },
    )


def _scheduled(name: str, cron: str, table: TableSpec, description: str) -> dg.ScheduleDefinition:
    """A running UTC schedule that materializes the asset of `table`."""
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        execution_timezone="UTC",
        target=dg.AssetSelection.assets(table_key(table)),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )


retention_daily = _scheduled(
    "retention_daily", "30 4 * * *", RETENTION_LOG,
    "Apply the retention policies once a day, at 04:30 UTC.",
)  # fmt: skip


@dg.multi_asset(name="maintenance", specs=[table_spec(MAINTENANCE, group_name="lifecycle")])
def maintenance(context: dg.AssetExecutionContext, lake: LakeResource):
    """Compact, checkpoint and vacuum every table, keeping what snapshots need."""
    store = lake.lake()
    done = maintain(store)
    rows = record(store, done, datetime.now(UTC))
    summary = (
        f"{len(done)} tables maintained: {int(rows.get_column('compacted').sum()):,} files "
        f"compacted, {int(rows.get_column('vacuumed').sum()):,} removed by vacuum."
    )
    context.log.info(summary)
    yield dg.MaterializeResult(
        asset_key=table_key(MAINTENANCE), metadata={"summary": dg.MetadataValue.md(summary)}
    )


maintenance_daily = _scheduled(
    "maintenance_daily", "0 5 * * *", MAINTENANCE,
    "Compact, checkpoint and vacuum every table daily at 05:00 UTC.",
)  # fmt: skip


HEALTH_CHECKS = {
    "growth_in_range": "monthly_growth",
    "query_response_in_range": "query_p95_ms",
    "cache_hit_rate_in_range": "cache_hit_rate",
    "backup_success_in_range": "backup_success_rate",
}
"""Each check of ops/storage_health and the measure it judges against the design's range."""


@dg.multi_asset(
    name="storage_health",
    specs=[table_spec(STORAGE_HEALTH, group_name="lifecycle")],
    check_specs=[
        dg.AssetCheckSpec(name, asset=table_key(STORAGE_HEALTH)) for name in HEALTH_CHECKS
    ],
)
def storage_health(context: dg.AssetExecutionContext, lake: LakeResource):
    """Measure the lake's health (lib/health.py), append it, and judge it against the ranges."""
    store = lake.lake()
    rows = measure(store, datetime.now(UTC))
    store.write(STORAGE_HEALTH, rows)
    lake_rows = rows.filter(pl.col("subject") == "(lake)")
    table = markdown_table(
        ["measure", "value", "unit", "status"],
        (
            (r["measure"], "not measured" if r["value"] is None else f"{r['value']:,.3g}",
             r["unit"], r["status"])
            for r in lake_rows.iter_rows(named=True)
        ),
    )  # fmt: skip
    summary = "\n".join(table[1:])
    yield dg.MaterializeResult(
        asset_key=table_key(STORAGE_HEALTH), metadata={"summary": dg.MetadataValue.md(summary)}
    )
    for check, name in HEALTH_CHECKS.items():
        row = lake_rows.filter(pl.col("measure") == name).row(0, named=True)
        yield dg.AssetCheckResult(
            asset_key=table_key(STORAGE_HEALTH),
            check_name=check,
            passed=row["status"] in ("healthy", "unranged"),
            severity=dg.AssetCheckSeverity.ERROR
            if row["status"] == "action"
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "value": row["value"] if row["value"] is not None else "not measured",
                "status": row["status"],
                "range": row["range"] or "",
            },
        )


storage_health_hourly = _scheduled(
    "storage_health_hourly", "45 * * * *", STORAGE_HEALTH,
    "Measure the lake's health every hour at :45.",
)  # fmt: skip


@dg.sensor(
    name="small_files_sensor",
    target=dg.AssetSelection.assets(table_key(MAINTENANCE)),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=600,
    description="Asks for maintenance when a table has gathered too many small files.",
)
def small_files_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    """A maintenance run when a table's small-file backlog reaches the compaction threshold."""
    waiting = backlog(lake.lake())
    if not waiting:
        return dg.SkipReason("no table has a small-file backlog")
    key = ",".join(f"{name}:{n}" for name, n in sorted(waiting.items()))
    return dg.RunRequest(run_key=key)


audit_job = dg.define_asset_job(
    "audit", selection=dg.AssetSelection.assets(table_key(AUDIT_CHAIN)),
    description="Extend and verify the audit trail's hash chain.",
)  # fmt: skip

lifecycle_automation = follower(
    "lifecycle_automation",
    "lifecycle",
    300,
    "Extends the audit trail's hash chain whenever silver/system_events grows.",
)

backup_job = dg.define_asset_job(
    "backup", selection=dg.AssetSelection.assets(table_key(BACKUP_LOG)),
    description="Make, verify and log one backup (config: kind).",
)  # fmt: skip


def _schedule(name: str, cron: str, kind: str, description: str) -> dg.ScheduleDefinition:
    """A running schedule of `kind` backups; it skips, saying why, while no key is set."""

    def run(context: dg.ScheduleEvaluationContext):
        if not os.environ.get(KEY_VARIABLE):
            return dg.SkipReason(f"{KEY_VARIABLE} is not set: encrypted backups refuse to run")
        return dg.RunRequest(run_config={"ops": {"backups": {"config": {"kind": kind}}}})

    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        execution_timezone="UTC",
        job=backup_job,
        execution_fn=run,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )


backup_full_weekly = _schedule(
    "backup_full_weekly", "0 2 * * 0", "full", "A full backup every Sunday at 02:00 UTC."
)
backup_differential_daily = _schedule(
    "backup_differential_daily", "30 2 * * *", "differential",
    "A differential backup (from the last full) daily at 02:30 UTC.",
)  # fmt: skip
backup_incremental_hourly = _schedule(
    "backup_incremental_hourly", "15 * * * *", "incremental",
    "An incremental backup (from the last backup) every hour at :15.",
)  # fmt: skip
