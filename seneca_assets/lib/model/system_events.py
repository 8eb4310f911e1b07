"""silver/system_events: the audit trail.

Audit records (tool calls, access denials, client registrations), realtime server events,
kanban interactions and MCP tool failures from the conversations stream, and Seneca's own system
events, each with the retention class it belongs to (`category`). A tool call's `success` only
says that no exception was raised; what the tool itself answered is `result_success`.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import SYSTEM_EVENTS

_T = SYSTEM_EVENTS.name
FIELDS = (
    Field(
        "actor_id",
        (
            "$.client_id",
            "$.agent_id",
            "$.worker_id",
            "$.arguments.agent_id",
            "$.data.agent_id",
            "$.data.worker_id",
        ),
        "id",
        _T,
        column="actor",
    ),
    Field("client_type", ("$.client_type",), "text", _T),
    Field("tool", ("$.tool_name", "$.tool"), "text", _T, column="action"),
    Field("kanban_action", ("$.action",), "text", _T, column="action"),
    Field("seneca_event", ("$.data.event",), "text", _T, column="action"),
    Field("seneca_source", ("$.source",), "text", _T, column="actor"),
    Field("success", ("$.success", "$.data.success"), "bool", _T),
    Field("result_success", ("$.details.result.success",), "bool", _T),
    Field("duration_ms", ("$.details.duration_ms", "$.duration_ms"), "number", _T, 0),
    Field("error", ("$.error", "$.details.reason"), "text", _T),
    Field("arguments", ("$.details.arguments", "$.arguments"), "object", _T, column="details"),
    Field("data", ("$.data",), "object", _T, column="details"),
)

_FAILURE = "(stream = 'conversations' AND starts_with(kind, 'MCP tool '))"
_KANBAN = "(stream = 'conversations' AND kind = 'kanban_interaction')"
_QUIET_REALTIME = (
    "('ping_request', 'ping_response', 'mcp_tool_call_start', 'mcp_creating_response', "
    "'mcp_returning_response', 'refresh_project_state_start')"
)
_CATEGORY = f"""CASE
    WHEN success = false OR {_FAILURE} OR (stream = 'realtime'
         AND (kind LIKE '%error%' OR kind LIKE '%fail%')) THEN 'error'
    WHEN stream = 'realtime' AND kind = 'mcp_tool_call_complete' THEN 'performance'
    WHEN stream = 'realtime' AND kind IN {_QUIET_REALTIME} THEN 'debug'
    ELSE 'audit' END"""
_ACTOR = f"""CASE
    WHEN {_KANBAN} THEN CASE WHEN json_extract_string(payload, '$.conversation_type')
        = 'kanban_to_pm' THEN 'kanban' ELSE 'marcus' END
    WHEN stream = 'seneca_events' THEN coalesce(seneca_source, 'seneca')
    ELSE coalesce(actor_id, CASE WHEN stream = 'audit' THEN NULL ELSE 'marcus' END) END"""
_DETAILS = f"""CASE
    WHEN stream = 'realtime' THEN payload
    WHEN {_KANBAN} OR stream = 'seneca_events' THEN data
    ELSE arguments END"""

COLUMNS = {
    "event_id": "event_id",
    "event_time": "event_time",
    "stream": "stream",
    "category": _CATEGORY,
    "event_type": f"CASE WHEN {_FAILURE} THEN 'mcp_tool_failure' "
    "ELSE coalesce(kind, 'unknown') END",
    "actor": _ACTOR,
    "client_type": "client_type",
    "action": "coalesce(tool, kanban_action, seneca_event, kind)",
    "success": "success",
    "result_success": "result_success",
    "duration_ms": "duration_ms",
    "error": "error",
    "agent_id": "event_agent_id",
    "task_id": "event_task_id",
    "project_id": "event_project_id",
    "details": _DETAILS,
    "ingest_batch": "ingest_batch",
}
_ROWS = (
    f"stream IN ('audit', 'realtime') OR {_KANBAN} OR {_FAILURE} "
    "OR (stream = 'seneca_events' AND kind = 'system_event')"
)


def system_events(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """silver/system_events rows of `events`, and their data-quality issues."""
    candidates = events.filter(
        pl.col("stream").is_in(["audit", "realtime", "seneca_events"])
        | ((pl.col("stream") == "conversations") & (pl.col("kind") != "pm_thinking"))
    )
    rows, issues = extract(candidates, FIELDS, COLUMNS, where=_ROWS)
    return conform(rows, SYSTEM_EVENTS.schema), issues
