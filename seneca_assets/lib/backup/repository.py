"""The backup repository: sealed blobs by content, and one manifest per backup.

Layout under the backup root (SENECA_BACKUP_DIR, default `data/backups`):
- `repository.json`: the key-derivation salt and a sealed check value (never the key);
- `blobs/ab/<sha256>`: every file of the lake that any backup holds, sealed (`seal.py`), once
  however many backups hold it (Delta files never change once written, so a file is its path
  and its content);
- `backups/<id>/manifest`: the sealed manifest (every table's version, every file with its size
  and SHA-256, the row count of each table at its version, the parent backup) and
  `backups/<id>/index.json`, what can be listed without the key (kind, time, parent, counts).

A backup is written into `backups/<id>.partial/` and renamed to `backups/<id>/` only once every
blob and the manifest are on disk: a backup killed mid-way is never listed, and the next one
completes on its own. Every manifest is complete: a backup restores without any other. `full`
seals every file anew; `differential` and `incremental` seal only the files no blob holds yet
(and take the SHA-256 of a file their parent already holds from the parent, without reading it);
differential from the last full backup, incremental from the last backup of any kind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from seneca_assets.lib.audit_chain import head as chain_head
from seneca_assets.lib.backup.seal import BackupError, Sealer
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK

KINDS = ("full", "differential", "incremental")
OPENERS = 4
"""Tables opened at once for a cut (13 tables: 45 ms one by one, 24 ms four at a time)."""
MANIFEST, INDEX = "manifest", "index.json"


@dataclass(frozen=True)
class FileEntry:
    """One file of the lake in a backup: its path under the lake root, size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Backup:
    """What a finished backup holds, from its manifest."""

    id: str
    kind: str
    created_at: datetime
    parent: str | None
    versions: dict[str, int]
    rows: dict[str, int]
    files: tuple[FileEntry, ...]
    audit_head: str | None = None
    """The audit trail's hash-chain head when the backup was cut (`audit_chain.py`)."""


def create(lake: Lake, root: Path, sealer: Sealer, kind: str, now: datetime) -> Backup:
    """Back the lake up into the repository at `root`; the finished backup."""
    if kind not in KINDS:
        raise ValueError(f"a backup is {', '.join(KINDS)}, not {kind!r}")
    parent = _parent(root, sealer, kind)
    known = {f.path: f for f in parent.files} if parent else {}
    versions, paths, rows = _cut(lake)
    backup_id = now.strftime("%Y%m%dT%H%M%S%fZ") + f"-{kind}"
    partial = root / "backups" / f"{backup_id}.partial"
    partial.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in paths:
        absolute = lake.root / path
        reused = known.get(path)
        if reused is not None and kind != "full":
            entries.append(reused)
            continue
        data = absolute.read_bytes()
        entry = FileEntry(path, len(data), hashlib.sha256(data).hexdigest())
        blob = _blob(root, entry.sha256)
        if kind == "full" or not blob.exists():
            _write(blob, sealer.seal(data, entry.sha256))
        entries.append(entry)
    backup = Backup(
        backup_id,
        kind,
        now,
        parent.id if parent else None,
        versions,
        rows,
        tuple(entries),
        chain_head(lake),
    )
    manifest = _dump(backup)
    digest = hashlib.sha256(manifest).hexdigest()
    _write(partial / MANIFEST, sealer.seal(manifest, digest))
    _write(partial / INDEX, json.dumps({**_index(backup), "manifest_sha256": digest}).encode())
    partial.rename(root / "backups" / backup_id)
    return backup


