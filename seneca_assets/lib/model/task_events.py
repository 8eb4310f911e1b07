"""silver/task_events: every fact about a task any stream records, one row per fact.

Marcus tells a task's life several times over: the conversations stream (assignment, progress,
blockers, completion, unassignment, and on older installations the `task_assignment` /
`progress_update` / `blocker_reported` records), realtime (`task_assignment`,
`task_unassigned`), agent_events (`task_assignment`, `progress_update`), the audit trail (the
arguments and results of `request_next_task`, `report_task_progress`, `report_blocker` and
`unassign_task`), the kanban `task_created` answers and the PM's plans. Facts are appended as
their events arrive; silver/tasks is computed from them.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.duck import hex_ids, sql_frame
from seneca_assets.lib.marcus import tool_call_pattern
from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import TASK_EVENTS

_T = TASK_EVENTS.name
FIELDS = (
    Field(
        "task_id",
        (
            "$.task_id",
            "$.data.task_id",
            "$.data.task.id",
            "$.details.arguments.task_id",
            "$.details.result.task.id",
        ),
        "id",
        _T,
    ),
    Field(
        "agent_id",
        (
            "$.agent_id",
            "$.worker_id",
            "$.data.worker_id",
            "$.data.agent_id",
            "$.details.arguments.agent_id",
            "$.client_id",
        ),
        "id",
        _T,
    ),
    Field("name", ("$.task_name", "$.data.task.name", "$.details.result.task.name"), "text", _T),
    Field(
        "priority",
        ("$.priority", "$.data.task.priority", "$.details.result.task.priority"),
        "text",
        _T,
    ),
    Field("estimated_hours", ("$.data.task.estimated_hours",), "number", _T, 0),
    Field("progress", ("$.data.progress", "$.details.arguments.progress"), "integer", _T, 0, 100),
    Field("status", ("$.data.status", "$.details.arguments.status"), "text", _T),
    Field("severity", ("$.details.arguments.severity",), "text", _T),
    Field("project_id", ("$.details.result.task.project_id",), "id", _T),
    Field("tool", ("$.tool_name",), "text", _T, column=None),
    Field("called", ("$.success",), "bool", _T, column=None),
    Field("answered", ("$.details.result.success",), "bool", _T, column=None),
)
_DONE = "(status = 'completed' OR progress = 100)"
_CALL = "(stream = 'audit' AND kind = 'tool_call' AND called AND answered IS NOT false)"
_FACT = f"""CASE
    WHEN kind = 'task_assignment' AND stream IN ('realtime', 'agent_events') THEN 'assigned'
    WHEN kind = 'task_unassigned' AND stream = 'realtime' THEN 'unassigned'
    WHEN kind = 'progress_update' AND stream = 'agent_events'
        THEN CASE WHEN {_DONE} THEN 'completed' ELSE 'progress' END
    WHEN {_CALL} AND tool = 'report_task_progress'
        THEN CASE WHEN {_DONE} THEN 'completed' ELSE 'progress' END
    WHEN {_CALL} AND tool = 'report_blocker' THEN 'blocker'
    WHEN {_CALL} AND tool = 'request_next_task' THEN 'assigned'
    WHEN {_CALL} AND tool = 'unassign_task' THEN 'unassigned'
    END"""
COLUMNS = {
    "event_id": "event_id",
    "event_time": "event_time",
    "task_id": "task_id",
    "source": "stream",
    "fact": _FACT,
    "agent_id": "agent_id",
    "project_id": "project_id",
    "name": "name",
    "priority": "lower(priority)",
    "estimated_hours": "estimated_hours",
    "progress": "progress",
    "status": "status",
    "severity": "lower(severity)",
    "ingest_batch": "ingest_batch",
}
_KINDS = {
    "realtime": ["task_assignment", "task_unassigned"],
    "agent_events": ["task_assignment", "progress_update"],
}
_TASK_TOOLS = tool_call_pattern(
    ("report_task_progress", "report_blocker", "request_next_task", "unassign_task")
)
_PLAN_LIST = r'"tasks"\s*:\s*\['
"""Only PM thoughts that list tasks are parsed for plans."""
_PLANS = """
    SELECT event_id, event_time, ingest_batch, t ->> '$.id' AS task_id,
           t ->> '$.name' AS name, TRY_CAST(t ->> '$.estimated_hours' AS DOUBLE) AS estimated_hours,
           lower(regexp_extract(CAST(t -> '$.labels' AS VARCHAR), 'priority:(\\w+)', 1)) AS priority
    FROM (SELECT event_id, event_time, ingest_batch,
                 unnest(json_extract(payload, '$.context.tasks[*]')) AS t
          FROM rows WHERE json_type(payload, '$.context.tasks') = 'ARRAY')
    WHERE json_type(t) = 'OBJECT' AND nullif(t ->> '$.id', '') IS NOT NULL
