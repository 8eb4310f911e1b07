"""Exactly-once, incremental ingestion of Marcus log folders into the bronze tables.

The protocol, in one lock (so two runs never interleave):

1. Recover: the last batch acknowledged in bronze/ingest_files is the truth. Rows any table holds
   from a later batch (a run killed between its data commits and its acknowledgement) are
   deleted, so their lines are read again from the acknowledged offsets.
2. Plan: compare the log folder with bronze/ingest_files (`lib.sources`).
3. For each chunk of about `chunk_bytes`: parse it (`lib.parse`), drop events already stored
   (same content identity in the same stream and time window), append events, quarantine and
   redactions tagged with the batch number as a Delta application transaction, then acknowledge
   by writing the new offsets to bronze/ingest_files with the same transaction.

A line is therefore stored once whatever happens: re-runs read nothing twice, a kill at any point
is rolled back to the last acknowledgement, and copies (`decisions_*`, rewritten files) share the
content identity of the line they copy.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import reduce

import polars as pl

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.parse import ParsedChunk, parse_chunk
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, QUARANTINE, REDACTIONS
from seneca_assets.lib.sources import Chunk, FileState, read_chunks, scan

APP_ID = "seneca-ingest"
"""The Delta application id under which ingestion tags its commits."""
CHUNK_BYTES = 32 << 20
"""Bytes of log lines parsed and committed together: bounds memory, sets commit granularity."""
PARSE_THREADS = 2
"""Chunks parsed at once: with the chunk being read and the one being committed, this bounds
memory at about four chunks."""
LOCK_NAME = "ingest"
DATA_TABLES = (EVENTS, QUARANTINE, REDACTIONS)


@dataclass
class IngestReport:
    """What one ingestion run did."""

    files_seen: int = 0
    files_unreadable: int = 0
    files_read: int = 0
    files_rewritten: int = 0
    bytes_read: int = 0
    lines_read: int = 0
    blank_lines: int = 0
    events_stored: int = 0
    duplicates_skipped: int = 0
    quarantined: int = 0
    redactions: int = 0
    batches: int = 0
    rolled_back_rows: int = 0
    since_batch: int = 0
    """The last batch acknowledged before this run: rows of later batches are this run's."""

    def add(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        for f in fields(self):
            if f.name != "since_batch":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.events_stored:,} events stored, {self.quarantined:,} lines quarantined, "
            f"{self.duplicates_skipped:,} duplicates skipped, {self.redactions:,} secrets "
            f"redacted; {self.lines_read:,} lines ({self.bytes_read:,} bytes) read from "
            f"{self.files_read:,} of {self.files_seen:,} files"
            + (
                f"; {self.files_unreadable:,} unreadable, retried next run"
                if self.files_unreadable
                else ""
            )
        )

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return asdict(self)


def recover(lake: Lake) -> tuple[int, int]:
    """Roll back data of unacknowledged batches; return (last batch number used, rows removed)."""
    acked = lake.txn_version(INGEST_FILES, APP_ID)
    last, removed = acked, 0
    for spec in DATA_TABLES:
        version = lake.txn_version(spec, APP_ID)
        last = max(last, version)
        if version > acked:
            removed += lake.delete(spec, f"ingest_batch > {int(acked)}")
    return last, removed


def file_states(frame: pl.DataFrame) -> dict[str, FileState]:
    """The files bronze/ingest_files (`frame`) remembers, by path."""
    names = [f.name for f in fields(FileState)]
    return {row[0]: FileState(*row) for row in frame.select(names).iter_rows()}


