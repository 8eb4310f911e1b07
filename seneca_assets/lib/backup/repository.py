"""The backup repository: sealed blobs by content, and one manifest per backup.

Layout under the backup root (SENECA_BACKUP_DIR, default `data/backups`), the same in its
off-site copy (`offsite.py`):
- `repository.json`: the key-derivation salt and a sealed check value (never the key);
- `blobs/ab/<sha256>`: every file of the lake that any backup holds, sealed (`seal.py`, in
  chunks, so that a file of any size is sealed and opened in bounded memory), once however many
  backups hold it (Delta files never change once written, so a file is its path and its content);
- `backups/<id>/manifest`: the sealed manifest (every table's version, every file with its size
  and SHA-256, the row count of each table at its version, the parent backup) and
  `backups/<id>/index.json`, what can be listed without the key (kind, time, parent, counts).

A backup is written into `backups/<id>.partial/` and renamed to `backups/<id>/` only once every
blob and the manifest are on disk: a backup killed mid-way is never listed, and the next one
completes on its own. Every manifest is complete: a backup restores without any other. `full`
seals every file anew; `differential` and `incremental` seal only the files no blob holds yet
(and take the SHA-256 of a file their parent already holds from the parent, without reading it);
differential from the last full backup, incremental from the last backup of any kind. A table
whose version is the parent's (the same commit, by SHA-256) is not opened: its files and rows
are the parent's.

Reading (listing, loading, restoring, verifying, pruning) takes the local folder or a `Store`,
so the off-site copy is read by the same code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import polars as pl
from deltalake import DeltaTable

from seneca_assets.lib.audit_chain import head as chain_head
from seneca_assets.lib.backup.seal import BackupError, Sealer
from seneca_assets.lib.backup.store import Store, as_store
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.storage import Readable

KINDS = ("full", "differential", "incremental")
OPENERS = 4
"""Tables opened at once for a cut (13 tables: 45 ms one by one, 24 ms four at a time)."""
SEALERS = 2
"""Files sealed (or opened) at once: zstd and AES-GCM release the GIL, so two cores work side by
side (benchmarks/RESULTS.md, Backups)."""
MANIFEST, INDEX = "manifest", "index.json"
LOG = "_delta_log"


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
    versions, paths, rows = _cut(lake, parent)
    backup_id = now.strftime("%Y%m%dT%H%M%S%fZ") + f"-{kind}"
    partial = root / "backups" / f"{backup_id}.partial"
    partial.mkdir(parents=True, exist_ok=True)

    # Files the parent holds are its entries as they are; only the others are read and sealed.
    entries = {} if kind == "full" else {p: known[p] for p in paths if p in known}

    def take(path: str) -> FileEntry:
        return _take(lake, path, root, sealer, anew=kind == "full")

    with ThreadPoolExecutor(SEALERS) as pool:
        entries |= {e.path: e for e in pool.map(take, [p for p in paths if p not in entries])}
    backup = Backup(
        backup_id,
        kind,
        now,
        parent.id if parent else None,
        versions,
        rows,
        tuple(entries[p] for p in paths),
        chain_head(lake),
    )
    manifest = _dump(backup)
    digest = hashlib.sha256(manifest).hexdigest()
    _write(partial / MANIFEST, sealer.seal(manifest, digest))
    _write(partial / INDEX, json.dumps({**_index(backup), "manifest_sha256": digest}).encode())
    partial.rename(root / "backups" / backup_id)
    return backup


def _take(lake: Lake, path: str, root: Path, sealer: Sealer, anew: bool) -> FileEntry:
    """Hash one file of the lake and seal it unless a blob holds it already (or `anew`).

    A file no larger than a chunk is read once and sealed from memory; a larger one is hashed
    as it streams, then sealed in a second streaming pass (a blob is named by its SHA-256, and
    every chunk is bound to it, so the hash comes first).
    """
    with lake.open_file(path) as source:
        head = source.read(sealer.chunk_bytes)
        digest, size = hashlib.sha256(head), len(head)
        whole = len(head) < sealer.chunk_bytes
        if not whole:
            for block in iter(lambda: source.read(sealer.chunk_bytes), b""):
                digest.update(block)
                size += len(block)
        entry = FileEntry(path, size, digest.hexdigest())
        blob = _blob(root, entry.sha256)
        if anew or not blob.exists():
            if not whole:
                source.seek(0)
            content = io.BytesIO(head) if whole else source
            write_whole(blob, lambda out: sealer.seal_to(content, entry.sha256, out))
    return entry


def listed(root: Path | Store) -> pl.DataFrame:
    """The finished backups, oldest first, from their indexes (no key needed)."""
    schema = {
        "id": pl.String, "kind": pl.String, "created_at": pl.String, "parent": pl.String,
        "tables": pl.Int64, "files": pl.Int64, "bytes": pl.Int64, "manifest_sha256": pl.String,
    }  # fmt: skip
    store = as_store(root)
    rows = [
        json.loads(store.read(name))
        for name in store.names(f"backups/*/{INDEX}")
        if not name.split("/")[1].endswith(".partial")
    ]
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def load(root: Path | Store, sealer: Sealer, backup_id: str) -> Backup:
    """A finished backup's manifest; BackupError if there is none by that id."""
    store = as_store(root)
    if backup_id.endswith(".partial") or not store.exists("backups", backup_id, INDEX):
        raise BackupError(f"no finished backup {backup_id!r} in {store.label}")
    index = json.loads(store.read("backups", backup_id, INDEX))
    blob = store.read("backups", backup_id, MANIFEST)
    return _parse(sealer.open(blob, index["manifest_sha256"], f"the manifest of {backup_id}"))


