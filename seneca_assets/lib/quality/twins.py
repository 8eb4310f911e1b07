"""Cross-stream twins: the same happening as each stream recorded it, and when they disagree.

Marcus records an assignment in the conversations log and again in the realtime log and the
agent events; a progress report in conversations and in the agent events; and the audit log
records the tool call that caused an assignment or a blocker. silver/task_events
keeps every witness's fact, so each fact of a witness stream (WITNESSES) is paired with the
conversations fact of the same task, kind and agent nearest in time (within MAX_OFFSET).
- **Temporal alignment**: per witness file, the median offset of its facts from their twins. A
  file whose times sit more than MAX_SKEW off is a finding; when its times were written without
  an offset and sit a whole number of hours off (within WHOLE_HOURS), the finding names the zone
  it most likely used (Marcus wrote naive local times on older installations).
- **A missing twin**: a witness fact with no conversations twin within TOLERANCE of where its
  file's offset puts it, while the conversations stream was writing (it has events within
  TOLERANCE on both sides): one finding per task.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.quality.finding import Finding

WITNESSES = {
    "realtime": ("assigned",),
    "agent_events": ("assigned", "progress", "completed"),
    "audit": ("assigned", "blocker"),
}
"""Each witness stream and the steps it records; the audit log's are the tool calls that caused
them (`request_next_task` an assignment, `report_blocker` a blocker)."""
REFERENCE = "conversations"
MAX_OFFSET = timedelta(hours=14)
MAX_SKEW = timedelta(minutes=5)
WHOLE_HOURS = timedelta(minutes=3)
TOLERANCE = timedelta(minutes=10)
MIN_PAIRS = 5
CHECK_OFFSET, CHECK_MISSING = "alignment.file_offset", "consistency.missing_twin"
_KEY = ["task_id", "fact", "agent_id"]
ONCE = ("assigned", "completed")


def twin_findings(task_events: pl.DataFrame, events: pl.DataFrame) -> list[Finding]:
    """File offsets and missing twins.

    `task_events`: silver/task_events; `events`: bronze `event_id`, `stream`, `event_time`,
    `source_file`, `time_zone_assumed`.
    """
    facts = task_events.filter(pl.col("agent_id").is_not_null()).select(
        "event_id", "event_time", "source", *_KEY
    )
    reference = (
        facts.filter(pl.col("source") == REFERENCE)
        .select(*_KEY, "event_time", twin="event_time")
        .sort("event_time")
    )
    witnesses = (
        pl.concat(
            [
                facts.filter((pl.col("source") == s) & pl.col("fact").is_in(list(kinds)))
                for s, kinds in WITNESSES.items()
            ]
        )
        .join(events.select("event_id", "source_file", "time_zone_assumed"), on="event_id")
        .sort("event_time")
    )
    if witnesses.is_empty() or reference.is_empty():
        return []
    # The files' offsets from the steps that happen once per task and agent (an assignment, a
    # completion): progress reports come every few minutes, and a shifted one lands nearer
    # another report than its own twin.
    once = witnesses.filter(pl.col("fact").is_in(list(ONCE)))
    paired = _nearest(once, reference, MAX_OFFSET).with_columns(
        offset=pl.col("event_time") - pl.col("twin")
    )
    files = (
        paired.drop_nulls("offset")
        .group_by("source", "source_file")
        .agg(
            offset=pl.col("offset").dt.total_microseconds().median(),
            pairs=pl.len(),
            naive=pl.col("time_zone_assumed").all(),
            start=pl.col("event_time").min(),
            end=pl.col("event_time").max(),
            evidence=pl.col("event_id").head(10),
        )
        .with_columns(offset=pl.duration(microseconds=pl.col("offset").cast(pl.Int64)))
    )
    out = [_offset(row) for row in files.iter_rows(named=True) if _skewed(row)]
    # Then every step, moved back by its file's offset, against a twin within TOLERANCE.
    shifted = (
        witnesses.join(
            files.select("source_file", file_offset="offset"), on="source_file", how="left"
        )
        .with_columns(pl.col("file_offset").fill_null(timedelta(0)))
        .with_columns(event_time=pl.col("event_time") - pl.col("file_offset"))
        .sort("event_time")
    )
    missing = _nearest(shifted, reference, TOLERANCE).filter(pl.col("twin").is_null())
    stream_times = (
        events.filter(pl.col("stream") == REFERENCE).get_column("event_time").sort().to_numpy()
    )
    out += _missing(missing, stream_times)
    return out


def _nearest(facts: pl.DataFrame, reference: pl.DataFrame, within: timedelta) -> pl.DataFrame:
    """Each fact with the time of its nearest twin of the same task, kind and agent (`twin`)."""
    return facts.join_asof(
        reference,
        on="event_time",
        by=_KEY,
        strategy="nearest",
        tolerance=within,
        check_sortedness=False,  # both sorted by time; the check cannot see into groups
    )


def _skewed(row: dict) -> bool:
    return row["pairs"] >= MIN_PAIRS and abs(row["offset"]) > MAX_SKEW


def _offset(row: dict) -> Finding:
    offset = row["offset"]
    hours = round(offset / timedelta(hours=1))
    whole = hours != 0 and abs(offset - timedelta(hours=hours)) <= WHOLE_HOURS
    sign = "-" if offset < timedelta(0) else "+"
    observed = (
        f"its {row['pairs']:,} records sit a median {_span(offset)} from their twins in {REFERENCE}"
    )
    if row["naive"] and whole:
        observed += (
            f"; its times carry no offset and are {abs(hours)} whole hour(s) off: most likely "
            f"local time of UTC{'+' if hours > 0 else '-'}{abs(hours):02d}:00 read as UTC"
        )
    return Finding(
        check=CHECK_OFFSET,
        severity="error",
        stream=row["source"],
        table="bronze/events",
        subject_kind="file",
        subject=row["source_file"],
        window_start=row["start"],
        window_end=row["end"],
        observed=observed,
        expected=f"within {_span(MAX_SKEW)} of them ({sign} is later)",
        evidence=row["evidence"],
    )


def _missing(missing: pl.DataFrame, times: np.ndarray) -> list[Finding]:
    if missing.is_empty() or times.size == 0:
        return []
    # Only where the conversations stream was writing: events within TOLERANCE on both sides.
    at = missing.get_column("event_time").to_numpy()
    tol = np.timedelta64(int(TOLERANCE.total_seconds() * 1e6), "us")
    before = np.searchsorted(times, at - tol, side="left") < np.searchsorted(
        times, at, side="right"
    )
    after = np.searchsorted(times, at, side="left") < np.searchsorted(times, at + tol, side="right")
    writing = missing.filter(pl.Series(before & after))
    rows = (
        writing.sort("event_time")
        .group_by("task_id")
        .agg(
            facts=pl.format("{} {} of {}", "source", "fact", "agent_id").unique().sort(),
            start=pl.col("event_time").min(),
            end=pl.col("event_time").max(),
            evidence=pl.col("event_id").head(10),
            count=pl.len(),
        )
        .sort("task_id")
    )
    return [
        Finding(
            check=CHECK_MISSING,
            severity="warning",
            stream=REFERENCE,
            table="silver/task_events",
            subject_kind="task",
            subject=row["task_id"],
            window_start=row["start"],
            window_end=row["end"],
            observed=f"{row['count']:,} record(s) with no twin in {REFERENCE}: "
            + ", ".join(row["facts"]),
            expected=f"the same step in {REFERENCE} within {_span(TOLERANCE)}",
            evidence=row["evidence"],
        )
        for row in rows.iter_rows(named=True)
    ]


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    if abs(seconds) >= 3600:
        return f"{seconds / 3600:+.1f} h"
    return f"{seconds / 60:+.1f} min"
