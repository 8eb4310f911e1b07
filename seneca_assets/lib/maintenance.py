"""Table maintenance: compaction of small files, checkpoints, and vacuum that keeps snapshots.

A table with at least SMALL_FILES files under SMALL_BYTES is compacted (Delta's optimize, one
commit, at the table's own zstd level: the warm and archive tiers keep their stronger one);
every table gets a checkpoint so its log reads fast; vacuum then removes the files no version
within RETENTION still needs, except those of the versions a snapshot records
(`snapshots.kept_versions`): a snapshot stays readable (and restorable) however old it is.
Backups hold their own copies, so vacuum cannot take anything a backup needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import polars as pl
from deltalake import WriterProperties

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import ZSTD_LEVEL, Lake
from seneca_assets.lib.schemas import MAINTENANCE, TableSpec
from seneca_assets.lib.snapshots import kept_versions

SMALL_BYTES = 8 << 20
SMALL_FILES = 16
RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Maintained:
    """What maintenance did to one table."""

    table: str
    small_files: int
    compacted: int
    vacuumed: int


def small_files(lake: Lake, spec: TableSpec) -> int:
    """The table's live files under SMALL_BYTES."""
    actions = pl.DataFrame(lake.table(spec).get_add_actions(flatten=True))
    return int((actions.get_column("size_bytes") < SMALL_BYTES).sum()) if actions.height else 0


def maintain(lake: Lake, retention: timedelta = RETENTION) -> list[Maintained]:
    """Compact the tables with too many small files, checkpoint all, vacuum all."""
    keep = kept_versions(lake)
    done = []
    for spec in TABLES:
        if not lake.exists(spec):
            continue
        table = lake.table(spec)
        small = small_files(lake, spec)
        compacted = 0
        if small >= SMALL_FILES:
            level = spec.zstd_level or ZSTD_LEVEL  # colder tiers keep their stronger level
            properties = WriterProperties(compression="ZSTD", compression_level=level)
            compacted = int(
                table.optimize.compact(writer_properties=properties).get("numFilesRemoved", 0)
            )
        table.create_checkpoint()
        removed = table.vacuum(
            retention_hours=int(retention.total_seconds() // 3600),
            dry_run=False,
            enforce_retention_duration=False,
            keep_versions=keep.get(spec.name) or None,
        )
        done.append(Maintained(spec.name, small, compacted, len(removed)))
    return done


def record(lake: Lake, done: list[Maintained], at: datetime) -> pl.DataFrame:
    """Append a maintenance run to ops/maintenance; its rows."""
    rows = pl.DataFrame([{**asdict(m), "at": at} for m in done], schema=MAINTENANCE.schema)
    lake.write(MAINTENANCE, rows)
    return rows


def backlog(lake: Lake) -> dict[str, int]:
    """The tables with at least SMALL_FILES small files, and how many they have."""
    counts = {spec.name: small_files(lake, spec) for spec in TABLES if lake.exists(spec)}
    return {name: n for name, n in counts.items() if n >= SMALL_FILES}
