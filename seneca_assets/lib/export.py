"""Exports of lake tables to CSV, Parquet or JSON Lines, whole or incremental, with manifests.

An export writes one data file and, beside it, a manifest: the table, its Delta version (and
the version an incremental export started from), the time range, the row count, the file's
SHA-256 and the schema. An incremental export writes only the rows of the data files the table
gained since the last export of that table to the same folder (`.export_state.json` there
remembers the version); for append-only tables that is exactly the new rows, and the manifest
says when files were also removed (rows rewritten or deleted since). Every output path is
confined to the export root (`SENECA_EXPORT_DIR`, default `data/exports`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query.errors import QueryError, UnknownName
from seneca_assets.lib.query.times import Moment, time_range
from seneca_assets.lib.schemas import TableSpec

FORMATS = ("csv", "parquet", "jsonl")
DEFAULT_ROOT = "data/exports"
STATE = ".export_state.json"
BATCH_ROWS = 100_000


class ExportPathError(QueryError):
    """An output path outside the export root."""


@dataclass(frozen=True)
class Manifest:
    """What one export wrote."""

    table: str
    format: str
    file: str
    rows: int
    bytes: int
    sha256: str
    delta_version: int
    from_version: int | None
    files_removed_since: int
    time_column: str | None
    since: str | None
    until: str | None
    schema: list[dict[str, str]]
    created_at: str


def export_root() -> Path:
    """The folder every export must land in."""
    return Path(os.environ.get("SENECA_EXPORT_DIR") or DEFAULT_ROOT)


def confined(root: Path, out: str | Path) -> Path:
    """`out` (relative to `root`, or absolute) resolved; ExportPathError if it leaves `root`."""
    base = root.resolve()
    target = (base / out).resolve()
    if target != base and base not in target.parents:
        raise ExportPathError(
            f"export path {str(out)!r} is outside the export root {base}: give a folder "
            "inside it (set SENECA_EXPORT_DIR to export elsewhere)"
        )
    return target


def replace_text(path: Path, text: str) -> None:
    """Write `path` whole, through a new file renamed over the old one.

    A reader never sees a half-written file, and a `path` that is a symbolic link is replaced,
    not followed out of its folder.
    """
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def table_named(name: str) -> TableSpec:
    """The lake table called `name` (`silver/messages` or `silver_messages`)."""
    for spec in TABLES:
        if name in (spec.name, spec.name.replace("/", "_")):
            return spec
    raise UnknownName(f"no table {name!r}: the tables are {', '.join(t.name for t in TABLES)}")


def export(
    lake_root: str | Path,
    table: str,
    fmt: str,
    out: str | Path,
    *,
    since: Moment | None = None,
    until: Moment | None = None,
    incremental: bool = False,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Export `table` to the folder `out` under the export root; the manifest written beside."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}: choose {', '.join(FORMATS)}")
    spec = table_named(table)
    folder = confined(root or export_root(), out)
    first, last = time_range(since, until)
    column = spec.time_column  # what --since/--until filter
    if (first or last) and column is None:
        raise QueryError(f"{spec.name} has no time column to take --since/--until from")
    uri = Lake(lake_root).uri(spec)
    if not DeltaTable.is_deltatable(uri):
        raise UnknownName(f"{spec.name} does not exist in the lake at {lake_root} yet")
    delta = DeltaTable(uri)
    version = delta.version()
    folder.mkdir(parents=True, exist_ok=True)
    state = _state(folder)
    start = state.get(spec.name) if incremental else None
    dataset, removed = _changes(delta, start)
    condition = None
    if first is not None:
        condition = ds.field(column) >= pa.scalar(first, pa.timestamp("us", "UTC"))
    if last is not None:
        upper = ds.field(column) < pa.scalar(last, pa.timestamp("us", "UTC"))
        condition = upper if condition is None else condition & upper
    slug = spec.name.replace("/", "_")
    name = f"{slug}-v{version}" + (f"-from-v{start}" if start is not None else "") + f".{fmt}"
    path = folder / name
    rows = _write(dataset, condition, fmt, path, progress)
    manifest = Manifest(
        table=spec.name, format=fmt, file=name, rows=rows, bytes=path.stat().st_size,
        sha256=_sha256(path), delta_version=version, from_version=start,
        files_removed_since=removed, time_column=column,
        since=first.isoformat() if first else None,
        until=last.isoformat() if last else None,
        schema=[{"name": n, "type": str(t)} for n, t in spec.schema.items()],
        created_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip
    (folder / f"{name}.manifest.json").write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    state[spec.name] = version
    _save_state(folder, state)
    return manifest


def _changes(delta: DeltaTable, since_version: int | None) -> tuple[ds.Dataset, int]:
    """The table's rows, or those of the files added after `since_version`; files removed."""
    dataset = delta.to_pyarrow_dataset()
    if since_version is None:
        return dataset, 0
    now = set(delta.get_add_actions(flatten=True).column("path").to_pylist())
    before = set(
        DeltaTable(delta.table_uri, version=since_version)
        .get_add_actions(flatten=True)
        .column("path")
        .to_pylist()
    )
    added = now - before
    fragments = [f for f in dataset.get_fragments() if f.path in added]
    subset = ds.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)
    return subset, len(before - now)


def _write(
    dataset: ds.Dataset,
    condition: ds.Expression | None,
    fmt: str,
    path: Path,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Stream the rows to `path` in batches (through a partial file); the rows written."""
    total = dataset.count_rows(filter=condition)
    batches = dataset.scanner(filter=condition, batch_size=BATCH_ROWS).to_batches()
    partial = path.with_name(path.name + ".partial")
    written = 0
    with open(partial, "wb") as handle:
        parquet = (
            pq.ParquetWriter(handle, dataset.schema, compression="zstd")
            if fmt == "parquet"
            else None
        )
        for batch in batches:
            if parquet is not None:
                parquet.write_batch(batch)
            else:
                frame = pl.DataFrame(pl.from_arrow(batch))
                if fmt == "jsonl":
                    frame.write_ndjson(handle)
                else:
                    _flat(frame).write_csv(handle, include_header=written == 0)
            written += batch.num_rows
            if progress is not None:
                progress(written, total)
        if parquet is not None:
            parquet.close()
        elif fmt == "csv" and written == 0:
            _flat(pl.DataFrame(pl.from_arrow(dataset.schema.empty_table()))).write_csv(handle)
    partial.replace(path)
    return written


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV holds no nested values: lists and structs become JSON text."""
    nested = [n for n, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct | pl.Array)]
    return frame.with_columns(
        pl.Series(n, [json.dumps(v, default=str, ensure_ascii=False) for v in frame[n].to_list()])
        for n in nested
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _state(folder: Path) -> dict[str, int]:
    path = folder / STATE
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(folder: Path, state: dict[str, int]) -> None:
    path = folder / STATE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    partial.replace(path)
