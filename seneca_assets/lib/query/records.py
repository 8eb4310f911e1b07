"""The silver tables as filterable records: by agent, task, project, kind and time, paged.

Each table names where its agent, task, project, kind and time live; a filter a table cannot
answer is refused rather than ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from seneca_assets.lib.model.tables import (
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    SYSTEM_EVENTS,
    TASKS,
)
from seneca_assets.lib.query.errors import QueryError
from seneca_assets.lib.schemas import TableSpec


@dataclass(frozen=True)
class Records:
    """Where a table's filterable fields are: a column name, or `struct.field`."""

    table: TableSpec
    key: str
    time: str
    agent: str | None
    task: str | None
    project: str | None
    kind: str | None


RECORDS = {
    "messages": Records(
        MESSAGES, "message_id", "event_time", "agent_id", "task_id", "project_id", "kind"
    ),
    "conversations": Records(
        CONVERSATIONS, "id", "timestamp", "context.agent_id", "context.task_id",
        "context.project_id", "context.kind",
    ),
    "decisions": Records(DECISIONS, "decision_id", "event_time", "agent_id", "task_id", None, None),
    "tasks": Records(
        TASKS, "task_id", "last_activity_at", "agent_id", "task_id", "project_id", "status"
    ),
    "system_events": Records(
        SYSTEM_EVENTS, "event_id", "event_time", "agent_id", "task_id", "project_id", "category"
    ),
}  # fmt: skip
"""What each record kind reads; `kind` is a message's kind, a conversation's kind (task or
session), a task's status and a system event's category."""

Wanted = str | Sequence[str] | None


def _column(path: str) -> pl.Expr:
    if "." in path:
        column, field = path.split(".", 1)
        return pl.col(column).struct.field(field)
    return pl.col(path)


def predicate(
    records: Records,
    filters: dict[str, Wanted],
    start: datetime | None,
    end: datetime | None,
) -> pl.Expr:
    """The filter of `records` for the given field values (one or several each) and times."""
    wanted = pl.lit(True)
    for field, value in filters.items():
        if value is None:
            continue
        path = getattr(records, field)
        if path is None:
            raise QueryError(f"{records.table.name} has no {field} to filter on")
        values = [value] if isinstance(value, str) else list(value)
        wanted &= _column(path).is_in(values)
    time = _column(records.time)
    if start is not None:
        wanted &= time >= start
    if end is not None:
        wanted &= time < end
    return wanted


def page(frame: pl.LazyFrame, records: Records, limit: int, offset: int) -> pl.LazyFrame:
    """Newest first (then by key, so pages never overlap), `limit` rows from `offset`."""
    if limit < 1 or offset < 0:
        raise QueryError("limit must be at least 1 and offset must not be negative")
    order = [_column(records.time), _column(records.key)]
    return frame.sort(order, descending=True, nulls_last=True).slice(offset, limit)
