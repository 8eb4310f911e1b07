"""Looking at quarantined lines, and replaying them through today's parser.

A replay moves the lines that now parse into bronze/events exactly once: the events are appended
and acknowledged under the ingestion protocol (`lib.ingest`), then the moved lines leave the
quarantine. A crash before the acknowledgement is rolled back by the next run; a crash after it
leaves lines in the quarantine whose events exist, and the next replay finds them already stored
and only removes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import polars as pl

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import APP_ID, LOCK_NAME, recover, store_chunk
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.parse import parse_chunk
from seneca_assets.lib.schemas import INGEST_FILES, QUARANTINE
from seneca_assets.lib.sources import Chunk


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did."""

    examined: int
    moved: int
    stored: int
    still_quarantined: int


def quarantined(lake: Lake, *, limit: int | None = None) -> pl.DataFrame:
    """Quarantined lines, oldest first, with the reason and the line as text.

    Bytes that are not UTF-8 are shown as backslash escapes; `raw_line` in the table
    keeps them as they were.
    """
    frame = lake.scan(QUARANTINE).sort("ingested_at", "source_file", "line_number")
    rows = (frame.head(limit) if limit else frame).collect()
    text = [bytes(raw).decode("utf-8", "backslashreplace") for raw in rows.get_column("raw_line")]
    return rows.select("source_file", "line_number", "reason", "ingested_at").with_columns(
        line=pl.Series(text, dtype=pl.String)
    )


def _chunk(rows: pl.DataFrame) -> Chunk:
    return Chunk.of_lines(
        list(
            rows.select(
                "source_file", "stream", "byte_offset", "line_number", "raw_line"
            ).iter_rows()
        )
    )


def replay(settings: IngestSettings) -> ReplayReport:
    """Parse every quarantined line again; move those that pass into bronze/events."""
    lake = Lake(settings.lake_dir)
    lake.ensure_writable()
    with lake.lock(LOCK_NAME):
        batch, _ = recover(lake)
        batch += 1
        rows = lake.read(QUARANTINE)
        if rows.is_empty():
            return ReplayReport(0, 0, 0, 0)
        now = datetime.now(UTC)
        parsed = parse_chunk(_chunk(rows), naive_tz=settings.naive_tz, batch=batch, now=now)
        still_bad = parsed.quarantine.select("source_file", "byte_offset")
        remaining = rows.join(still_bad, on=["source_file", "byte_offset"], how="semi")
        stored = store_chunk(lake, replace(parsed, quarantine=parsed.quarantine.clear()), batch)
        lake.write(INGEST_FILES, lake.read(INGEST_FILES), mode="overwrite", txn=(APP_ID, batch))
        if remaining.height < rows.height:
            lake.write(QUARANTINE, remaining, mode="overwrite")
        return ReplayReport(
            examined=rows.height,
            moved=rows.height - remaining.height,
            stored=stored.events_stored,
            still_quarantined=remaining.height,
        )
