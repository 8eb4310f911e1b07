"""The catalogue of every lake table, generated from the pandera models into docs/TABLES.md."""

import inspect

from seneca_assets.lib.model.tables import SILVER_TABLES
from seneca_assets.lib.schemas import BRONZE_TABLES, TableSpec

TABLES: tuple[TableSpec, ...] = BRONZE_TABLES + SILVER_TABLES
"""Every table of the lake, in the order the catalogue lists them."""


def tables_markdown() -> str:
    """The table catalogue as Markdown, generated from the models."""
    out = [
        "# Tables",
        "",
        "Generated from `seneca_assets/lib/schemas.py` by `seneca docs`; do not edit by hand.",
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