def listed(root: Path) -> pl.DataFrame:
    """The finished backups, oldest first, from their indexes (no key needed)."""
    schema = {
        "id": pl.String, "kind": pl.String, "created_at": pl.String, "parent": pl.String,
        "tables": pl.Int64, "files": pl.Int64, "bytes": pl.Int64, "manifest_sha256": pl.String,
    }  # fmt: skip
    folder = root / "backups"
    indexes = sorted(folder.glob(f"*/{INDEX}")) if folder.exists() else []
    rows = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in indexes
        if not path.parent.name.endswith(".partial")
    ]
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def load(root: Path, sealer: Sealer, backup_id: str) -> Backup:
    """A finished backup's manifest; BackupError if there is none by that id."""
    folder = root / "backups" / backup_id
    if not (folder / INDEX).exists() or backup_id.endswith(".partial"):
        raise BackupError(f"no finished backup {backup_id!r} in {root}")
    digest = json.loads((folder / INDEX).read_text(encoding="utf-8"))["manifest_sha256"]
    blob = (folder / MANIFEST).read_bytes()
    return _parse(sealer.open(blob, digest, f"the manifest of {backup_id}"))


def restore(root: Path, sealer: Sealer, backup: Backup, to: Path) -> Iterator[str]:
    """Write every file of `backup` under `to`; yields each path written."""
    for entry in backup.files:
        _restore_file(root, sealer, entry, to)
        yield entry.path


def _restore_file(root: Path, sealer: Sealer, entry: FileEntry, to: Path) -> None:
    """Open one file's sealed copy, check it, and write it under `to`; BackupError names it."""
    blob = _blob(root, entry.sha256)
    if not blob.exists():
        raise BackupError(f"{entry.path}: its sealed copy {blob.name} is missing")
    _write(to / entry.path, sealer.open(blob.read_bytes(), entry.sha256, entry.path))


def row_counts(lake_root: Path, versions: dict[str, int]) -> dict[str, int]:
    """Each table's rows at its version, from the Delta log's file statistics."""
    counts = {}
    for name, version in versions.items():
        table = DeltaTable(str(lake_root / name), version=version)
        counts[name] = _rows(pl.DataFrame(table.get_add_actions(flatten=True)))
    return counts


def _rows(actions: pl.DataFrame) -> int:
    """A table version's rows, from the statistics of its files' add actions."""
    return int(actions.get_column("num_records").sum()) if actions.height else 0


def _cut(lake: Lake) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """A consistent cut: every table's version and files, with ingestion and silver held off."""
    versions: dict[str, int] = {}
    rows: dict[str, int] = {}
    paths: list[str] = []
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        specs = [spec for spec in TABLES if lake.exists(spec)]
        # Opening a table reads its log: a few milliseconds each, in Rust, side by side.
        with ThreadPoolExecutor(OPENERS) as pool:
            tables = list(pool.map(lambda spec: DeltaTable(lake.uri(spec)), specs))
        for spec, table in zip(specs, tables, strict=True):
            versions[spec.name] = version = table.version()
            actions = pl.DataFrame(table.get_add_actions(flatten=True))
            rows[spec.name] = _rows(actions)
            paths += [f"{spec.name}/{p}" for p in actions.get_column("path").to_list()]
            logs = _log_files(lake, spec.name, version)
            paths += [f"{spec.name}/_delta_log/{p.name}" for p in logs]
    return versions, sorted(set(paths)), rows


def _log_files(lake: Lake, name: str, version: int) -> list[Path]:
    """The commits and checkpoints of the table up to `version`."""
    folder = lake.root / name / "_delta_log"
    kept = []
    for path in folder.iterdir():
        stem = path.name.split(".", 1)[0]
        if stem.isdigit() and int(stem) <= version and not path.name.endswith(".tmp"):
            kept.append(path)
    return sorted(kept)


def _parent(root: Path, sealer: Sealer, kind: str) -> Backup | None:
    done = listed(root)
    if kind == "full" or done.is_empty():
        return None
    if kind == "differential":
        done = done.filter(pl.col("kind") == "full")
    return load(root, sealer, done.item(-1, "id")) if done.height else None


def _blob(root: Path, sha256: str) -> Path:
    return root / "blobs" / sha256[:2] / sha256


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)


def _dump(backup: Backup) -> bytes:
    return json.dumps(
        {
            "id": backup.id,
            "kind": backup.kind,
            "created_at": backup.created_at.isoformat(),
            "parent": backup.parent,
            "versions": backup.versions,
            "rows": backup.rows,
            "files": [[f.path, f.size, f.sha256] for f in backup.files],
            "audit_head": backup.audit_head,
        }
    ).encode()


