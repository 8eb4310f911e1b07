"""Turning a chunk of log lines into bronze rows: events, quarantined lines and redactions.

Everything here is per chunk and in memory; deduplication against the lake and writing belong to
`lib.ingest`. Every line of the chunk ends up in exactly one place: an event, the quarantine (with
its reason), a copy of an earlier valid line of the chunk (which stands for it), or nowhere
because it is blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandera.errors
import polars as pl
import xxhash

from seneca_assets.lib.jsonl import (
    LineSpans,
    extract_fields,
    object_errors,
    split_lines,
    string_views,
    utf8_errors,
)
from seneca_assets.lib.marcus import FIELD_PATHS, RECORD_COLUMNS, STREAMS
from seneca_assets.lib.redact import may_hold_secret, redact_json_line, redact_raw_line
from seneca_assets.lib.schemas import EVENTS, QUARANTINE, REDACTIONS, EventModel
from seneca_assets.lib.sources import Chunk, Segment
from seneca_assets.lib.timestamps import parse_timestamps

_STREAM_SEEDS = {stream: xxhash.xxh64_intdigest(stream.encode()) for stream in STREAMS}
_BLANK_MAX_BYTES = 16
"""Lines shorter than this, or starting with white space, are checked for being blank."""
_WHITESPACE_BYTES = np.frombuffer(b" \t\r\n\x0b\x0c", dtype=np.uint8)


def quarantine_id(source_file: str, byte_offset: int, line: bytes) -> str:
    """The identity of a quarantined line: its place and its bytes."""
    return xxhash.xxh3_128_hexdigest(f"{source_file}\0{byte_offset}\0".encode() + line)


@dataclass(frozen=True)
class ParsedChunk:
    """The rows one chunk of lines produces."""

    events: pl.DataFrame
    quarantine: pl.DataFrame
    redactions: pl.DataFrame
    lines: int
    blank_lines: int
    copies: int
    """Valid lines dropped because an identical line of the same stream came earlier in the
    chunk."""


@dataclass(frozen=True)
class _Lines:
    """The lines of a chunk and where each comes from."""

    buf: memoryview
    spans: LineSpans
    segments: list[Segment]
    segment: np.ndarray
    """Index into `segments` of each line."""
    byte_offset: np.ndarray
    line_number: np.ndarray

    @classmethod
    def of(cls, chunk: Chunk) -> _Lines:
        buf = chunk.data
        segments = chunk.segments
        spans = split_lines(buf)
        seg_starts = np.array([s.buf_start for s in segments], dtype=np.int64)
        seg = np.searchsorted(seg_starts, spans.starts, side="right") - 1
        first_index = np.searchsorted(seg, np.arange(len(segments)), side="left")
        file_start = np.array([s.start for s in segments], dtype=np.int64)
        first_line = np.array([s.first_line for s in segments], dtype=np.int64)
        return cls(
            buf=buf,
            spans=spans,
            segments=segments,
            segment=seg,
            byte_offset=file_start[seg] + spans.starts - seg_starts[seg],
            line_number=first_line[seg] + np.arange(len(seg)) - first_index[seg],
        )

    def raw(self, i: int) -> bytes:
        return bytes(self.buf[self.spans.starts[i] : self.spans.ends[i]])

    def stream(self, i: int) -> str:
        return self.segments[self.segment[i]].stream

    def source(self, i: int) -> str:
        return self.segments[self.segment[i]].path

    def column(self, attribute: str, index: np.ndarray) -> pl.Series:
        """A per-segment attribute (`stream`, `path`) for the lines at `index`."""
        values = pl.Series([getattr(s, attribute) for s in self.segments], dtype=pl.String)
        return values.gather(self.segment[index])

    def event_ids(self, index: np.ndarray) -> list[str]:
        """The content identity of the lines at `index`.

        xxh3-128 of the line's bytes, seeded by its stream: a copy of a line (a `decisions_*`
        twin, a rewritten file) has the same id.
        """
        seeds = np.array([_STREAM_SEEDS[s.stream] for s in self.segments], dtype=np.uint64)
        view, digest = self.buf, xxhash.xxh3_128_hexdigest
        return [
            digest(view[start:end], seed)
            for start, end, seed in zip(
                self.spans.starts[index].tolist(),
                self.spans.ends[index].tolist(),
                seeds[self.segment[index]].tolist(),
                strict=True,
            )
        ]


class _Quarantine:
    """Collects the lines of a chunk that cannot be events, secrets redacted."""

    def __init__(self, lines: _Lines) -> None:
        self.lines = lines
        self.rows: list[tuple[object, ...]] = []
        self.redactions: list[tuple[str, str, str, str]] = []

    def add(self, i: int, reason: str) -> None:
        lines = self.lines
        source, offset = lines.source(i), int(lines.byte_offset[i])
        row_id = quarantine_id(source, offset, lines.raw(i))
        raw, found = redact_raw_line(lines.raw(i))
        self.redactions += [("bronze/quarantine", row_id, r.field_path, r.kind) for r in found]
        self.rows.append(
            (row_id, lines.stream(i), source, int(lines.line_number[i]), offset, raw, reason)
        )

    def take_failures(self, frame: pl.DataFrame, reason: str) -> pl.DataFrame:
        """Quarantine the rows whose `reason` column is set; return the others without it."""
        failed = frame.filter(pl.col(reason).is_not_null())
        for i, why in failed.select("_line", reason).iter_rows():
            self.add(i, why)
        return frame.filter(pl.col(reason).is_null()).drop(reason)

    def frame(self, now: datetime, batch: int) -> pl.DataFrame:
        names = QUARANTINE.schema.names()[:7]
        frame = pl.DataFrame(
            self.rows, schema=[(n, QUARANTINE.schema[n]) for n in names], orient="row"
        )
        return frame.with_columns(
            ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
            ingest_batch=pl.lit(batch, dtype=pl.Int64),
        ).unique(subset="quarantine_id", keep="first", maintain_order=True)


def _candidates(lines: _Lines, quarantine: _Quarantine) -> tuple[np.ndarray, int]:
    """Indexes of the lines worth decoding; blank lines are counted, bad UTF-8 quarantined."""
    starts, ends = lines.spans.starts, lines.spans.ends
    arr = np.frombuffer(lines.buf, dtype=np.uint8)
    first = arr[np.minimum(starts, max(len(arr) - 1, 0))]
    maybe_blank = (ends - starts < _BLANK_MAX_BYTES) | np.isin(first, _WHITESPACE_BYTES)
    keep = np.ones(len(starts), dtype=bool)
    for i in np.flatnonzero(maybe_blank).tolist():
        keep[i] = bool(lines.raw(i).strip())
    blank = int(len(keep) - keep.sum())
    for i, reason in utf8_errors(lines.buf, lines.spans).items():
        if keep[i]:
            quarantine.add(i, reason)
            keep[i] = False
    return np.flatnonzero(keep), blank


def _decode(lines: _Lines, index: np.ndarray, quarantine: _Quarantine) -> tuple[pl.DataFrame, int]:
    """Lift event columns (timestamp still text) from candidate lines; quarantine failures.

    A valid line identical to an earlier one of the same stream in the chunk (a `decisions_*`
    copy, most often) is counted and dropped before any further work; its original stands for
    it, whether stored or quarantined. Returns the columns and the number of copies.
    """
    errors = object_errors(lines.buf, lines.spans, index)
    for i, reason in errors.items():
        quarantine.add(i, reason)
    if errors:
        index = index[~np.isin(index, np.fromiter(errors, dtype=np.int64))]
    ids = pl.Series("event_id", lines.event_ids(index), dtype=pl.String)
    first = ids.is_first_distinct()
    copies = len(ids) - int(first.sum())
    if copies:
        index, ids = index[first.to_numpy()], ids.filter(first)
    text = string_views(lines.buf, lines.spans, index)
    streams = lines.column("stream", index)
    fields = extract_fields(
        text, list(FIELD_PATHS.values()), RECORD_COLUMNS, {"stream": streams.to_arrow()}
    )
    frame = fields.with_columns(
        ids,
        stream=streams,
        source_file=lines.column("path", index),
        payload=pl.Series(text),
        _line=pl.Series(index),
    )
    return frame, copies


def _with_times(frame: pl.DataFrame, naive_tz: str, quarantine: _Quarantine) -> pl.DataFrame:
    """Parse timestamps to UTC; quarantine lines whose timestamp is not one."""
    times = parse_timestamps(frame.get_column("timestamp"), naive_tz)
    frame = pl.concat([frame.drop("timestamp"), times], how="horizontal")
    return quarantine.take_failures(frame, "timestamp_error")


def _with_columns(frame: pl.DataFrame, lines: _Lines, now: datetime, batch: int) -> pl.DataFrame:
    """Add the line's position and the run's stamps, as bronze/events stores them."""
    index = frame.get_column("_line").to_numpy()
    return frame.with_columns(
        line_number=pl.Series(lines.line_number[index], dtype=pl.Int64),
        byte_offset=pl.Series(lines.byte_offset[index], dtype=pl.Int64),
        ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
        ingest_batch=pl.lit(batch, dtype=pl.Int64),
    )


def _validate(frame: pl.DataFrame, quarantine: _Quarantine) -> pl.DataFrame:
    """Check rows against the bronze/events model; quarantine each failing row with the check."""
    try:
        EventModel.validate(frame.select(EVENTS.schema.names()), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases.get_column("index").null_count():
            raise  # a schema-level failure is a bug of ours, not bad data
        reasons = cases.group_by("index", maintain_order=True).agg(
            pl.format(
                "failed check {} on {} (value {})",
                "check",
                "column",
                pl.col("failure_case").str.slice(0, 80),
            )
            .str.join("; ")
            .alias("reason")
        )
        failed = reasons.get_column("index").to_list()
        lines = frame.get_column("_line").gather(failed).to_list()
        for i, reason in zip(lines, reasons.get_column("reason").to_list(), strict=True):
            quarantine.add(i, reason)
        frame = frame.with_row_index("_row").filter(~pl.col("_row").is_in(failed)).drop("_row")
    return frame


def _redact(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, str, str, str]]]:
    """Replace secrets in payloads; return the frame and one redaction record per secret."""
    flagged = may_hold_secret(frame.get_column("payload")).arg_true()
    if flagged.is_empty():
        return frame, []
    redactions, new_payloads = [], []
    ids = frame.get_column("event_id").gather(flagged).to_list()
    for row_id, payload in zip(
        ids, frame.get_column("payload").gather(flagged).to_list(), strict=True
    ):
        text, found = redact_json_line(payload)
        new_payloads.append(text)
        redactions += [("bronze/events", row_id, r.field_path, r.kind) for r in found]
    payload = frame.get_column("payload").scatter(flagged, new_payloads)
    return frame.with_columns(payload), redactions


def _redaction_frame(
    rows: list[tuple[str, str, str, str]], now: datetime, batch: int
) -> pl.DataFrame:
    names = REDACTIONS.schema.names()[:4]
    return pl.DataFrame(rows, schema=[(n, pl.String) for n in names], orient="row").with_columns(
        redacted_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
        ingest_batch=pl.lit(batch, dtype=pl.Int64),
    )


def parse_chunk(chunk: Chunk, *, naive_tz: str, batch: int, now: datetime) -> ParsedChunk:
    """Parse every line of a chunk (complete lines, each segment ending with a newline)."""
    lines = _Lines.of(chunk)
    quarantine = _Quarantine(lines)
    candidates, blank = _candidates(lines, quarantine)
    frame, copies = _decode(lines, candidates, quarantine)
    frame = _with_times(frame, naive_tz, quarantine)
    frame = _validate(_with_columns(frame, lines, now, batch), quarantine)
    frame, redactions = _redact(frame)
    return ParsedChunk(
        events=frame.select(EVENTS.schema.names()),
        quarantine=quarantine.frame(now, batch),
        redactions=_redaction_frame(redactions + quarantine.redactions, now, batch),
        lines=len(lines.spans),
        blank_lines=blank,
        copies=copies,
    )
