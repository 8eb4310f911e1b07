"""Placeholder values: numbers that hold one value where their meaning says they should vary.

Marcus writes values that look like measurements but are constants: `blocked_tasks` 0 and
`team_velocity` 0.0 in every project state. They are found statistically, not from a list: a
number of a kind, constant over at least MIN_RECORDS records on at least MIN_DAYS days, while a
number beside it (in the same object of the same kind's records) varies. The others measure
something, so it should too. A constant that nothing beside varies with (a timeout of 1800
seconds in a record of its own) is left alone. The placeholders are a table
(ops/dq_placeholders), so that analytics can leave them out.

Text placeholders ("Current Project", a `risk_level` always "low") are not found: a constant
string reads the same as a label (`type`, `level`), and telling them apart needs more than one
project's records to compare.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.quality.tables import DQ_PLACEHOLDERS

MIN_RECORDS = 30
MIN_DAYS = 2


def placeholders(seen: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """ops/dq_placeholders rows from the fields of bronze events (`schema.fields`)."""
    seen = seen.filter(pl.col("value").is_not_null() & (pl.col("type") != "null"))
    parent = pl.col("field").str.replace(r"\.?[^.]+$", "")
    summary = (
        seen.group_by("stream", "kind", "field")
        .agg(
            records=pl.len(),
            days=pl.col("event_time").dt.date().n_unique(),
            values=pl.col("value").n_unique(),
            value=pl.col("value").first(),
            type=pl.col("type").first(),
            first_event=pl.col("event_id").sort_by("event_time").first(),
            first=pl.col("event_time").min(),
        )
        .with_columns(parent=parent)
    )
    constant = summary.filter(
        (pl.col("values") == 1) & (pl.col("records") >= MIN_RECORDS) & (pl.col("days") >= MIN_DAYS)
    )
    numbers = seen.filter(pl.col("type") == "number").with_columns(parent=parent)
    holders = numbers.join(
        constant.filter(pl.col("type") == "number").select("stream", "kind", "field", "parent"),
        on=["stream", "kind", "field", "parent"],
    ).select("event_id", "parent", constant="field")
    # Numbers beside the constant in the very records that hold it, and how many values they take.
    by_sibling = (
        holders.join(numbers, on=["event_id", "parent"])
        .filter(pl.col("field") != pl.col("constant"))
        .group_by("stream", "kind", "constant", "field")
        .agg(values=pl.col("value").n_unique())
        .filter(pl.col("values") > 1)
        .group_by("stream", "kind", "constant")
        .agg(sibling=pl.col("field").sort().first())
        .select(
            "stream",
            "kind",
            field="constant",
            reason=pl.format("a constant number beside `{}`, which varies", "sibling"),
        )
    )
    found = constant.join(by_sibling, on=["stream", "kind", "field"]).select(
            "stream", "kind", "field", "value", "reason", "first_event", "first",
            records=pl.col("records").cast(pl.Int64),
            days=pl.col("days").cast(pl.Int64),
            computed_at=pl.lit(now, pl.Datetime("us", "UTC")),
    )  # fmt: skip
    return conform(found, DQ_PLACEHOLDERS.schema).sort("stream", "kind", "field")
