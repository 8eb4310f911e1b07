"""The lake: one Delta table per folder, `<root>/<layer>/<table>`, written and read with Polars.

This module knows Delta and nothing about Marcus. Writers tag each commit with an application
transaction (`app_id`, `version`), which Delta records atomically with the data: a crashed writer
can tell afterwards which of its batches reached which table.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl
from deltalake import CommitProperties, DeltaTable, Transaction, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.storage import (
    Location,
    LockTimeoutError,
    RemoteFile,
    check_safe_commits,
    has_object,
    lease_lock,
    names_in,
    probe,
    put_object,
)

__all__ = ["Lake", "LockTimeoutError", "time_bound", "time_literal"]

ZSTD_LEVEL = 1
"""Measured on Marcus logs with delta-rs: level 1 writes 25% faster than 3, and smaller."""
COMMIT_RETRIES = 5
"""Versions delta-rs tries a commit at when the commits that won the race do not conflict."""
COMMIT_PATIENCE_S = 300.0
"""How long a write keeps re-running against the table's latest version while concurrent
commits conflict with it (measured: 8 writers overwriting one table needed up to 12 attempts)."""
COMMIT_BACKOFF_S = 0.05
COMMIT_BACKOFF_MAX_S = 1.0
LOCK_TIMEOUT_S = 600.0


def time_literal(moment: datetime) -> str:
    """A time as a Delta predicate literal: for times computed by the code, never data text."""
    return f"'{moment.astimezone(UTC).isoformat()}'"


def time_bound(table: DeltaTable, column: str, bound: Literal["min", "max"]) -> datetime | None:
    """The smallest or greatest value of a time column, from the files' statistics.

    Delta keeps time statistics to the millisecond, so the result is truncated to the
    millisecond (the same whatever the file layout); when a file has no statistics, the column
    is read. None for an empty table or a column without values.
    """
    actions = pl.DataFrame(table.get_add_actions(flatten=True))
    if actions.is_empty():
        return None
    name = f"{bound}.{column}"
    if name in actions.columns and actions.get_column(name).null_count() == 0:
        found = getattr(actions.get_column(name), bound)()
    else:
        found = pl.scan_delta(table).select(getattr(pl.col(column), bound)()).collect().item()
        if isinstance(found, datetime):
            found = found.replace(microsecond=found.microsecond // 1000 * 1000)
    return found if isinstance(found, datetime) else None


class Lake:
    """A lake rooted at a local folder or at an object-store URL (`lib/storage.py`).

    `location` is where its tables are; `root` is a local folder for what must be local (the
    lake folder itself when the lake is local, its state folder when it is remote).
    """

    def __init__(self, root: str | Path) -> None:
        self.place = Location.of(root)
        self.location = self.place.uri
        self.root = self.place.state_dir()
        self._open: dict[str, DeltaTable] = {}

    @property
    def remote(self) -> bool:
        """True when the tables are on an object store."""
        return self.place.remote

    def uri(self, spec: TableSpec) -> str:
        """Where the table lives."""
        return self.place.join(spec.name)

    def open_file(self, path: str) -> BinaryIO | RemoteFile:
        """A file of the lake (`layer/table/...`) opened for reading, wherever the lake is."""
        if self.remote:
            return RemoteFile(self.place, path)
        return open(Path(self.location, path), "rb")

    def has_file(self, path: str) -> bool:
        """True when the lake holds the file `path` (`layer/table/...`)."""
        if self.remote:
            return has_object(self.place, path)
        return Path(self.location, path).is_file()

    def put_file(self, path: str, source: BinaryIO) -> None:
        """Write the file `path` of the lake whole from `source` (a local file, read as it goes).

        Locally through a temporary file renamed into place; on an object store by one upload,
        which is whole or absent by the store's own guarantee.
        """
        if self.remote:
            put_object(self.place, path, source)
            return
        target = Path(self.location, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as out:
            shutil.copyfileobj(source, out, 4 * 2**20)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)

    def names_in(self, folder: str) -> list[str]:
        """The names of the files directly in a folder of the lake (none if it has none)."""
        if self.remote:
            return names_in(self.place, folder)
        local = Path(self.location, folder)
        return sorted(p.name for p in local.iterdir() if p.is_file()) if local.is_dir() else []

    def ensure_writable(self) -> None:
        """Create the lake folder if needed; raise ConfigurationError if it cannot be written."""
        if self.remote:
            check_safe_commits()
            probe(self.place)
        folder = self.root / "_seneca"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, probe_file = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
            os.close(handle)
            os.unlink(probe_file)
        except OSError as exc:
            raise ConfigurationError(
                f"lake folder {self.root} is not writable ({exc.strerror}): point --lake or "
                "SENECA_LAKE_DIR at a folder this user can write"
            ) from exc

    @contextmanager
    def lock(self, name: str, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold an exclusive, crash-safe lock on the lake.

        A local lake's is a file lock, released by the OS if the process dies; a remote lake's
        is a lease object on the store (`storage.lease_lock`), seen by every machine.
        """
        if self.remote:
            with lease_lock(self.place, name, timeout_s):
                yield
            return
        path = self.root / "_seneca" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        with open(path, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() > deadline:
                        raise LockTimeoutError(
                            f"another Seneca process has held {path} for over {timeout_s:.0f} s"
                        ) from exc
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def table(self, spec: TableSpec) -> DeltaTable:
        """The table at its latest version, created empty with its schema if it does not exist.

        A Lake keeps each table it opened and only reads the commits made since, so a run that
        commits many times does not replay the whole log at every step.
        """
        table = self._open.get(spec.name)
        if table is not None:
            table.update_incremental()
            return table
        try:
            table = DeltaTable(self.uri(spec))
        except TableNotFoundError:
            if not self.remote:
                os.makedirs(self.uri(spec), exist_ok=True)
            try:
                table = DeltaTable.create(
                    self.uri(spec),
                    schema=spec.empty().to_arrow().schema,
                    partition_by=list(spec.partition_by) or None,
                    name=spec.name.replace("/", "_"),
                    mode="ignore",
                    # Writers creating the table at the same moment: one wins version 0, and the
                    # others take its table, rather than retry their creation as a later commit
                    # (seen on S3: extra CREATE TABLE commits, or "protocol changed" failures).
                    commit_properties=CommitProperties(max_commit_retries=0),
                )
            except CommitFailedError:
                table = DeltaTable(self.uri(spec))
        self._open[spec.name] = table
        return table

    def exists(self, spec: TableSpec) -> bool:
        """True if the table has been created."""
        return spec.name in self._open or DeltaTable.is_deltatable(self.uri(spec))

    def scan(self, spec: TableSpec) -> pl.LazyFrame:
        """A lazy scan of the table's current version (empty if it does not exist yet)."""
        if not self.exists(spec):
            return spec.empty().lazy()
        return pl.scan_delta(self.table(spec))

    def latest(self, spec: TableSpec, column: str) -> datetime | None:
        """The greatest value of a time column (`time_bound`), None for a missing table."""
        return time_bound(self.table(spec), column, "max") if self.exists(spec) else None

    def read(self, spec: TableSpec) -> pl.DataFrame:
        """The whole table (for small tables)."""
        return self.scan(spec).collect()

    def txn_version(self, spec: TableSpec, app_id: str) -> int:
        """The last transaction version `app_id` committed to the table (0 if none)."""
        if not self.exists(spec):
            return 0
        return self.table(spec).transaction_version(app_id) or 0

    def write(
        self,
        spec: TableSpec,
        frame: pl.DataFrame,
        *,
        mode: Literal["append", "overwrite"] = "append",
        txn: tuple[str, int] | list[tuple[str, int]] | None = None,
        predicate: str | None = None,
    ) -> None:
        """Append or overwrite rows in one Delta commit, tagged with `txn` if given.

        `txn` is an application transaction `(app_id, version)`, or several recorded together.

        With `predicate` (overwrite only), just the rows matching it are replaced by `frame`,
        whose rows must match it too. The predicate is SQL text built by the caller from its
        own constants and generated values (times, hex ids), never from data.
        """
        if predicate is not None and mode != "overwrite":
            raise ValueError("a predicate only applies to an overwrite")
        table = self.table(spec)
        props = CommitProperties(
            app_transactions=[
                Transaction(app_id=app, version=version)
                for app, version in ([txn] if isinstance(txn, tuple) else txn or [])
            ]
            or None,
            max_commit_retries=COMMIT_RETRIES,
        )
        # Large strings, not string views: Parquet files remember the Arrow type they were
        # written from, and pyarrow cannot filter string-view files through a Delta dataset
        # (DuckDB over `to_pyarrow_dataset()` fails on `WHERE text_column = ?`).
        if spec.cluster_by:
            frame = frame.sort(spec.cluster_by)
        data = frame.select(spec.schema.names()).to_arrow(compat_level=pl.CompatLevel.oldest())
        deadline = time.monotonic() + COMMIT_PATIENCE_S
        attempt = 0
        while True:
            try:
                write_deltalake(
                    table,
                    data,
                    mode=mode,  # type: ignore[arg-type]  # a predicate comes with "overwrite"
                    predicate=predicate,
                    target_file_size=spec.file_bytes,
                    partition_by=list(spec.partition_by) or None,
                    writer_properties=WriterProperties(
                        compression="ZSTD",
                        compression_level=spec.zstd_level or ZSTD_LEVEL,
                        max_row_group_size=spec.row_group_rows,
                    ),
                    commit_properties=props,
                )
                return
            except CommitFailedError:
                # Another writer committed something this write conflicts with (for an overwrite,
                # any concurrent add). Nothing of this attempt was committed: read the new
                # version, so that the predicate is matched against its files, and write again,
                # after a random pause that grows, so that racing writers spread out.
                if time.monotonic() > deadline:
                    raise
                table.update_incremental()
                pause_s = min(COMMIT_BACKOFF_MAX_S, COMMIT_BACKOFF_S * 2**attempt)
                time.sleep(random.uniform(0, pause_s))  # noqa: S311 - a pause, not a secret
                attempt += 1

    def delete(self, spec: TableSpec, predicate: str) -> int:
        """Delete matching rows in one commit; return how many were deleted."""
        if not self.exists(spec):
            return 0
        metrics = self.table(spec).delete(predicate)
        return int(metrics.get("num_deleted_rows", 0) or 0)

    def delete_keys(self, spec: TableSpec, column: str, keys: pl.Series) -> int:
        """Delete the rows whose `column` is one of `keys`, in one commit; how many were.

        A merge joined on the keys, not a predicate listing them: delta-rs parses a predicate
        of tens of thousands of literals recursively and crashes (seen: a segmentation fault).
        """
        if not self.exists(spec) or keys.is_empty():
            return 0
        source = pl.DataFrame({column: keys.unique()}).to_arrow(
            compat_level=pl.CompatLevel.oldest()
        )
        merged = (
            self.table(spec)
            .merge(
                source,
                predicate=f'target."{column}" = source."{column}"',
                source_alias="source",
                target_alias="target",
                commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES),
            )
            .when_matched_delete()
            .execute()
        )
        return int(merged.get("num_target_rows_deleted", 0) or 0)
