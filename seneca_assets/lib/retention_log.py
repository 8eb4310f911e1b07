"""ops/retention_log: what retention deleted, and up to where (read by the rollups' checks)."""

from __future__ import annotations

from datetime import datetime

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime


class RetentionLogModel(TableModel):
    """ops/retention_log: one deletion (or tier move) made by retention."""

    table: str = pa.Field(description="The table rows were deleted from.")
    predicate: str = pa.Field(description="The rows deleted, as the Delta predicate.")
    rows: int = pa.Field(ge=0, description="Rows deleted.")
    version_before: int = pa.Field(ge=0, description="The table's version before.")
    version_after: int = pa.Field(ge=0, description="Its version after (one transaction).")
    boundary: UtcTime = pa.Field(description="Everything before this time is gone.")
    at: UtcTime = pa.Field(description="When it was done.")
    reason: str = pa.Field(description="The policy, and what held the boundary back, if anything.")


RETENTION_LOG = TableSpec("ops/retention_log", RetentionLogModel)


def retained_since(lake: Lake, table: str) -> datetime | None:
    """The boundary retention has deleted `table` up to, or None if it never has."""
    if not lake.exists(RETENTION_LOG):
        return None
    rows = lake.scan(RETENTION_LOG).filter(pl.col("table") == table).select("boundary").collect()
    return rows.get_column("boundary").max() if rows.height else None  # type: ignore[return-value]
