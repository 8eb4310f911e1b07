"""silver/agents: one identity across every stream, with its registration and its work.

One agent is `worker_id` in conversations and agent_events, `agent_id` in realtime and progress
records and `client_id` in audit; bronze/events already names it once (`agent_id`). Everything
here merges: first and last seen, line counts and registrations combine an old row with new
events, so an incremental run only reads what is new. Task counts come from silver/tasks.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.marcus import tool_call_pattern
from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import AGENTS

_T = AGENTS.name
FIELDS = (
    Field(
        "who",
        ("$.worker_id", "$.data.worker_id", "$.details.arguments.agent_id", "$.client_id"),
        "id",
        _T,
        column="agent_id",
    ),
    Field("name", ("$.name", "$.data.name", "$.details.arguments.name"), "text", _T),
    Field("role", ("$.role", "$.data.role", "$.details.arguments.role"), "text", _T),
    Field("skills", ("$.skills", "$.data.skills", "$.details.arguments.skills"), "list", _T),
    Field("client_type", ("$.client_type",), "text", _T),
    Field("tool", ("$.tool_name",), "text", _T, column=None),
    Field("called", ("$.success",), "bool", _T, column=None),
)
_WORKER_REGISTRATION = (
    "kind = 'worker_registration' OR (stream = 'audit' AND kind = 'tool_call' "
    "AND tool = 'register_agent' AND called)"
)
COLUMNS = {
    "event_id": "event_id",
    "agent_id": "who",
    "at": "event_time",
    "name": "name",
    "role": "role",
    "skills": "CAST(json_extract_string(skills, '$[*]') AS VARCHAR[])",
    "client_type": f"CASE WHEN {_WORKER_REGISTRATION} THEN 'agent' ELSE client_type END",
    "is_worker": _WORKER_REGISTRATION,
}
_REGISTRATIONS = (
    "(stream IN ('realtime', 'agent_events') AND kind = 'worker_registration') "
    "OR (stream = 'audit' AND kind IN ('tool_call', 'client_registration'))"
)
_WORKER_KINDS = ("worker_communication", "progress_update", "blocker_reported", "task_request")


REGISTRATIONS = pl.col("kind").is_in(["worker_registration", "client_registration"]) | (
    (pl.col("kind") == "tool_call")
    & pl.col("payload").str.contains(tool_call_pattern(("register_agent",)))
)
"""The bronze rows whose payload can register an identity."""


def agent_activity(
    events: pl.DataFrame, registrations: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The partial agents rows new events give, and the registrations' data-quality issues.

    Args:
        events: New bronze rows: `agent_id`, `event_time` and `kind` of every one.
        registrations: The new bronze rows (with payloads) that REGISTRATIONS selects.
    """
    registrations, issues = extract(
        registrations,
        FIELDS,
        COLUMNS,
        where=f"({_REGISTRATIONS}) AND who IS NOT NULL AND (kind <> 'tool_call' OR tool = "
        "'register_agent')",
    )
    registrations = registrations.with_columns(pl.col("at").dt.convert_time_zone("UTC"))
    seen = (
        events.filter(pl.col("agent_id").is_not_null())
        .group_by("agent_id")
        .agg(
            first_seen=pl.col("event_time").min(),
            last_seen=pl.col("event_time").max(),
            events=pl.len(),
            worker=pl.col("kind").is_in(_WORKER_KINDS).any(),
        )
    )
    latest = (
        registrations.sort("at", "event_id")
        .group_by("agent_id")
        .agg(
            registered_at=pl.col("at").filter(pl.col("is_worker")).min(),
            last_registered_at=pl.col("at").filter(pl.col("is_worker")).max(),
            name=pl.col("name").filter(pl.col("is_worker")).drop_nulls().last(),
            role=pl.col("role").filter(pl.col("is_worker")).drop_nulls().last(),
            skills=pl.col("skills").filter(pl.col("is_worker")).drop_nulls().last(),
            client_type=pl.col("client_type").drop_nulls().last(),
            registered_worker=pl.col("is_worker").any(),
        )
    )
    frame = seen.join(latest, on="agent_id", how="full", coalesce=True).with_columns(
        client_type=pl.when(pl.col("worker") | pl.col("registered_worker"))
        .then(pl.lit("agent"))
        .otherwise("client_type"),
        events=pl.col("events").fill_null(0),
    )
    return frame, issues


def merge_agents(
    old: pl.DataFrame, new: pl.DataFrame, tasks: pl.DataFrame, built_batch: int
) -> pl.DataFrame:
    """The agents table: `old` rows combined with `new` partial rows, task counts from `tasks`."""
    both = pl.concat(
        [
            old.select(new.columns[:0] or old.columns).with_columns(side=pl.lit(0)),
            conform(new, AGENTS.schema).with_columns(side=pl.lit(1)),
        ],
        how="vertical",
    )
    latest_registration = pl.col("last_registered_at").rank("ordinal", descending=False)
    merged = (
        both.sort("agent_id", "side")
        .group_by("agent_id")
        .agg(
            first_seen=pl.col("first_seen").min(),
            last_seen=pl.col("last_seen").max(),
            events=pl.col("events").sum(),
            registered_at=pl.col("registered_at").min(),
            last_registered_at=pl.col("last_registered_at").max(),
            name=pl.col("name").sort_by(latest_registration).drop_nulls().last(),
            role=pl.col("role").sort_by(latest_registration).drop_nulls().last(),
            skills=pl.col("skills").sort_by(latest_registration).drop_nulls().last(),
            client_type=pl.when((pl.col("client_type") == "agent").any())
            .then(pl.lit("agent"))
            .otherwise(pl.col("client_type").drop_nulls().last()),
        )
    )
    counts = (
        tasks.filter(pl.col("agent_id").is_not_null())
        .group_by("agent_id")
        .agg(
            tasks_assigned=pl.len(),
            tasks_completed=(pl.col("status") == "completed").sum(),
        )
    )
    merged = merged.join(counts, on="agent_id", how="left").with_columns(
        pl.col("tasks_assigned", "tasks_completed").fill_null(0),
        first_seen=pl.coalesce("first_seen", "registered_at"),
        last_seen=pl.coalesce("last_seen", "last_registered_at"),
        built_batch=pl.lit(built_batch),
    )
    return conform(merged, AGENTS.schema).sort("agent_id")
