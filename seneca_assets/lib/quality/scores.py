"""Scores per stream and day: completeness, validity, consistency and timeliness, from 0 to 1.

Each finding counts against one dimension (DIMENSIONS, by its check's family). A dimension's
score for a stream's day is one less the share of that day the findings about the stream touch:
- a finding with a time window touches the day's events inside its window (a silence, which
  has no events, touches the share of the day it covers);
- a finding about a file touches that file's events of the day;
- a finding about a field of a kind touches the kind's records of the day from its start (for
  partial records, the records without the field that it names);
- a finding about a task touches the day's events naming the task.
Validity also counts the day's quarantined lines (by the day of the line before each).
A perfect day scores 1.0 on every dimension. Every day from a stream's first record to its last
has a row, a silent one too (its completeness is what its silence findings leave of it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.quality.tables import DQ_SCORES

DIMENSIONS = {
    "completeness": (
        "completeness.",
        "timeliness.silent_stream",
        "consistency.missing_twin",
        "schema.vanished_field",
    ),
    "validity": ("schema.type",),
    "consistency": ("consistency.task_in_two_projects", "alignment."),
    "timeliness": ("timeliness.future_time", "timeliness.out_of_order"),
}
"""The checks each dimension counts. A new field is not held against a day (a release may add
one); a broken file counts through its quarantined lines, not its every record."""
_DAY = timedelta(days=1)
PARTIAL = "completeness.missing_field"


def dimension_of(check: str) -> str | None:
    """The dimension a check's findings count against, if any."""
    for dimension, prefixes in DIMENSIONS.items():
        if check.startswith(prefixes):
            return dimension
    return None


