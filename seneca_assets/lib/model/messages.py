"""silver/messages: every conversations-stream event as an utterance between two parties.

Worker communication goes between an agent and `marcus` in the direction its
`conversation_type` says; PM thinking and decisions are Marcus talking to itself; kanban
interactions go between `marcus` and `kanban`; MCP tool failures are Marcus's notes about an
agent's call; the older `task_assignment` / `progress_update` / `blocker_reported` /
`system_state` records follow their logger. Worker messages are also classified by the template
Marcus writes them with (`intent`), which the task and conversation models read.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import MESSAGES

_T = MESSAGES.name
FIELDS = (
    Field("logger", ("$.logger",), "text", _T),
    Field("level", ("$.level",), "text", _T),
    Field("conversation_type", ("$.conversation_type",), "text", _T),
    Field("worker_id", ("$.worker_id",), "id", _T, column="agent_id"),
    Field("metadata", ("$.metadata",), "object", _T),
    Field(
        "text",
        ("$.message", "$.thought", "$.decision", "$.blocker_description", "$.error", "$.action"),
        "text",
        _T,
    ),
    Field(
        "task_id",
        ("$.metadata.task_id", "$.task_id", "$.data.task_id", "$.arguments.task_id"),
        "id",
        _T,
    ),
    Field(
        "subject_agent",
        (
            "$.agent_id",
            "$.context.agent_id",
            "$.decision_factors.agent_id",
            "$.arguments.agent_id",
            "$.data.assigned_to",
        ),
        "id",
        _T,
        column="agent_id",
    ),
    Field("project_id", ("$.metadata.project_id", "$.data.project_id"), "id", _T),
    Field("progress", ("$.metadata.progress", "$.progress"), "integer", _T, 0, 100),
    Field("status", ("$.metadata.status", "$.status"), "text", _T),
    Field("severity", ("$.metadata.severity", "$.severity"), "text", _T),
    Field("priority", ("$.metadata.priority", "$.task_details.priority"), "text", _T),
    Field(
        "estimated_hours",
        ("$.metadata.estimated_hours", "$.task_details.estimated_hours"),
        "number",
        _T,
        0,
    ),
    Field("task_name", ("$.metadata.task_name", "$.task_details.name"), "text", _T),
)

_KIND = (
    "CASE WHEN kind LIKE 'MCP tool %' AND kind LIKE '%returned failure%' "
    "THEN 'mcp_tool_failure' ELSE coalesce(kind, 'unknown') END"
)
_AGENT = "coalesce(worker_id, subject_agent)"
_INTENT = """CASE WHEN kind = 'worker_communication' THEN CASE
    WHEN text = 'Requesting next task' THEN 'request'
    WHEN starts_with(text, 'Assigned task: ') THEN 'assignment'
    WHEN starts_with(text, 'Task assigned: ') THEN 'assignment_detail'
    WHEN starts_with(text, 'No suitable tasks') THEN 'no_task'
    WHEN starts_with(text, 'Progress update: ')
         AND (status = 'completed' OR progress = 100) THEN 'completion'
    WHEN starts_with(text, 'Progress update: ') THEN 'progress'
    WHEN starts_with(text, 'Reporting blocker: ') THEN 'blocker'
    WHEN starts_with(text, 'Blocker acknowledged') THEN 'blocker_answer'
    WHEN regexp_matches(text, '^Task .* unassigned') THEN 'unassignment'
    ELSE 'other' END END"""
_FROM_AGENT = (
    "conversation_type = 'worker_to_pm' "
    "OR (conversation_type IS NULL AND logger = 'worker' AND kind <> 'worker_communication')"
)
_SENDER = f"""CASE
    WHEN conversation_type = 'kanban_to_pm' THEN 'kanban'
    WHEN kind = 'kanban_interaction' THEN 'marcus'
    WHEN {_FROM_AGENT} THEN coalesce({_AGENT}, 'unknown agent')
    ELSE 'marcus' END"""
_RECIPIENT = f"""CASE
    WHEN conversation_type = 'pm_to_kanban' THEN 'kanban'
    WHEN kind = 'kanban_interaction' THEN 'marcus'
    WHEN {_FROM_AGENT} THEN 'marcus'
    WHEN conversation_type = 'pm_to_worker' OR kind = 'task_assignment'
        OR starts_with(kind, 'MCP tool ')
        THEN coalesce({_AGENT}, 'unknown agent')
    ELSE 'marcus' END"""
_TASK_NAME = (
    "coalesce(task_name, CASE WHEN starts_with(text, 'Assigned task: ') "
    "OR starts_with(text, 'Task assigned: ') THEN substr(text, 16) END)"
)

COLUMNS = {
    "message_id": "event_id",
    "event_id": "event_id",
    "event_time": "event_time",
    "kind": _KIND,
    "level": "level",
    "logger": "logger",
    "conversation_type": "conversation_type",
    "sender": _SENDER,
    "recipient": _RECIPIENT,
    "agent_id": _AGENT,
    "text": "text",
    "intent": _INTENT,
    "task_id": "task_id",
    "task_name": _TASK_NAME,
    "project_id": "project_id",
    "progress": "progress",
    "status": "status",
    "severity": "lower(severity)",
    "priority": "lower(priority)",
    "estimated_hours": "estimated_hours",
    "ingest_batch": "ingest_batch",
}


def messages(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """silver/messages rows of the conversations-stream `events`, and their data-quality issues."""
    rows, issues = extract(events.filter(pl.col("stream") == "conversations"), FIELDS, COLUMNS)
    return conform(rows, MESSAGES.schema), issues
