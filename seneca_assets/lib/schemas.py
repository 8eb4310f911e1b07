"""The schema of record of every lake table, as `pandera.polars` models.

Each model describes every column of one table; a `TableSpec` ties it to the table's path in the
lake and its Delta partition columns. `docs/TABLES.md` is generated from these (`lib.catalog`), and
tables are created with the schema derived from them, so storage, validation and documentation
agree.
"""

import functools
from dataclasses import dataclass
from typing import Annotated

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.marcus import STREAMS
from seneca_assets.lib.timestamps import EARLIEST_PLAUSIBLE, LATEST_PLAUSIBLE

UtcTime = Annotated[pl.Datetime, "us", "UTC"]


class TableModel(pa.DataFrameModel):
    """Base of the lake's table models: strict columns, no coercion."""

    class Config:
        """Tables hold exactly the declared columns, already of the declared types."""

        strict = True
        coerce = False


class EventModel(TableModel):
    """bronze/events: one valid log line of any stream, stored once."""

    event_id: str = pa.Field(
        str_matches=r"^[0-9a-f]{32}$",
        unique=True,
        description="Content identity: xxh3-128 of the stream and the line as written, in hex. "
        "A `decisions_*` copy of a `conversations_*` line has the same id.",
    )
    stream: str = pa.Field(isin=list(STREAMS), description="Which Marcus or Seneca stream.")
    kind: str = pa.Field(
        nullable=True,
        description="The record's discriminator (`event`, `type` or `event_type`) as written.",
    )
    event_time: UtcTime = pa.Field(
        ge=EARLIEST_PLAUSIBLE,
        lt=LATEST_PLAUSIBLE,
        description="The record's `timestamp` in UTC (naive times read in SENECA_NAIVE_TZ).",
    )
    agent_id: str = pa.Field(
        nullable=True, description="`worker_id`, `agent_id` or `client_id`: one agent."
    )
    task_id: str = pa.Field(nullable=True, description="The task the record names, if any.")
    project_id: str = pa.Field(nullable=True, description="Marcus's project registry id.")
    source_file: str = pa.Field(description="Path of the file relative to the log folder.")
    line_number: int = pa.Field(ge=1, description="1-based physical line number in the file.")
    byte_offset: int = pa.Field(ge=0, description="Offset of the line's first byte in the file.")
    payload: str = pa.Field(description="The line as written (secrets redacted): valid JSON.")
    time_zone_assumed: bool = pa.Field(description="True when the timestamp had no offset.")
    ingested_at: UtcTime = pa.Field(description="When this row was stored.")
    ingest_batch: int = pa.Field(ge=1, description="The ingestion batch that stored the row.")


class QuarantineModel(TableModel):
    """bronze/quarantine: one line that could not be stored as an event, with the reason."""

    quarantine_id: str = pa.Field(
        str_matches=r"^[0-9a-f]{32}$",
        description="xxh3-128 of the file, offset and line: the same line is quarantined once.",
    )
    stream: str = pa.Field(isin=list(STREAMS), description="The stream of the source file.")
    source_file: str = pa.Field(description="Path of the file relative to the log folder.")
    line_number: int = pa.Field(ge=1, description="1-based physical line number in the file.")
    byte_offset: int = pa.Field(ge=0, description="Offset of the line's first byte in the file.")
    raw_line: bytes = pa.Field(
        description="The line byte for byte, without its line terminator (secrets redacted)."
    )
    reason: str = pa.Field(description="What was wrong, for a person to act on.")
    ingested_at: UtcTime = pa.Field(description="When the line was quarantined.")
    ingest_batch: int = pa.Field(ge=1, description="The ingestion batch that stored the row.")


class IngestFileModel(TableModel):
    """bronze/ingest_files: one source file and how far it has been read."""

    path: str = pa.Field(unique=True, description="Path relative to the log folder.")
    stream: str = pa.Field(isin=list(STREAMS), description="The file's stream.")
    size: int = pa.Field(ge=0, description="File size in bytes when last read.")
    mtime_ns: int = pa.Field(description="Modification time (ns since the epoch) when last read.")
    offset: int = pa.Field(ge=0, description="Bytes consumed: everything before is stored.")
    fingerprint: str = pa.Field(description="xxh3-64 of the first bytes, to notice rewrites.")
    fingerprint_bytes: int = pa.Field(ge=0, description="How many first bytes were hashed.")
    lines: int = pa.Field(ge=0, description="Lines consumed (line number of the next line - 1).")
    rewrites: int = pa.Field(ge=0, description="Times the file was found rewritten.")
    pending_tail_bytes: int = pa.Field(
        ge=0, description="Bytes of an unterminated last line waiting for its end."
    )
    updated_at: UtcTime = pa.Field(description="When this row last changed.")
    ingest_batch: int = pa.Field(ge=1, description="The ingestion batch that last read it.")


