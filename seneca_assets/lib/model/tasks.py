"""silver/tasks: one row per task, combined from the facts every stream records about it.

The same step is often recorded by several streams (an assignment is a conversations line, a
realtime event, an agent_events event and an audit result). For each kind of step, a task's
facts are taken from the most direct stream that recorded that kind of step for it, so nothing
is counted twice and a stream that is missing (an installation without conversation logs) is
made up for by the others. Attributes (name, priority, estimate, project) come from any fact,
the latest given winning.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.model.tables import TASKS

_PREFERENCE = ("conversations", "legacy", "realtime", "agent_events", "audit", "plan")
_STEPS = {
    "assigned": "assigned",
    "progress": "progress",
    "completed": "progress",
    "blocker": "blocker",
    "unassigned": "unassigned",
}
"""Kinds of step, each chosen from one stream: progress and completion go together."""
_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _latest(column: str) -> pl.Expr:
    return pl.col(column).drop_nulls().last()


def tasks(facts: pl.DataFrame, built_batch: int) -> pl.DataFrame:
    """silver/tasks rows (without the `abandoned` judgement) of every task in `facts`.

    `facts` must hold every silver/task_events row of the tasks to compute.
    """
    facts = facts.sort("task_id", "event_time", "event_id").with_columns(
        step=pl.col("fact").replace_strict(_STEPS, default=None),
        rank=pl.col("source").replace_strict(
            {s: i for i, s in enumerate(_PREFERENCE)}, return_dtype=pl.Int32
        ),
    )
    best = facts.filter(pl.col("step").is_not_null()).filter(
        pl.col("rank") == pl.col("rank").min().over("task_id", "step")
    )
    last_assigned = (
        best.filter(pl.col("fact") == "assigned")
        .group_by("task_id")
        .agg(
            assigned_at=pl.col("event_time").max(),
            first_assigned_at=pl.col("event_time").min(),
            reassignments=pl.len() - 1,
            agent_id=pl.col("agent_id").sort_by("event_time").last(),
        )
    )
    since = best.join(last_assigned, on="task_id", how="left").filter(
        pl.col("assigned_at").is_null() | (pl.col("event_time") >= pl.col("assigned_at"))
    )
    life = since.group_by("task_id").agg(
        first_progress_at=pl.col("event_time").filter(pl.col("step") == "progress").min(),
        completed_at=pl.col("event_time").filter(pl.col("fact") == "completed").min(),
        progress=pl.col("progress").filter(pl.col("step") == "progress").drop_nulls().last(),
        last_blocker_at=pl.col("event_time").filter(pl.col("fact") == "blocker").max(),
        last_progress_at=pl.col("event_time").filter(pl.col("step") == "progress").max(),
        unassigned_at=pl.col("event_time").filter(pl.col("fact") == "unassigned").max(),
    )
    blockers = (
        best.filter(pl.col("fact") == "blocker")
        .group_by("task_id")
        .agg(
            blockers=pl.len(),
            worst=pl.col("severity")
            .replace_strict(_SEVERITY_RANK, default=None, return_dtype=pl.Int32)
            .max(),
        )
    )
    attributes = facts.group_by("task_id").agg(
        project_id=_latest("project_id"),
        name=_latest("name"),
        priority=_latest("priority"),
        estimated_hours=_latest("estimated_hours"),
        created_at=pl.col("event_time").filter(pl.col("fact").is_in(["created", "listed"])).min(),
        last_activity_at=pl.col("event_time").max(),
        sources=pl.col("source").unique().sort(),
    )
    frame = (
        attributes.join(last_assigned, on="task_id", how="left")
        .join(life, on="task_id", how="left")
        .join(blockers, on="task_id", how="left")
    )
    status = (
        pl.when(pl.col("completed_at").is_not_null())
        .then(pl.lit("completed"))
        .when(pl.col("assigned_at").is_null())
        .then(pl.lit("todo"))
        .when(pl.col("unassigned_at").is_not_null())
        .then(pl.lit("unassigned"))
        .when(
            pl.col("last_blocker_at").is_not_null()
            & (
                pl.col("last_progress_at").is_null()
                | (pl.col("last_blocker_at") > pl.col("last_progress_at"))
            )
        )
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("in_progress"))
    )
    frame = frame.with_columns(
        status=status,
        actual_hours=(pl.col("completed_at") - pl.col("assigned_at")).dt.total_microseconds()
        / 3.6e9,
        blockers=pl.col("blockers").fill_null(0),
        reassignments=pl.col("reassignments").fill_null(0),
        worst_blocker_severity=pl.col("worst").replace_strict(
            {v: k for k, v in _SEVERITY_RANK.items()}, default=None, return_dtype=pl.String
        ),
        built_batch=pl.lit(built_batch),
    )
    return conform(frame, TASKS.schema).sort("task_id")


def judge_abandoned(
    frame: pl.DataFrame, data_end: datetime | None, abandon_after: timedelta
) -> pl.DataFrame:
    """Mark open tasks without a line for `abandon_after` before `data_end` as abandoned."""
    if data_end is None:
        return frame
    stale = pl.col("status").is_in(["in_progress", "blocked"]) & (
        pl.col("last_activity_at") < data_end - abandon_after
    )
    return frame.with_columns(status=pl.when(stale).then(pl.lit("abandoned")).otherwise("status"))
