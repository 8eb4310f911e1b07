"""Returning the live lake to a backup, in place: each table's rows as a new Delta version.

The caller (`service.restore_in_place`) has verified the backup by restoring it into a scratch
folder; this module works from that folder. With ingestion and the silver build held off, a
snapshot of the lake as it is is taken first (`before-restore-<backup id>`; `seneca snapshot
restore` with its name undoes the restore), then each table the backup holds is returned to the
rows of its backup version, in one commit, its history kept:
- a table whose live files are the version's already is left alone (and one with another
  history whose rows are the version's: after such a restore, the next finds it so);
- when the table's log still reads that version, by the same commit (SHA-256), the version's
  data files that the table no longer has (vacuumed since) are put back from the backup, and
  the table is restored to it (`DeltaTable.restore`): the very files of the backup;
- otherwise (the log was cleaned up past it, or the table was dropped and made anew, or is
  gone) the version's rows are written over the table in one overwrite commit, with the
  backup's schema and partitions.

The logs of what was done to the lake (`LOGS_KEPT`: snapshots, backups, maintenance runs,
storage health) and the legal holds are left as they are: returning them would erase the
record of what happened since the backup, the very snapshot that undoes this restore, and any
hold placed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import DeltaError

from seneca_assets.lib import snapshots
from seneca_assets.lib.backup.repository import (
    LOG,
    Backup,
    FileEntry,
    by_table,
    file_sha256,
)
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.holds import LEGAL_HOLDS
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import ZSTD_LEVEL, Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.schemas import MAINTENANCE, SNAPSHOTS, STORAGE_HEALTH
from seneca_assets.lib.snapshots import live_files

LOGS_KEPT = frozenset(
    {SNAPSHOTS.name, BACKUP_LOG.name, MAINTENANCE.name, STORAGE_HEALTH.name, LEGAL_HOLDS.name}
)
"""Records of what was done to the lake and of how it measured, and the legal holds (a hold
placed since the backup must not be lifted by restoring it): never returned to a backup."""
ROW_SEED = 11


@dataclass(frozen=True)
class InPlace:
    """What an in-place restore did."""

    backup: str
    snapshot: str
    """The snapshot of the lake taken just before: restoring it undoes this restore."""
    restored: dict[str, tuple[int, int]]
    """Per table returned to the backup: its version before, and the backup's version."""
    unchanged: tuple[str, ...]
    """Tables already as in the backup: its files (or, with another history, its rows)."""
    kept: tuple[str, ...]
    """Logs the backup holds that were left as they are (`LOGS_KEPT`)."""

    def lines(self) -> list[str]:
        """What was done, one line each, ending with how to undo it."""
        out = [
            f"{table}: {f'version {before}' if before >= 0 else 'gone, now'} returned to the "
            f"rows of backup version {to} (as a new version)"
            for table, (before, to) in sorted(self.restored.items())
        ]
        if self.unchanged:
            out.append(f"already as in the backup: {', '.join(self.unchanged)}")
        if self.kept:
            out.append(f"logs left as they are: {', '.join(self.kept)}")
        out.append(
            f"{len(self.restored)} table(s) restored in place from backup {self.backup}; "
            f"the lake as it was is snapshot {self.snapshot!r} (undo: seneca snapshot restore "
            f"{self.snapshot})"
        )
        return out


def restore_in_place(lake: Lake, backup: Backup, scratch: Path) -> InPlace:
    """Return every table of `backup` to its backup version, from the verified `scratch` copy.

    Takes the snapshot first and holds ingestion and the silver build off throughout.
    """
    held = by_table(backup.files)
    restored: dict[str, tuple[int, int]] = {}
    unchanged: list[str] = []
    chosen = sorted(name for name in backup.versions if name not in LOGS_KEPT)
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        snapshot = _free_name(lake, f"before-restore-{backup.id}")
        snapshots.record(lake, snapshot)
        for name in chosen:
            version = backup.versions[name]
            before = _return_table(lake, name, scratch / name, version, held[name])
            if before is None:
                unchanged.append(name)
            else:
                restored[name] = (before, version)
    kept = tuple(sorted(LOGS_KEPT & set(backup.versions)))
    return InPlace(backup.id, snapshot, restored, tuple(unchanged), kept)


def _free_name(lake: Lake, name: str) -> str:
    """`name`, or `name-2`, `name-3`... the first no snapshot has."""
    candidate, count = name, 1
    while snapshots.versions(lake, candidate) is not None:
        count += 1
        candidate = f"{name}-{count}"
    return candidate


def _return_table(
    lake: Lake, name: str, saved: Path, version: int, files: list[FileEntry]
) -> int | None:
    """Return the lake's table `name` to version `version` of the backup copy at `saved`.

    Returns the live version it had (-1 for a table that was gone), or None when it was as in
    the backup already (the same files, or, for a table with another history, the same rows)
    and nothing was committed.
    """
    then = DeltaTable(str(saved), version=version)
    wanted = live_files(then)
    live = lake.place.join(name)
    now = _open(live)
    if now is not None and live_files(now) == wanted:
        return None
    before = now.version() if now is not None else -1
    if now is not None and _same_history(lake, name, version, files):
        for path in wanted:
            if not lake.has_file(f"{name}/{path}"):  # vacuumed since the backup
                with open(saved / path, "rb") as data:
                    lake.put_file(f"{name}/{path}", data)
        now.restore(version)
    elif now is not None and _rows_hash(now).equals(_rows_hash(then)):
        return None
    else:
        write_deltalake(
            live,
            then.to_pyarrow_dataset().scanner().to_reader(),
            mode="overwrite",
            schema_mode="overwrite",
            partition_by=then.metadata().partition_columns or None,
            writer_properties=WriterProperties(compression="ZSTD", compression_level=ZSTD_LEVEL),
        )
    return before


def _open(live: str) -> DeltaTable | None:
    """The live table at its latest version, or None when there is none."""
    return DeltaTable(live) if DeltaTable.is_deltatable(live) else None


def _same_history(lake: Lake, name: str, version: int, files: list[FileEntry]) -> bool:
    """True when the live log still reads `version` and has the backup's commit for it."""
    commit = f"{name}/{LOG}/{version:020d}.json"
    entry = next((f for f in files if f.path == commit), None)
    if entry is None or not lake.has_file(commit):
        return False
    if file_sha256(lake, commit) != entry.sha256:
        return False
    try:
        DeltaTable(lake.place.join(name), version=version)
    except DeltaError:  # the log was cleaned up past it
        return False
    return True


def _rows_hash(table: DeltaTable) -> pl.Series:
    """The sorted hashes of a table version's rows: equal when its rows are (in any files)."""
    return pl.scan_delta(table).select(pl.struct(pl.all()).hash(ROW_SEED).sort()).collect()[:, 0]
