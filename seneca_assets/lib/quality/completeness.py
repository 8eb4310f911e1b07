"""Completeness of records: a kind's records that lack a field the kind normally has.

A field present in at least USUAL_SHARE (but not all) of a kind's records, of at least
MIN_RECORDS, is one the kind normally has; the records without it are partial. Records missing
it only after its last appearance are a vanished field (`schema.py`), not partial records.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.quality.finding import Finding

USUAL_SHARE = 0.95
MIN_RECORDS = 50
CHECK_PARTIAL = "completeness.missing_field"


def partial_records(events: pl.DataFrame, seen: pl.DataFrame) -> list[Finding]:
    """Findings per stream, kind and field.

    `events`: bronze `event_id`, `stream`, `kind`, `event_time`; `seen`: their fields
    (`schema.fields`).
    """
    records = events.select("event_id", "stream", pl.col("kind").fill_null(""), "event_time")
    totals = records.group_by("stream", "kind").agg(total=pl.len())
    present = seen.select("event_id", "stream", "kind", "field").unique()
    usual = (
        present.group_by("stream", "kind", "field")
        .agg(held=pl.len())
        .join(totals, on=["stream", "kind"])
        .filter(
            (pl.col("total") >= MIN_RECORDS)
            & (pl.col("held") < pl.col("total"))
            & (pl.col("held") >= USUAL_SHARE * pl.col("total"))
        )
    )
    if usual.is_empty():
        return []
    last_seen = (
        present.join(records.select("event_id", "event_time"), on="event_id")
        .group_by("stream", "kind", "field")
        .agg(last_time=pl.col("event_time").max())
    )
    lacking = (
        records.join(usual.select("stream", "kind", "field"), on=["stream", "kind"])
        .join(present, on=["event_id", "stream", "kind", "field"], how="anti")
        .join(last_seen, on=["stream", "kind", "field"])
        .filter(pl.col("event_time") <= pl.col("last_time"))
        .sort("event_time")
        .group_by("stream", "kind", "field")
        .agg(
            count=pl.len(),
            start=pl.col("event_time").min(),
            end=pl.col("event_time").max(),
            evidence=pl.col("event_id").head(10),
        )
        .join(usual, on=["stream", "kind", "field"])
        .sort("stream", "kind", "field")
    )
    return [
        Finding(
            check=CHECK_PARTIAL,
            severity="warning",
            stream=row["stream"],
            table="bronze/events",
            subject_kind="field",
            subject=f"{row['kind'] or '(no kind)'}.{row['field']}",
            window_start=row["start"],
            window_end=row["end"],
            observed=f"{row['count']:,} record(s) without `{row['field']}`",
            expected=f"`{row['field']}`, as in {row['held']:,} of the kind's "
            f"{row['total']:,} records",
            evidence=row["evidence"],
        )
        for row in lacking.iter_rows(named=True)
    ]
