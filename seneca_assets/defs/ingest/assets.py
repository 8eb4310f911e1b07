"""The bronze tables, materialized together by one incremental, exactly-once ingestion."""

import dagster as dg

from seneca_assets.defs.automation import INGESTED_FRESH
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key, table_spec
from seneca_assets.lib.ingest import QUARANTINE_SHARE_WARN, bronze_health, ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, QUARANTINE, REDACTIONS

INGEST_POOL = "seneca_ingest"
"""Runs that write the bronze tables share this pool (limit 1 in dagster.yaml)."""

EVENTS_KEY = table_key(EVENTS)
QUARANTINE_KEY = table_key(QUARANTINE)


@dg.multi_asset(
    name="bronze_ingestion",
    specs=[
        table_spec(t, freshness_policy=INGESTED_FRESH if t is EVENTS else None)
        for t in (EVENTS, QUARANTINE, INGEST_FILES, REDACTIONS)
    ],
    check_specs=[
        dg.AssetCheckSpec("no_duplicate_event_ids", asset=EVENTS_KEY),
        dg.AssetCheckSpec("quarantine_share_below_1pct", asset=QUARANTINE_KEY),
    ],
    pool=INGEST_POOL,
)
def bronze_ingestion(context: dg.AssetExecutionContext, lake: LakeResource):
    """Read what is new in every Marcus log file and store each line exactly once.

    Valid lines go to bronze/events, bad lines to bronze/quarantine with their reason, file
    offsets to bronze/ingest_files and redacted secrets to ops/redactions.
    """
    settings = lake.settings()
    report = ingest(settings)
    context.log.info(report.summary())
    health = bronze_health(lake.lake(), since_batch=report.since_batch)
    counts = {
        EVENTS: health.events,
        QUARANTINE: health.quarantined,
        INGEST_FILES: report.files_seen,
        REDACTIONS: report.redactions,
    }
    for table, rows in counts.items():
        yield dg.MaterializeResult(
            asset_key=table_key(table),
            metadata={
                "dagster/uri": Lake(settings.lake_dir).uri(table),
                "dagster/row_count" if table is not REDACTIONS else "redacted_this_run": rows,
                **({"run": report.as_dict()} if table is EVENTS else {}),
            },
        )
    yield dg.AssetCheckResult(
        asset_key=EVENTS_KEY,
        check_name="no_duplicate_event_ids",
        passed=health.duplicate_event_ids == 0,
        metadata={
            "duplicates": health.duplicate_event_ids,
            "rows_checked": health.checked_rows,
            "scope": "time windows of this run's rows" if report.since_batch else "whole table",
        },
    )
    yield dg.AssetCheckResult(
        asset_key=QUARANTINE_KEY,
        check_name="quarantine_share_below_1pct",
        passed=health.quarantine_share <= QUARANTINE_SHARE_WARN,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"share": health.quarantine_share, "quarantined": health.quarantined},
    )