def _parse(data: bytes) -> Backup:
    raw = json.loads(data)
    return Backup(
        raw["id"],
        raw["kind"],
        datetime.fromisoformat(raw["created_at"]),
        raw["parent"],
        raw["versions"],
        raw["rows"],
        tuple(FileEntry(p, s, h) for p, s, h in raw["files"]),
        raw.get("audit_head"),
    )


def _index(backup: Backup) -> dict[str, object]:
    return {
        "id": backup.id,
        "kind": backup.kind,
        "created_at": backup.created_at.astimezone(UTC).isoformat(),
        "parent": backup.parent,
        "tables": len(backup.versions),
        "files": len(backup.files),
        "bytes": sum(f.size for f in backup.files),
    }


def remove_partials(root: Path) -> list[str]:
    """Delete backups left unfinished (a crash mid-way); their names."""
    folder = root / "backups"
    gone = list(folder.glob("*.partial")) if folder.exists() else []
    for path in gone:
        shutil.rmtree(path)
    return [p.name for p in gone]


@dataclass(frozen=True)
class Verified:
    """A verification: the backup restored into a scratch folder and checked."""

    backup: str
    files: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every file opened to its SHA-256 and every table had its rows."""
        return not self.problems


def verify(root: Path, sealer: Sealer, backup: Backup, scratch: Path) -> Verified:
    """Restore `backup` into `scratch` and check it.

    Every blob must open to its SHA-256 (each failure is named), and each table must have, at
    its version, the rows the backup recorded.
    """
    problems = []
    written = 0
    for entry in backup.files:  # every file, so that each failure is named
        try:
            _restore_file(root, sealer, entry, scratch)
            written += 1
        except BackupError as exc:
            problems.append(str(exc))
    if not problems:
        counted = row_counts(scratch, backup.versions)
        problems += [
            f"{name}: {counted[name]:,} rows at version {backup.versions[name]}, "
            f"the backup recorded {rows:,}"
            for name, rows in backup.rows.items()
            if counted.get(name) != rows
        ]
    return Verified(backup.id, written, tuple(problems))


KEEP_HOURS = 24
GFS = {"day": 30, "week": 12, "month": 12, "year": 7}
"""Grandfather-father-son: the newest backup of each of the last 30 days, 12 weeks, 12 months
and 7 years is kept, and every backup of the last 24 hours."""


def kept(backups: pl.DataFrame, now: datetime) -> set[str]:
    """The ids grandfather-father-son retention keeps among `backups` (`id`, `created_at`)."""
    if backups.is_empty():
        return set()
    times = backups.with_columns(at=pl.col("created_at").str.to_datetime(time_zone="UTC"))
    keep = set(times.filter(pl.col("at") >= now - timedelta(hours=KEEP_HOURS)).get_column("id"))
    periods = {"day": "1d", "week": "1w", "month": "1mo", "year": "1y"}
    for period, count in GFS.items():
        newest = (
            times.with_columns(period=pl.col("at").dt.truncate(periods[period]))
            .sort("at")
            .group_by("period")
            .agg(pl.col("id").last())
            .sort("period", descending=True)
            .head(count)
        )
        keep |= set(newest.get_column("id"))
    return keep


def prune(root: Path, sealer: Sealer, now: datetime) -> tuple[list[str], int]:
    """Delete the backups retention does not keep, then the blobs no kept backup holds.

    Every manifest is complete, so a kept backup depends on nothing but its blobs: those stay.
    Returns the ids deleted and how many blobs were.
    """
    done = listed(root)
    keep = kept(done, now)
    gone = [i for i in done.get_column("id").to_list() if i not in keep]
    needed = {f.sha256 for i in keep for f in load(root, sealer, i).files}
    for backup_id in gone:
        shutil.rmtree(root / "backups" / backup_id)
    swept = 0
    for blob in (root / "blobs").glob("*/*"):
        if blob.name not in needed and not blob.name.endswith(".tmp"):
            blob.unlink()
            swept += 1
    return gone, swept
