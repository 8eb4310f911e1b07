"""Facts the silver asset checks judge: keys, reconciliation with bronze, and time spans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import (
    AGENTS,
    CONVERSATIONS,
    DATA_QUALITY,
    DECISIONS,
    MESSAGES,
    METRICS,
    SYSTEM_EVENTS,
    TASK_EVENTS,
    TASKS,
)
from seneca_assets.lib.schemas import EVENTS, TableSpec

KEYS: dict[TableSpec, str] = {
    MESSAGES: "message_id",
    CONVERSATIONS: "id",
    DECISIONS: "decision_id",
    TASK_EVENTS: "fact_id",
    TASKS: "task_id",
    AGENTS: "agent_id",
    SYSTEM_EVENTS: "event_id",
    METRICS: "metric_id",
    DATA_QUALITY: "issue_id",
}
"""The key column of every table the silver build writes."""
TIMES: dict[TableSpec, tuple[str, ...]] = {
    MESSAGES: ("event_time",),
    CONVERSATIONS: ("timestamp",),
    DECISIONS: ("event_time",),
    TASK_EVENTS: ("event_time",),
    TASKS: ("last_activity_at", "assigned_at", "completed_at"),
    AGENTS: ("first_seen", "last_seen"),
    SYSTEM_EVENTS: ("event_time",),
    METRICS: ("timestamp",),
    DATA_QUALITY: ("event_time",),
}
"""Times that must fall inside the span of bronze/events (hours truncated for metrics)."""


@dataclass(frozen=True)
class TableHealth:
    """Key and time facts of one table."""

    rows: int
    null_keys: int
    duplicate_keys: int
    outside_span: int


@dataclass(frozen=True)
class MessageReconciliation:
    """silver/messages against the conversations-stream events of bronze."""

    bronze_events: int
    missing: int
    """Conversations-stream events of bronze with no message."""
    orphans: int
    """Messages whose event is not in bronze."""


def table_health(
    lake: Lake, spec: TableSpec, span: tuple[datetime, datetime] | None
) -> TableHealth:
    """Count rows, null and duplicate keys, and times outside `span` (inclusive)."""
    key = pl.col(KEYS[spec])
    outside = pl.lit(0, dtype=pl.UInt32)
    if span is not None:
        lo = pl.lit(span[0]).dt.truncate("1h") if spec is METRICS else pl.lit(span[0])
        outside = pl.sum_horizontal(
            (~pl.col(c).is_between(lo, pl.lit(span[1])) & pl.col(c).is_not_null()).sum()
            for c in TIMES[spec]
        )
    facts = (
        lake.scan(spec)
        .select(
            rows=pl.len(),
            null_keys=key.null_count(),
            duplicate_keys=key.drop_nulls().len() - key.drop_nulls().n_unique(),
            outside_span=outside,
        )
        .collect()
        .row(0, named=True)
    )
    return TableHealth(**{k: int(v) for k, v in facts.items()})


def data_span(lake: Lake) -> tuple[datetime, datetime] | None:
    """The earliest and latest event time in bronze/events."""
    lo, hi = (
        lake.scan(EVENTS)
        .select(pl.col("event_time").min(), pl.col("event_time").max().alias("hi"))
        .collect()
        .row(0)
    )
    return None if lo is None else (lo, hi)


def reconcile_messages(lake: Lake) -> MessageReconciliation:
    """Compare the event ids of bronze's conversations stream with silver/messages."""
    bronze = (
        lake.scan(EVENTS).filter(pl.col("stream") == "conversations").select("event_id").collect()
    )
    said = lake.scan(MESSAGES).select("event_id").collect()
    return MessageReconciliation(
        bronze_events=bronze.height,
        missing=bronze.join(said, on="event_id", how="anti").height,
        orphans=said.join(bronze, on="event_id", how="anti").height,
    )