def restore(root: Path | Store, sealer: Sealer, backup: Backup, to: Path) -> Iterator[str]:
    """Write every file of `backup` under `to`; yields each path written."""
    store = as_store(root)
    for entry in backup.files:
        _restore_file(store, sealer, entry, to)
        yield entry.path


def _restore_file(store: Store, sealer: Sealer, entry: FileEntry, to: Path) -> None:
    """Open one file's sealed copy, check it, and write it under `to`; BackupError names it.

    The file streams from the blob to its place, a chunk at a time; one that fails its checks
    part-way leaves nothing behind.
    """
    sha = entry.sha256
    try:
        blob = store.open("blobs", sha[:2], sha)
    except FileNotFoundError as exc:
        raise BackupError(f"{entry.path}: its sealed copy {sha} is missing") from exc
    with blob:
        write_whole(to / entry.path, lambda out: sealer.open_to(blob, sha, entry.path, out))


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


def by_table(files: tuple[FileEntry, ...]) -> dict[str, list[FileEntry]]:
    """`files` by the table they belong to (`layer/table`, the first two parts of a path)."""
    grouped: dict[str, list[FileEntry]] = {}
    for entry in files:
        grouped.setdefault("/".join(entry.path.split("/", 2)[:2]), []).append(entry)
    return grouped


@dataclass(frozen=True)
class _TableCut:
    """One table in a cut: its version, its files (data and log) and its rows there."""

    version: int
    paths: list[str]
    rows: int


def _cut(
    lake: Lake, parent: Backup | None = None
) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """A consistent cut: every table's version and files, with ingestion and silver held off.

    A table at the version `parent` holds (by the same last commit) is not opened: its data
    files and rows are the parent's.
    """
    held = by_table(parent.files) if parent else {}

    def one(name: str) -> _TableCut | None:
        return _cut_table(lake, name, parent, held.get(name, []))

    names = [spec.name for spec in TABLES]
    # Opening a table reads its log: a few milliseconds each, in Rust, side by side.
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK), ThreadPoolExecutor(OPENERS) as pool:
        cuts = dict(zip(names, pool.map(one, names), strict=True))
    found = {name: cut for name, cut in cuts.items() if cut is not None}
    versions = {name: cut.version for name, cut in found.items()}
    rows = {name: cut.rows for name, cut in found.items()}
    paths = sorted({path for cut in found.values() for path in cut.paths})
    return versions, paths, rows


