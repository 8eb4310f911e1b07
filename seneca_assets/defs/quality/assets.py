"""Data quality: the findings over what Marcus wrote, and checks on the tables they concern."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import CHECKED_FRESH, follower
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import publish, table_key, table_spec
from seneca_assets.lib.model.tables import TASK_EVENTS
from seneca_assets.lib.quality.findings import assess, summary
from seneca_assets.lib.quality.scores import summary as scores_summary
from seneca_assets.lib.quality.tables import DQ_FINDINGS, DQ_PLACEHOLDERS, DQ_SCORES
from seneca_assets.lib.schemas import EVENTS, TableSpec

CHECKED: tuple[TableSpec, ...] = (EVENTS, TASK_EVENTS)
"""The tables the findings are about, each with a check that surfaces them."""
CHECK = "no_quality_findings"


@dg.multi_asset(
    name="dq_findings",
    specs=[
        table_spec(
            table,
            group_name="quality",
            deps=[table_key(checked) for checked in CHECKED],
            automation_condition=dg.AutomationCondition.eager(),
            freshness_policy=CHECKED_FRESH,
        )
        for table in (DQ_FINDINGS, DQ_SCORES, DQ_PLACEHOLDERS)
    ],
)
def dq_findings(context: dg.AssetExecutionContext, lake: LakeResource):
    """Every data-quality check over bronze and silver (lib/quality).

    It writes ops/dq_findings, the scores per stream and day (ops/dq_scores), and the
    placeholder values analytics should leave out (ops/dq_placeholders).
    """
    store = lake.lake()
    found = assess(store, datetime.now(UTC))
    table, marked = found.findings, found.placeholders
    facts = {
        "errors": table.filter(pl.col("severity") == "error").height,
        "warnings": table.filter(pl.col("severity") == "warning").height,
        "summary": summary(table),
    }
    yield publish(context, store, DQ_FINDINGS, table, facts)
    yield publish(
        context, store, DQ_SCORES, found.scores, {"summary": scores_summary(found.scores)}
    )
    fields = [
        f"{r['stream']} {r['kind']}.{r['field']} = {r['value']}"
        for r in marked.iter_rows(named=True)
    ]
    yield publish(
        context,
        store,
        DQ_PLACEHOLDERS,
        marked,
        {
            "summary": "\n".join(
                [f"{marked.height:,} placeholder field(s).", *(f"- {f}" for f in fields)]
            )
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK,
            asset=table_key(table),
            additional_deps=[table_key(DQ_FINDINGS)],
            description="No data-quality finding about this table (ops/dq_findings).",
        )
        for table in CHECKED
    ],
    can_subset=True,
)
def quality_checks(context: dg.AssetCheckExecutionContext, lake: LakeResource):
    """Each checked table's findings: ERROR when any is an error, WARN when only warnings."""
    store = lake.lake()
    table = store.read(DQ_FINDINGS) if store.exists(DQ_FINDINGS) else DQ_FINDINGS.empty()
    for checked in CHECKED:
        if dg.AssetCheckKey(table_key(checked), CHECK) not in context.selected_asset_check_keys:
            continue
        about = table.filter(pl.col("table") == checked.name)
        errors = about.filter(pl.col("severity") == "error").height
        yield dg.AssetCheckResult(
            asset_key=table_key(checked),
            check_name=CHECK,
            passed=about.is_empty(),
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            metadata={
                "findings": about.height,
                "errors": errors,
                "checks": ", ".join(sorted(set(about.get_column("check")))) or "none",
            },
        )


quality_automation = follower(
    "quality_automation",
    "quality",
    300,
    "Re-runs the data-quality checks whenever bronze or silver change.",
)

quality_job = dg.define_asset_job(
    "quality",
    selection=dg.AssetSelection.groups("quality")
    | dg.AssetSelection.checks(*(dg.AssetCheckKey(table_key(t), CHECK) for t in CHECKED)),
    description="Run every data-quality check and surface the findings on the tables.",
)
