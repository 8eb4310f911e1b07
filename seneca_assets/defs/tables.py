"""Lake tables as Dagster assets: one key and one spec per table, shared by every domain."""

from typing import Any

import dagster as dg

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