class _Offsets:
    """bronze/ingest_files as the acknowledgement of each batch: the last write of a chunk."""

    def __init__(
        self,
        lake: Lake,
        frame: pl.DataFrame,
        known: dict[str, FileState],
        states: dict[str, FileState],
    ):
        self.lake = lake
        self.states = states
        self.frame = frame
        self.dirty = {path for path, state in states.items() if known.get(path) != state}

    def acknowledge(self, reached: dict[str, FileState], batch: int, now: datetime) -> None:
        """Record the files' new states, tagged with `batch`, in one commit."""
        self.states.update(reached)
        touched = self.dirty | set(reached)
        fresh = pl.DataFrame(
            [asdict(self.states[p]) for p in sorted(touched)],
            schema={f.name: INGEST_FILES.schema[f.name] for f in fields(FileState)},
        ).with_columns(
            updated_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
            ingest_batch=pl.lit(batch, dtype=pl.Int64),
        )
        kept = self.frame.filter(~pl.col("path").is_in(list(touched)))
        self.frame = pl.concat([kept, fresh.select(INGEST_FILES.schema.names())]).sort("path")
        self.lake.write(INGEST_FILES, self.frame, mode="overwrite", txn=(APP_ID, batch))
        self.dirty = set()


def _windows(rows: pl.DataFrame | pl.LazyFrame) -> pl.Expr:
    """Rows within the time window `rows` span in each of their streams.

    A copy of a line has the same stream and timestamp as the line, so duplicates of `rows` can
    only be found inside these windows.
    """
    bounds = (
        rows.lazy()
        .group_by("stream")
        .agg(lo=pl.col("event_time").min(), hi=pl.col("event_time").max())
        .collect()
    )
    return reduce(
        lambda acc, expr: acc | expr,
        (
            (pl.col("stream") == stream) & pl.col("event_time").is_between(lo, hi)
            for stream, lo, hi in bounds.iter_rows()
        ),
        pl.lit(False),
    )


def _already_stored(lake: Lake, events: pl.DataFrame) -> pl.DataFrame:
    """The event ids of `events` that bronze/events already holds.

    Only the part of the table within the chunk's time windows is read (Delta file statistics
    skip the rest).
    """
    if events.is_empty() or not lake.exists(EVENTS):
        return pl.DataFrame(schema={"event_id": pl.String})
    return (
        lake.scan(EVENTS)
        .filter(_windows(events))
        .select("event_id")
        .join(events.lazy().select("event_id"), on="event_id", how="semi")
        .collect()
    )


def _new_quarantine(lake: Lake, quarantine: pl.DataFrame) -> pl.DataFrame:
    if quarantine.is_empty() or not lake.exists(QUARANTINE):
        return quarantine
    ids = quarantine.get_column("quarantine_id")
    stored = (
        lake.scan(QUARANTINE)
        .filter(pl.col("quarantine_id").is_in(ids.implode()))
        .select("quarantine_id")
    )
    return quarantine.join(stored.collect(), on="quarantine_id", how="anti")


def store_chunk(lake: Lake, parsed: ParsedChunk, batch: int) -> IngestReport:
    """Append a parsed chunk's new rows to the data tables, tagged with `batch`."""
    stored = _already_stored(lake, parsed.events)
    events = parsed.events.join(stored, on="event_id", how="anti")
    quarantine = _new_quarantine(lake, parsed.quarantine)
    kept_ids = pl.concat([events.get_column("event_id"), quarantine.get_column("quarantine_id")])
    redactions = parsed.redactions.filter(pl.col("row_id").is_in(kept_ids.implode()))
    for spec, frame in ((EVENTS, events), (QUARANTINE, quarantine), (REDACTIONS, redactions)):
        if not frame.is_empty():
            lake.write(spec, frame, txn=(APP_ID, batch))
    return IngestReport(
        lines_read=parsed.lines,
        blank_lines=parsed.blank_lines,
        events_stored=events.height,
        duplicates_skipped=parsed.copies + stored.height,
        quarantined=quarantine.height,
        redactions=redactions.height,
    )


def _parse(chunk: Chunk, naive_tz: str, batch: int, stamp: datetime) -> ParsedChunk | None:
    if not chunk.segments:
        return None
    return parse_chunk(chunk, naive_tz=naive_tz, batch=batch, now=stamp)


