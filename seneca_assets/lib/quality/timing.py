"""Timeliness: streams that fall silent while the others go on, and times in the future.

- **A silent stream**: a gap of at least MIN_SILENCE between two successive events of a stream,
  at least SILENCE_FACTOR times its longest other gap, in which, by its own rhythm, it should
  have written at least EXPECTED_EVENTS (the sum over the gap's hours of the stream's median
  count for that hour of the day, zero hours included: a stream quiet every night is not silent
  at night), while the other streams wrote at least OTHERS_ACTIVE events inside it: the process
  that writes it stopped, not Marcus. Were the stream's events a Poisson process at those
  rates, such a gap would have a chance below e^-EXPECTED_EVENTS.
- **A future time**: an event stamped more than FUTURE_TOLERANCE after it was ingested; one
  finding per file, with its first events as evidence.
- **Volume**: a run of hours whose event count sits at least VOLUME_SCORE robust sds from the
  stream's seasonal expectation (the analytics' anomaly method over hourly counts).
- **Out of order**: a line stamped more than ORDER_TOLERANCE before the line above it in its
  file (Marcus appends as things happen; a jump back is a clock set back, or lines mixed in
  from elsewhere); one finding per file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.anomalies import metric_anomalies
from seneca_assets.lib.quality.finding import Finding

MIN_SILENCE = timedelta(hours=1)
SILENCE_FACTOR = 2.0
"""A silence is at least this many times the stream's longest other gap: streams that follow the
agents' work have long natural lulls, and a stopped writer leaves a longer one."""
EXPECTED_EVENTS = 20.0
OTHERS_ACTIVE = 20
FUTURE_TOLERANCE = timedelta(minutes=5)
ORDER_TOLERANCE = timedelta(minutes=1)
CHECK_SILENT, CHECK_FUTURE = "timeliness.silent_stream", "timeliness.future_time"
CHECK_ORDER = "timeliness.out_of_order"
_HOUR = timedelta(hours=1)


def silent_streams(events: pl.DataFrame) -> list[Finding]:
    """Gaps in a stream beyond its rhythm while other streams wrote.

    `events`: bronze rows with `event_id`, `stream`, `event_time`.
    """
    ordered = events.select("event_id", "stream", "event_time").sort("event_time", "event_id")
    gaps = ordered.with_columns(
        previous=pl.col("event_time").shift(1).over("stream"),
        previous_id=pl.col("event_id").shift(1).over("stream"),
    ).with_columns(gap=pl.col("event_time") - pl.col("previous"))
    # The longest gap of the stream apart from each gap: its longest and its second longest.
    ranked = gaps.with_columns(rank=pl.col("gap").rank("ordinal", descending=True).over("stream"))
    longest = ranked.group_by("stream").agg(
        first=pl.col("gap").filter(pl.col("rank") == 1).first(),
        second=pl.col("gap").filter(pl.col("rank") == 2).first(),
    )
    gaps = (
        ranked.join(longest, on="stream")
        .with_columns(
            other=pl.when(pl.col("rank") == 1).then("second").otherwise("first"),
        )
        .filter(
            (pl.col("gap") >= MIN_SILENCE)
            & (pl.col("other").is_null() | (pl.col("gap") >= SILENCE_FACTOR * pl.col("other")))
        )
    )
    out = []
    times = ordered.get_column("event_time")
    streams = ordered.get_column("stream")
    rates = {stream: _hourly_rate(rows) for (stream,), rows in ordered.group_by(["stream"])}
    for row in gaps.iter_rows(named=True):
        expected = _expected(rates[row["stream"]], row["previous"], row["event_time"])
        inside = (
            (times > row["previous"]) & (times < row["event_time"]) & (streams != row["stream"])
        )
        others = int(inside.sum())
        if expected < EXPECTED_EVENTS or others < OTHERS_ACTIVE:
            continue
        out.append(
            Finding(
                check=CHECK_SILENT,
                severity="error",
                stream=row["stream"],
                table="bronze/events",
                subject_kind="stream",
                subject=row["stream"],
                window_start=row["previous"],
                window_end=row["event_time"],
                observed=f"no {row['stream']} event for "
                f"{_hours(row['event_time'] - row['previous'])} while the other streams wrote "
                f"{others:,}",
                expected=f"about {expected:,.0f} events by its usual rate at those hours, "
                f"and no gap over {_hours(row['other'] or MIN_SILENCE)}, its longest other",
                evidence=[row["previous_id"], row["event_id"]],
            )
        )
    return out


def _hourly_rate(rows: pl.DataFrame) -> np.ndarray:
    """A stream's median events per hour for each hour of the day, over the hours it spans."""
    counts = rows.group_by(hour=pl.col("event_time").dt.truncate("1h")).agg(n=pl.len())
    span = counts.select(
        pl.datetime_range(pl.col("hour").min(), pl.col("hour").max(), "1h").alias("hour")
    )
    full = span.join(counts, on="hour", how="left").fill_null(0)
    median = full.group_by(pl.col("hour").dt.hour().alias("h")).agg(pl.col("n").median())
    rate = np.zeros(24)
    for hour, value in median.iter_rows():
        rate[hour] = value
    return rate


def _expected(rate: np.ndarray, start: datetime, end: datetime) -> float:
    """Events the hourly `rate` expects between `start` and `end`."""
    total, at = 0.0, start
    while at < end:
        boundary = min(at.replace(minute=0, second=0, microsecond=0) + _HOUR, end)
        total += rate[at.hour] * (boundary - at) / _HOUR
        at = boundary
    return total