class RedactionModel(TableModel):
    """ops/redactions: one secret removed before storage; never the secret itself."""

    table: str = pa.Field(isin=["bronze/events", "bronze/quarantine"], description="Where.")
    row_id: str = pa.Field(description="The `event_id` or `quarantine_id` of the row.")
    field_path: str = pa.Field(description="JSON path of the value (`$` for a non-JSON line).")
    kind: str = pa.Field(description="The kind of secret (`openai_api_key`, `email`, ...).")
    redacted_at: UtcTime = pa.Field(description="When it was redacted.")
    ingest_batch: int = pa.Field(ge=1, description="The ingestion batch that stored the row.")


class SnapshotModel(TableModel):
    """ops/snapshots: the Delta version of one table in one named snapshot of the lake."""

    name: str = pa.Field(description="The snapshot's name.")
    table: str = pa.Field(description="A lake table, `layer/name`.")
    version: int = pa.Field(ge=0, description="Its Delta version in the snapshot.")
    taken_at: UtcTime = pa.Field(description="When the snapshot was taken.")


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its path under the lake root, its model and its partition columns."""

    name: str
    model: type[TableModel]
    partition_by: tuple[str, ...] = ()
    file_bytes: int | None = None
    """Target size of the table's data files, where smaller files than delta-rs's default keep
    partial rewrites (an overwrite of a time range) small."""
    cluster_by: tuple[str, ...] = ()
    """Rows are written sorted by these columns, in row groups of `row_group_rows`, so that
    readers skip the row groups whose statistics exclude what they look for."""
    row_group_rows: int | None = None
    zstd_level: int | None = None
    """The zstd level its Parquet files are written with, where not the lake's default (colder
    tiers trade write time for size)."""

    @property
    def schema(self) -> pl.Schema:
        """The Polars schema of the table, in declaration order."""
        return _polars_schema(self.model)

    def empty(self) -> pl.DataFrame:
        """A frame with the table's columns and no rows."""
        return pl.DataFrame(schema=self.schema)

    @property
    def time_column(self) -> str | None:
        """The table's data time: its first UTC time column that is not a bookkeeping time."""
        for name, dtype in self.schema.items():
            if isinstance(dtype, pl.Datetime) and name not in ("ingested_at", "updated_at"):
                return name
        return None


@functools.cache
def _polars_schema(model: type[TableModel]) -> pl.Schema:
    columns = model.to_schema().columns
    return pl.Schema({name: column.dtype.type for name, column in columns.items()})


EVENTS = TableSpec("bronze/events", EventModel, partition_by=("stream",))
QUARANTINE = TableSpec("bronze/quarantine", QuarantineModel)
INGEST_FILES = TableSpec("bronze/ingest_files", IngestFileModel)


class MaintenanceModel(TableModel):
    """ops/maintenance: what one maintenance run did to one table."""

    table: str = pa.Field(description="The table.")
    small_files: int = pa.Field(ge=0, description="Its live files under 8 MB before.")
    compacted: int = pa.Field(ge=0, description="Files compaction replaced.")
    vacuumed: int = pa.Field(ge=0, description="Files vacuum removed.")
    at: UtcTime = pa.Field(description="When.")


class StorageHealthModel(TableModel):
    """ops/storage_health: one measure of the lake's health at one check."""

    checked_at: UtcTime = pa.Field(description="When it was measured.")
    measure: str = pa.Field(description="What was measured (lib/health.py).")
    subject: str = pa.Field(description="The table, or `(lake)`.")
    value: float = pa.Field(nullable=True, description="The measurement (null: not measurable).")
    unit: str = pa.Field(description="Its unit.")
    status: str = pa.Field(
        isin=["healthy", "warning", "action", "unranged"],
        description="Against the design's range, or `unranged`.",
    )
    range: str = pa.Field(nullable=True, description="The range judged against.")


REDACTIONS = TableSpec("ops/redactions", RedactionModel)
SNAPSHOTS = TableSpec("ops/snapshots", SnapshotModel)
MAINTENANCE = TableSpec("ops/maintenance", MaintenanceModel)
STORAGE_HEALTH = TableSpec("ops/storage_health", StorageHealthModel)
BRONZE_TABLES: tuple[TableSpec, ...] = (EVENTS, QUARANTINE, INGEST_FILES, REDACTIONS)
