"""The monthly compliance report: the design's audit questions answered for each closed month.

The report is a Markdown file and its JSON twin under `<export root>/compliance/` (lib/compliance),
not a lake table: the asset writes files through the library, as every asset here writes through
`lib`, and records the answers in its metadata.
"""

import dagster as dg

from seneca_assets.defs.partitions import MONTHLY
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key
from seneca_assets.lib.audit_chain import AUDIT_CHAIN
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.compliance import Period, build_report, summary, write
from seneca_assets.lib.export import confined, export_root
from seneca_assets.lib.model.tables import DECISIONS, SYSTEM_EVENTS
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import REDACTIONS

REPORTS_FOLDER = "compliance"
"""Where the monthly reports go, under the export root (`SENECA_EXPORT_DIR`)."""
COMPLIANCE_REPORT = dg.AssetKey(["reports", "compliance"])
ANSWERED = "every_question_answered"
CLEAR = "nothing_needs_attention"


@dg.asset(
    key=COMPLIANCE_REPORT,
    group_name="lifecycle",
    kinds={"duckdb", "markdown"},
    partitions_def=MONTHLY,
    deps=[
        table_key(t)
        for t in (SYSTEM_EVENTS, DECISIONS, REDACTIONS, RETENTION_LOG, BACKUP_LOG, AUDIT_CHAIN)
    ],
    check_specs=[
        dg.AssetCheckSpec(ANSWERED, asset=COMPLIANCE_REPORT),
        dg.AssetCheckSpec(CLEAR, asset=COMPLIANCE_REPORT),
    ],
)
def compliance_report(context: dg.AssetExecutionContext, lake: LakeResource):
    """The month's compliance report, each answer with the query that produced it.

    The audit trail, decisions, redactions, retention, backups, the audit chain, and how to see
    the lake as it was.
    """
    window = context.partition_time_window
    period = Period(window.start, window.end)
    folder = confined(export_root(), REPORTS_FOLDER)
    report = build_report(lake.settings().lake_dir, period)
    markdown, data = write(report, folder)
    context.log.info(f"compliance report for {period.label}: {markdown}")
    failed = ", ".join(s.key for s in report.failed)
    attention = ", ".join(s.key for s in report.attention)
    return dg.MaterializeResult(
        metadata={
            "summary": dg.MetadataValue.md(summary(report)),
            "dagster/uri": dg.MetadataValue.path(markdown),
            "json": dg.MetadataValue.path(data),
            "period": period.describe(),
            "read_versions": dg.MetadataValue.json(report.read),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=ANSWERED,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"not_answered": failed},
            ),
            dg.AssetCheckResult(
                check_name=CLEAR,
                passed=not attention,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"needs_attention": attention},
            ),
        ],
    )


compliance_job = dg.define_asset_job(
    "compliance",
    selection=dg.AssetSelection.assets(COMPLIANCE_REPORT),
    description="Write the compliance report of one month (partitioned as the asset is).",
)

compliance_monthly = dg.build_schedule_from_partitioned_job(
    compliance_job,
    name="compliance_monthly",
    description="The compliance report of the month before, on the 1st at 06:00 UTC.",
    day_of_month=1,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
