"""Named snapshots of the lake: the Delta version of every table at one moment.

A snapshot costs one row per table: Delta keeps the versions themselves (until vacuum removes
the files they need). Readers open each table at its recorded version (`lib/query`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from deltalake import DeltaTable

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.schemas import SNAPSHOTS


def take(lake: Lake, name: str) -> dict[str, int]:
    """Record the current version of every existing table under `name`; ValueError if taken.

    Ingestion and the silver build are held off meanwhile, so bronze and silver agree.
    """
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        return record(lake, name)


def record(lake: Lake, name: str) -> dict[str, int]:
    """`take`, for a caller that already holds off ingestion and the silver build."""
    if not name.strip():
        raise ValueError("a snapshot needs a name")
    if versions(lake, name) is not None:
        raise ValueError(f"a snapshot named {name!r} already exists")
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


def restore(lake: Lake, name: str, tables: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """Restore every table of snapshot `name` (or only `tables`) to its recorded version.

    Each table is restored in one Delta commit (its history is kept: the restore is a new
    version), with ingestion and the silver build held off; a table whose files are already
    the snapshot's is left alone. Tables the snapshot does not name are left as they are.
    Returns, per table restored, its version before and the one restored to; ValueError for an
    unknown snapshot or a table it does not hold.
    """
    taken = versions(lake, name)
    if taken is None:
        raise ValueError(f"there is no snapshot named {name!r}")
    chosen = tables or sorted(taken)
    unknown = sorted(set(chosen) - set(taken))
    if unknown:
        raise ValueError(f"snapshot {name!r} holds no table {', '.join(unknown)}")
    specs = {t.name: t for t in TABLES}
    done: dict[str, tuple[int, int]] = {}
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        for table in chosen:
            delta = lake.table(specs[table])
            then = DeltaTable(lake.uri(specs[table]), version=taken[table])
            if live_files(delta) != live_files(then):  # a restore is a new version: compare files
                current = delta.version()
                delta.restore(taken[table])
                done[table] = (current, taken[table])
    return done


def live_files(table: DeltaTable) -> set[str]:
    """The paths of a table version's live files (its add actions)."""
    return set(pl.DataFrame(table.get_add_actions(flatten=True)).get_column("path").to_list())


def kept_versions(lake: Lake) -> dict[str, list[int]]:
    """Per table, the versions some snapshot records: what vacuum must keep the files of."""
    if not lake.exists(SNAPSHOTS):
        return {}
    rows = lake.scan(SNAPSHOTS).group_by("table").agg(pl.col("version").unique().sort()).collect()
    return {table: list(found) for table, found in rows.iter_rows()}