def future_times(events: pl.DataFrame) -> list[Finding]:
    """Events stamped after they were stored, by file.

    `events` needs `event_id`, `stream`, `event_time`, `ingested_at`, `source_file`.
    """
    ahead = events.filter(pl.col("event_time") > pl.col("ingested_at") + FUTURE_TOLERANCE)
    rows = (
        ahead.sort("event_time")
        .group_by("stream", "source_file")
        .agg(
            count=pl.len(),
            first=pl.col("event_time").min(),
            last=pl.col("event_time").max(),
            most=(pl.col("event_time") - pl.col("ingested_at")).max(),
            evidence=pl.col("event_id").head(10),
        )
        .sort("source_file")
    )
    return [
        Finding(
            check=CHECK_FUTURE,
            severity="error",
            stream=row["stream"],
            table="bronze/events",
            subject_kind="file",
            subject=row["source_file"],
            window_start=row["first"],
            window_end=row["last"],
            observed=f"{row['count']:,} event(s) stamped up to {_hours(row['most'])} after "
            "they were stored",
            expected=f"times no later than their storage (tolerance {FUTURE_TOLERANCE})",
            evidence=row["evidence"],
        )
        for row in rows.iter_rows(named=True)
    ]


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:,.1f} h"


def out_of_order(events: pl.DataFrame) -> list[Finding]:
    """Lines stamped well before the line above them, by file.

    `events` needs `event_id`, `stream`, `event_time`, `source_file`, `line_number`.
    """
    back = (
        events.sort("source_file", "line_number")
        .with_columns(before=pl.col("event_time").shift(1).over("source_file"))
        .filter(pl.col("before") - pl.col("event_time") > ORDER_TOLERANCE)
    )
    rows = (
        back.group_by("stream", "source_file")
        .agg(
            count=pl.len(),
            most=(pl.col("before") - pl.col("event_time")).max(),
            start=pl.col("event_time").min(),
            end=pl.col("before").max(),
            lines=pl.col("line_number").sort().head(5),
            evidence=pl.col("event_id").sort_by("line_number").head(10),
        )
        .sort("source_file")
    )
    return [
        Finding(
            check=CHECK_ORDER,
            severity="warning",
            stream=row["stream"],
            table="bronze/events",
            subject_kind="file",
            subject=row["source_file"],
            window_start=row["start"],
            window_end=row["end"],
            observed=f"{row['count']:,} line(s) stamped up to {_hours(row['most'])} before "
            f"the line above (lines {', '.join(f'{n:,}' for n in row['lines'])})",
            expected=f"lines in time order, within {ORDER_TOLERANCE}",
            evidence=row["evidence"],
        )
        for row in rows.iter_rows(named=True)
    ]


VOLUME_SCORE = 8.0
"""Robust standard deviations from its seasonal expectation that make an hour's volume far off
(the analytics flag anomalies at 3.5; a volume finding is for what no lull or burst of work
explains: on the simulated corpus, no clean hour reaches 8)."""
CHECK_VOLUME = "completeness.volume"


def volume(events: pl.DataFrame, now: datetime) -> list[Finding]:
    """Runs of hours whose event count per stream is far from its seasonal expectation.

    The hourly counts (zero hours included, up to `now`) are judged by the analytics' anomaly
    method (`analytics.anomalies`); `events` needs `event_id`, `stream`, `event_time`.
    """
    counts = (
        events.filter(pl.col("event_time") < now)
        .group_by("stream", bucket=pl.col("event_time").dt.truncate("1h"))
        .agg(mean=pl.len().cast(pl.Float64))
    )
    if counts.is_empty():
        return []
    grid = (
        counts.group_by("stream")
        .agg(bucket=pl.datetime_ranges(pl.col("bucket").min(), pl.col("bucket").max(), "1h"))
        .explode("bucket")
    )
    hourly = (
        grid.join(counts, on=["stream", "bucket"], how="left")
        .with_columns(pl.col("mean").fill_null(0.0), tags=pl.lit("{}"))
        .rename({"stream": "name"})
    )
    far = (
        metric_anomalies(hourly, now)
        .filter(pl.col("score").abs() >= VOLUME_SCORE)
        .sort("name", "bucket")
        .with_columns(
            run=((pl.col("bucket").diff().over("name") != _HOUR).fill_null(True)).cum_sum()
        )
        .group_by("name", "run")
        .agg(
            start=pl.col("bucket").min(),
            end=pl.col("bucket").max() + _HOUR,
            value=pl.col("value").sum(),
            expected=pl.col("expected").sum(),
            score=pl.col("score").abs().max(),
        )
        .sort("name", "start")
    )
    ordered = events.select("event_id", "stream", "event_time").sort("event_time")

    def first_events(stream: str, start: datetime, end: datetime) -> list[str]:
        inside = ordered.filter(
            (pl.col("stream") == stream) & pl.col("event_time").is_between(start, end, "left")
        )
        return inside.get_column("event_id").head(10).to_list()

    return [
        Finding(
            check=CHECK_VOLUME,
            severity="warning",
            stream=row["name"],
            table="bronze/events",
            subject_kind="stream",
            subject=row["name"],
            window_start=row["start"],
            window_end=row["end"],
            observed=f"{row['value']:,.0f} events in {_hours(row['end'] - row['start'])}, "
            f"up to {row['score']:.0f} robust sds from its usual volume",
            expected=f"about {row['expected']:,.0f} by its level and hour-of-day pattern",
            evidence=first_events(row["name"], row["start"], row["end"]),
        )
        for row in far.iter_rows(named=True)
    ]