def scores(
    events: pl.DataFrame, findings: pl.DataFrame, quarantined: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """ops/dq_scores: per stream and day, one score per dimension.

    `events`: bronze `event_id`, `stream`, `kind`, `event_time`, `source_file`, `line_number`,
    `payload`; `findings`: ops/dq_findings; `quarantined`: bronze/quarantine.
    """
    daily = events.with_columns(day=pl.col("event_time").dt.truncate("1d"))
    counts = daily.group_by("stream", "day").agg(events=pl.len())
    if counts.is_empty():
        return DQ_SCORES.empty()
    # Every day from a stream's first to its last, silent ones included.
    span = counts.group_by("stream").agg(
        day=pl.datetime_ranges(pl.col("day").min(), pl.col("day").max(), "1d")
    )
    counts = (
        span.explode("day")
        .join(counts, on=["stream", "day"], how="left")
        .with_columns(pl.col("events").fill_null(0))
        .filter((pl.col("day") <= now) | (pl.col("events") > 0))  # no empty days to come
    )
    touched = _touched(daily, findings)
    silent = _silence(findings)
    bad_lines = _quarantined_days(quarantined, daily)
    frame = counts.join(bad_lines, on=["stream", "day"], how="left").with_columns(
        pl.col("quarantined").fill_null(0)
    )
    for dimension in DIMENSIONS:
        hit = (
            touched.filter(pl.col("dimension") == dimension)
            .group_by("stream", "day")
            .agg(hit=pl.col("event_id").n_unique())
        )
        frame = frame.join(hit, on=["stream", "day"], how="left").with_columns(
            pl.col("hit").fill_null(0)
        )
        share = pl.when(pl.col("events") > 0).then(pl.col("hit") / pl.col("events")).otherwise(0.0)
        if dimension == "validity":
            lines = pl.col("events") + pl.col("quarantined")
            share = pl.when(lines > 0).then((pl.col("hit") + pl.col("quarantined")) / lines)
            share = share.otherwise(0.0)
        if dimension == "completeness" and not silent.is_empty():
            frame = frame.join(silent, on=["stream", "day"], how="left").with_columns(
                pl.col("silent").fill_null(0.0)
            )
            share = pl.max_horizontal(share, pl.col("silent"))
        frame = frame.with_columns((1 - share.clip(0, 1)).alias(dimension)).drop(
            "hit", "silent", strict=False
        )
    findings_per_day = touched.group_by("stream", "day").agg(
        findings=pl.col("finding_id").n_unique()
    )
    frame = frame.join(findings_per_day, on=["stream", "day"], how="left").with_columns(
        pl.col("findings").fill_null(0), computed_at=pl.lit(now)
    )
    return conform(frame, DQ_SCORES.schema).sort("stream", "day")


def _quarantined_days(quarantined: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Quarantined lines per stream and day.

    A line that could not be read has no time of its own: it counts on the day of the stored
    line before it in its file.
    """
    if quarantined.is_empty():
        return pl.DataFrame(
            schema={
                "stream": pl.String,
                "day": pl.Datetime("us", "UTC"),
                "quarantined": pl.UInt32,
            }
        )
    placed = (
        quarantined.select("stream", "source_file", "line_number")
        .sort("line_number")
        .join_asof(
            daily.select("source_file", "line_number", "day").sort("line_number"),
            on="line_number",
            by="source_file",
            strategy="backward",
            check_sortedness=False,
        )
    )
    return placed.drop_nulls("day").group_by("stream", "day").agg(quarantined=pl.len())


def _touched(daily: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """(finding, dimension, event) for every event a finding touches."""
    if findings.is_empty():
        return pl.DataFrame(
            schema={
                "finding_id": pl.String, "dimension": pl.String, "event_id": pl.String,
                "stream": pl.String, "day": pl.Datetime("us", "UTC"),
            }
        )  # fmt: skip
    marked = findings.with_columns(
        dimension=pl.col("check").map_elements(dimension_of, return_dtype=pl.String)
    ).drop_nulls("dimension")
    in_window = (
        pl.col("window_start").is_null() | (pl.col("event_time") >= pl.col("window_start"))
    ) & (pl.col("window_end").is_null() | (pl.col("event_time") <= pl.col("window_end")))
    by_file = marked.filter(pl.col("subject_kind") == "file").join(
        daily, left_on="subject", right_on="source_file"
    )
    by_evidence = (
        marked.filter(pl.col("check") == PARTIAL)
        .explode("evidence")
        .join(daily, left_on="evidence", right_on="event_id")
        .with_columns(event_id=pl.col("evidence"))
    )
    by_field = (
        marked.filter((pl.col("subject_kind") == "field") & (pl.col("check") != PARTIAL))
        .with_columns(kind=pl.col("subject").str.extract(r"^([^.]*)\."))
        .join(daily.with_columns(pl.col("kind").fill_null("")), on=["stream", "kind"])
        .filter(pl.col("event_time") >= pl.col("window_start").fill_null(pl.col("event_time")))
    )
    by_task = marked.filter(pl.col("subject_kind") == "task").join(
        daily.filter(pl.col("payload").is_not_null()).with_columns(
            task=pl.col("payload").str.extract(r'"task_id"\s*:\s*"([^"]+)"')
        ),
        left_on="subject",
        right_on="task",
    )
    columns = ["finding_id", "dimension", "event_id", "stream", "day"]
    return pl.concat(
        [
            part.filter(in_window).select(columns)
            for part in (by_file, by_field, by_evidence, by_task)
        ]
    )


def _silence(findings: pl.DataFrame) -> pl.DataFrame:
    """Per stream and day, the share of the day inside a silent-stream finding's window."""
    rows = []
    silences = findings.filter(pl.col("check") == "timeliness.silent_stream")
    for row in silences.iter_rows(named=True):
        start, end = row["window_start"], row["window_end"]
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < end:
            covered = min(end, day + _DAY) - max(start, day)
            rows.append({"stream": row["stream"], "day": day, "silent": covered / _DAY})
            day += _DAY
    if not rows:
        return pl.DataFrame(
            schema={"stream": pl.String, "day": pl.Datetime("us", "UTC"), "silent": pl.Float64}
        )
    return (
        pl.DataFrame(rows, schema_overrides={"day": pl.Datetime("us", "UTC")})
        .group_by("stream", "day")
        .agg(pl.col("silent").sum().clip(0, 1))
    )


def summary(table: pl.DataFrame) -> str:
    """Markdown for people: each stream's mean scores and its worst day."""
    if table.is_empty():
        return "No records to score yet."
    dims = list(DIMENSIONS)
    per_stream = (
        table.with_columns(worst=pl.min_horizontal(dims))
        .group_by("stream")
        .agg(
            *(pl.col(d).mean() for d in dims),
            days=pl.len(),
            worst_day=pl.col("day").sort_by("worst").first(),
            worst=pl.col("worst").min(),
        )
        .sort("stream")
    )
    return "\n".join(
        [
            f"{table.height:,} stream-days scored (1.0: untouched by any finding).",
            *markdown_table(
                ["stream", "days", *dims, "worst day", "its lowest score"],
                (
                    (r["stream"], r["days"], *(f"{r[d]:.3f}" for d in dims),
                     f"{r['worst_day']:%Y-%m-%d}", f"{r['worst']:.3f}")
                    for r in per_stream.iter_rows(named=True)
                ),
            ),
        ]
    )  # fmt: skip
