"""When ingestion runs: when log files change, and hourly so still tails are taken in time."""

import dagster as dg

from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.sources import folder_signature

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.groups("bronze"),
    description="Ingest what is new in the Marcus log folder into the bronze tables.",
    tags={"seneca/writer": "ingest"},
)


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def marcus_log_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    """Request an ingestion run when any log file appears, grows or changes."""
    settings = lake.settings()
    if not settings.log_dir.is_dir():
        return dg.SkipReason(f"log folder {settings.log_dir} does not exist")
    signature = folder_signature(settings.log_dir)
    if signature == context.cursor:
        return dg.SkipReason("no log file changed")
    context.update_cursor(signature)
    return dg.RunRequest(run_key=signature)


ingest_hourly = dg.ScheduleDefinition(
    name="ingest_hourly",
    job=ingest_job,
    cron_schedule="17 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Takes unterminated last lines once their file has been still for the grace "
    "period, which changes no file and so wakes no sensor.",
)
