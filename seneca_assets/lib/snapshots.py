"""Named snapshots of the lake: the Delta version of every table at one moment.

A snapshot costs one row per table: Delta keeps the versions themselves (until vacuum removes
the files they need). Readers open each table at its recorded version (`lib/query`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.schemas import SNAPSHOTS


def take(lake: Lake, name: str) -> dict[str, int]:
    """Record the current version of every existing table under `name`; ValueError if taken.

    Ingestion and the silver build are held off meanwhile, so bronze and silver agree.
    """
    if not name.strip():
        raise ValueError("a snapshot needs a name")
    if versions(lake, name) is not None:
        raise ValueError(f"a snapshot named {name!r} already exists")
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        taken = {t.name: lake.table(t).version() for t in TABLES if lake.exists(t)}
        now = datetime.now(UTC)
        rows = pl.DataFrame(
            {"name": name, "table": list(taken), "version": list(taken.values()), "taken_at": now},
            schema=SNAPSHOTS.schema,
        )
        lake.write(SNAPSHOTS, rows)
    return taken


def versions(lake: Lake, name: str) -> dict[str, int] | None:
    """The table versions of snapshot `name`, or None if there is none by that name."""
    if not lake.exists(SNAPSHOTS):
        return None
    rows = lake.scan(SNAPSHOTS).filter(pl.col("name") == name).select("table", "version").collect()
    return dict(rows.iter_rows()) if rows.height else None