"""
_MESSAGE_FACTS = {
    "assignment": "assigned",
    "assignment_detail": "detail",
    "progress": "progress",
    "completion": "completed",
    "blocker": "blocker",
    "unassignment": "unassigned",
}
_LEGACY_FACTS = {"task_assignment": "assigned", "blocker_reported": "blocker"}


def task_events(events: pl.DataFrame, messages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """silver/task_events rows of new `events` (and of their silver `messages`); issues."""
    calls = (
        (pl.col("stream") == "audit")
        & (pl.col("kind") == "tool_call")
        & pl.col("payload").str.contains(_TASK_TOOLS)
    )
    other = events.filter(
        pl.any_horizontal(
            calls,
            *(
                (pl.col("stream") == stream) & pl.col("kind").is_in(kinds)
                for stream, kinds in _KINDS.items()
            ),
        )
    )
    streams, issues = extract(other, FIELDS, COLUMNS)
    streams = streams.filter(pl.col("fact").is_not_null() & pl.col("task_id").is_not_null())
    issues = issues.join(streams.select("event_id"), on="event_id", how="semi")
    thinking = events.filter(
        (pl.col("stream") == "conversations")
        & (pl.col("kind") == "pm_thinking")
        & pl.col("payload").str.contains(_PLAN_LIST)
    )
    plans = sql_frame(
        _PLANS, {"rows": thinking.select("event_id", "event_time", "ingest_batch", "payload")}
    )
    plans = plans.with_columns(
        source=pl.lit("plan"), fact=pl.lit("listed"), priority=pl.col("priority").replace("", None)
    )
    said = _from_messages(messages)
    frame = pl.concat([conform(f, _UNIDENTIFIED) for f in (said, streams, plans)], how="vertical")
    ids = hex_ids(frame, ["event_id", "task_id", "fact"], "fact_id")
    return conform(frame.with_columns(ids), TASK_EVENTS.schema), issues


_UNIDENTIFIED = pl.Schema({k: v for k, v in TASK_EVENTS.schema.items() if k != "fact_id"})


def _from_messages(messages: pl.DataFrame) -> pl.DataFrame:
    legacy_progress = pl.when((pl.col("status") == "completed") | (pl.col("progress") == 100))
    fact = (
        pl.when(pl.col("kind") == "worker_communication")
        .then(pl.col("intent").replace_strict(_MESSAGE_FACTS, default=None))
        .when(pl.col("kind") == "progress_update")
        .then(legacy_progress.then(pl.lit("completed")).otherwise(pl.lit("progress")))
        .when((pl.col("kind") == "kanban_interaction") & (pl.col("text") == "task_created"))
        .then(pl.lit("created"))
        .otherwise(pl.col("kind").replace_strict(_LEGACY_FACTS, default=None))
    )
    source = (
        pl.when(pl.col("kind").is_in(["worker_communication", "kanban_interaction"]))
        .then(pl.lit("conversations"))
        .otherwise(pl.lit("legacy"))
    )
    return (
        messages.with_columns(fact=fact, source=source)
        .filter(pl.col("fact").is_not_null() & pl.col("task_id").is_not_null())
        .rename({"task_name": "name"})
    )