def _cut_table(
    lake: Lake, name: str, parent: Backup | None, held: list[FileEntry]
) -> _TableCut | None:
    """One table's version, files and rows; None when the lake has no such table.

    `held` are the files the parent backup holds of it: when the parent has the table at this
    version, by the same commit, its data files and rows are taken from there.
    """
    logs = [f"{name}/{LOG}/{n}" for n in lake.names_in(f"{name}/{LOG}") if _is_log(n)]
    commits = [p for p in logs if p.endswith(".json")]
    if not commits:
        return None
    version = int(commits[-1].rsplit("/", 1)[-1].split(".", 1)[0])
    if parent and parent.versions.get(name) == version and _held(lake, commits[-1], held):
        data = [f.path for f in held if f"/{LOG}/" not in f.path]
        return _TableCut(version, logs + data, parent.rows[name])
    actions = pl.DataFrame(
        DeltaTable(lake.place.join(name), version=version).get_add_actions(flatten=True)
    )
    data = [f"{name}/{p}" for p in actions.get_column("path").to_list()]
    return _TableCut(version, logs + data, _rows(actions))


def _held(lake: Lake, commit: str, held: list[FileEntry]) -> bool:
    """True when `held` has the commit file `commit` with the content the lake has now."""
    entry = next((f for f in held if f.path == commit), None)
    return entry is not None and file_sha256(lake, commit) == entry.sha256


def file_sha256(lake: Lake, path: str) -> str:
    """The SHA-256 of a file of the lake, wherever the lake is."""
    with lake.open_file(path) as source:
        return _sha256(source)


def _is_log(name: str) -> bool:
    """True for a commit or checkpoint of a table's log (not a temporary file)."""
    return name.split(".", 1)[0].isdigit() and not name.endswith(".tmp")


def _sha256(source: Readable) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(2**20), b""):
        digest.update(block)
    return digest.hexdigest()


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
    """Write `data` to `path` whole or not at all (`write_whole`)."""
    write_whole(path, lambda out: out.write(data))


def write_whole(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Write `path` whole or not at all: `fill` writes a temporary file, fsynced and renamed.

    The temporary name is unique to this write, so that two writers of one path never mix; a
    `fill` that raises leaves nothing behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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
    """Delete what a backup killed mid-way left: its `.partial` folder, its temporary blobs.

    Returns the folders' names. For a caller that holds the backup lock (`service.create`):
    another backup's work in progress would look the same.
    """
    folder = root / "backups"
    gone = list(folder.glob("*.partial")) if folder.exists() else []
    for path in gone:
        shutil.rmtree(path)
    for temporary in (root / "blobs").glob("*/*.tmp"):
        temporary.unlink(missing_ok=True)
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


def verify(root: Path | Store, sealer: Sealer, backup: Backup, scratch: Path) -> Verified:
    """Restore `backup` into `scratch` and check it.

    Every blob must open to its SHA-256 (each failure is named), and each table must have, at
    its version, the rows the backup recorded.
    """
    store = as_store(root)

    def attempt(entry: FileEntry) -> str | None:
        try:
            _restore_file(store, sealer, entry, scratch)
        except BackupError as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(SEALERS) as pool:  # every file, so that each failure is named
        failures = list(pool.map(attempt, backup.files))
    problems = [failure for failure in failures if failure is not None]
    written = len(failures) - len(problems)
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


def prune(root: Path | Store, sealer: Sealer, now: datetime) -> tuple[list[str], int]:
    """Delete the backups retention does not keep, then the blobs no kept backup holds.

    Every manifest is complete, so a kept backup depends on nothing but its blobs: those stay.
    A backup's index goes first, so one deleted part-way is no longer listed. Works on the
    local folder and on the off-site copy alike. Returns the ids deleted and how many blobs were.
    """
    store = as_store(root)
    done = listed(store)
    keep = kept(done, now)
    gone = [i for i in done.get_column("id").to_list() if i not in keep]
    needed = {f.sha256 for i in keep for f in load(store, sealer, i).files}
    for backup_id in gone:
        store.remove("backups", backup_id, INDEX)
        store.remove("backups", backup_id)
    swept = 0
    for name in store.names("blobs/*/*"):
        if name.rsplit("/", 1)[-1] not in needed and not name.endswith(".tmp"):
            store.remove(name)
            swept += 1
    return gone, swept
