"""Generated documentation, so that it cannot drift from the code.

The table catalogue (docs/TABLES.md) comes from the pandera models, the derived metrics
(docs/METRICS.md) from their definitions.
"""

import inspect

from seneca_assets.lib.analytics.tables import ANALYTICS_TABLES
from seneca_assets.lib.audit_chain import AUDIT_CHAIN, AUDIT_RETIRED
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.gold_tables import GOLD_TABLES
from seneca_assets.lib.holds import LEGAL_HOLDS
from seneca_assets.lib.model.metrics import DERIVED
from seneca_assets.lib.model.tables import SILVER_TABLES
from seneca_assets.lib.quality.tables import QUALITY_TABLES
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import (
    BRONZE_TABLES,
    MAINTENANCE,
    SNAPSHOTS,
    STORAGE_HEALTH,
    TableSpec,
)
from seneca_assets.lib.search.tables import SEMANTIC_TABLES
from seneca_assets.lib.tier_tables import TIERING_TABLES

TABLES: tuple[TableSpec, ...] = (
    BRONZE_TABLES
    + SILVER_TABLES
    + TIERING_TABLES
    + GOLD_TABLES
    + ANALYTICS_TABLES
    + SEMANTIC_TABLES
    + QUALITY_TABLES
    + (SNAPSHOTS, BACKUP_LOG, AUDIT_CHAIN, AUDIT_RETIRED, RETENTION_LOG, LEGAL_HOLDS)
    + (MAINTENANCE, STORAGE_HEALTH)
)
"""Every table of the lake, in the order the catalogue lists them."""


def tables_markdown() -> str:
    """The table catalogue as Markdown, generated from the models."""
    out = [
        "# Tables",
        "",
        "Generated from the pandera models (`seneca_assets/lib/schemas.py`, "
        "`seneca_assets/lib/model/tables.py`, `seneca_assets/lib/gold_tables.py`) by "
        "`seneca docs`; do not edit by hand.",
        "",
    ]
    for table in TABLES:
        schema = table.model.to_schema()
        out += [f"## {table.name}", "", inspect.cleandoc(table.model.__doc__ or ""), ""]
        if table.partition_by:
            out += [f"Partitioned by: {', '.join(table.partition_by)}.", ""]
        out += ["| column | type | nullable | checks | meaning |", "|---|---|---|---|---|"]
        for name, column in schema.columns.items():
            checks = ", ".join(str(c) for c in column.checks)
            if column.unique:
                checks = ", ".join(filter(None, [checks, "unique"]))
            out.append(
                f"| `{name}` | {column.dtype} | {'yes' if column.nullable else 'no'} | "
                f"{checks} | {column.description or ''} |"
            )
        out.append("")
    return "\n".join(out)


def metrics_markdown() -> str:
    """The derived metrics of silver/metrics as Markdown, generated from their definitions."""
    out = [
        "# Metrics",
        "",
        "Generated from `seneca_assets/lib/model/metrics.py` by `seneca docs`; do not edit by "
        "hand.",
        "",
        "silver/metrics holds Seneca's own metric events as given (`derivation = given`, names "
        "as written) and the metrics below, derived from Marcus's logs. A series is a `name` and "
        "its `tags` (JSON with sorted keys); `subject` names the task, conversation or hour a "
        "value belongs to, and `event_id` the event it was read from or anchored at.",
        "",
        "| name | unit | tags | derivation | how it is computed |",
        "|---|---|---|---|---|",
    ]
    for metric in DERIVED:
        tags = ", ".join(f"`{t}`" for t in metric.tags) or "none"
        out.append(
            f"| `{metric.name}` | {metric.unit} | {tags} | {metric.derivation} | {metric.how} |"
        )
    out += [
        "",
        "Derivations: `row` metrics are appended with the event they come from; `tasks` metrics "
        "are rewritten with silver/tasks; `conversations` metrics are rewritten from the "
        "earliest conversation a build touched; `activity` metrics are rewritten for the hours "
        "new messages fall in.",
        "",
    ]
    return "\n".join(out)
