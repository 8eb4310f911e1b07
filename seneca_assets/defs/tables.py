"""Lake tables as Dagster assets: one key and one spec per table, shared by every domain."""

from typing import Any

import dagster as dg
import polars as pl

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import TableSpec


def table_key(table: TableSpec) -> dg.AssetKey:
    """The asset key of a lake table: its path, `["silver", "messages"]`."""
    return dg.AssetKey(table.name.split("/"))


def table_spec(table: TableSpec, group_name: str = "bronze", **kwargs: Any) -> dg.AssetSpec:
    """The asset spec of a lake table: its key, group, kinds, description and column schema."""
    return dg.AssetSpec(
        key=table_key(table),
        group_name=group_name,
        kinds={"delta", "polars"},
        **kwargs,
        description=(table.model.__doc__ or "").strip(),
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, str(dtype)) for name, dtype in table.schema.items()]
            )
        },
    )


def publish(
    context: dg.AssetExecutionContext,
    store: Lake,
    spec: TableSpec,
    table: pl.DataFrame,
    facts: dict[str, Any],
) -> dg.MaterializeResult:
    """Replace the table with `table`, and describe it: `facts`, its location and rows.

    A fact named `summary` is markdown.
    """
    store.write(spec, table, mode="overwrite")
    context.log.info(f"{spec.name}: {table.height:,} rows")
    metadata = {
        key: dg.MetadataValue.md(value) if key == "summary" else value
        for key, value in facts.items()
    }
    return dg.MaterializeResult(
        asset_key=table_key(spec),
        metadata={**metadata, "dagster/uri": store.uri(spec), "dagster/row_count": table.height},
    )