def ingest(
    settings: IngestSettings, *, chunk_bytes: int = CHUNK_BYTES, now: datetime | None = None
) -> IngestReport:
    """Ingest everything new under the log folder into the lake, exactly once.

    Chunks are parsed by PARSE_THREADS threads while the previous chunk is written and
    acknowledged by another (NumPy, DuckDB, Polars and Delta release the GIL); commits stay in
    batch order.
    """
    settings = settings.validated()
    lake = Lake(settings.lake_dir)
    lake.ensure_writable()
    report = IngestReport()
    with (
        lake.lock(LOCK_NAME),
        ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="parse") as parsers,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit") as writer,
    ):
        for spec in (*DATA_TABLES, INGEST_FILES):
            lake.table(spec)  # every bronze table exists, empty or not, for its readers
        batch, report.rolled_back_rows = recover(lake)
        report.since_batch = batch
        remembered = lake.read(INGEST_FILES)
        known = file_states(remembered)
        result = scan(
            settings.log_dir, known, now_s=time.time(), tail_grace_s=settings.tail_grace_s
        )
        report.files_seen = result.files_seen
        report.files_read = len(result.plans)
        report.files_rewritten = result.files_rewritten
        report.files_unreadable = len(result.unreadable)
        offsets = _Offsets(lake, remembered, known, result.states)

        def commit(
            parsed: ParsedChunk | None, reached: dict[str, FileState], batch: int, stamp: datetime
        ) -> IngestReport:
            stored = store_chunk(lake, parsed, batch) if parsed else IngestReport()
            offsets.acknowledge(reached, batch, stamp)
            stored.batches = 1
            return stored

        parsing: deque[tuple[Future[ParsedChunk | None], dict[str, FileState], int, datetime]]
        parsing = deque()
        committing: Future[IngestReport] | None = None

        def hand_over_oldest() -> None:
            nonlocal committing
            parsed, reached, number, stamp = parsing.popleft()
            rows = parsed.result()
            if committing is not None:
                report.add(committing.result())
            committing = writer.submit(commit, rows, reached, number, stamp)

        for chunk in read_chunks(result.plans, chunk_bytes):
            batch += 1
            stamp = now or datetime.now(UTC)
            report.bytes_read += sum(s.consumed for s in chunk.segments)
            parsed = parsers.submit(_parse, chunk, settings.naive_tz, batch, stamp)
            parsing.append((parsed, chunk.reached, batch, stamp))
            if len(parsing) > PARSE_THREADS:
                hand_over_oldest()
        while parsing:
            hand_over_oldest()
        if committing is not None:
            report.add(committing.result())
        if offsets.dirty:
            offsets.acknowledge({}, batch + 1, now or datetime.now(UTC))
    return report


QUARANTINE_SHARE_WARN = 0.01
"""Above this share of quarantined lines, the bronze check warns."""


@dataclass(frozen=True)
class BronzeHealth:
    """Facts the bronze asset checks judge."""

    events: int
    quarantined: int
    duplicate_event_ids: int
    """Event ids stored more than once among the rows checked."""
    checked_rows: int

    @property
    def quarantine_share(self) -> float:
        """Quarantined lines as a share of all stored lines."""
        total = self.events + self.quarantined
        return self.quarantined / total if total else 0.0


def bronze_health(lake: Lake, since_batch: int = 0) -> BronzeHealth:
    """Count events and quarantined lines; look for event ids stored twice.

    With `since_batch`, only the part of the table a later batch could have duplicated is read:
    the time windows of the rows stored after that batch. With 0, the whole table is checked.
    """
    events = lake.scan(EVENTS)
    if since_batch:
        events = events.filter(_windows(events.filter(pl.col("ingest_batch") > since_batch)))
    ids = events.select("event_id").collect().get_column("event_id")
    return BronzeHealth(
        events=lake.scan(EVENTS).select(pl.len()).collect().item(),
        quarantined=lake.scan(QUARANTINE).select(pl.len()).collect().item(),
        duplicate_event_ids=ids.len() - ids.n_unique(),
        checked_rows=ids.len(),
    )
