"""silver/metrics: Seneca's metric events as given, and the metrics derived from Marcus's logs.

Every derived metric is named `marcus.*` and documented in docs/METRICS.md. Each is computed by
one of four derivations, which decide how it is kept current:

- `row`: from one event (a tool call's duration, a progress report, a blocker, a project state),
  appended with its event;
- `tasks`: from a task's whole life (duration, estimate ratio), rewritten with silver/tasks;
- `conversations`: from a conversation (PM response time, request-to-assignment wait), rewritten
  with the conversations they come from;
- `activity`: per hour of activity (active agents), rewritten for the hours new events touch.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from seneca_assets.lib.duck import hex_ids
from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import METRICS


@dataclass(frozen=True)
class Derived:
    """A derived metric: its name, unit and how it is computed (for docs/METRICS.md)."""

    name: str
    unit: str
    tags: tuple[str, ...]
    derivation: str
    how: str


TOOL_CALL_DURATION = Derived(
    "marcus.tool_call_duration_ms",
    "ms",
    ("client_type", "tool"),
    "row",
    "`details.duration_ms` of each audit `tool_call` record.",
)
TASK_PROGRESS = Derived(
    "marcus.task_progress_pct",
    "percent",
    ("agent",),
    "row",
    "The progress of each progress or completion report (`metadata.progress`); subject: task.",
)
BLOCKERS_REPORTED = Derived(
    "marcus.blockers_reported",
    "count",
    ("agent", "severity"),
    "row",
    "1 for each `Reporting blocker:` message; subject: task.",
)
PROJECT_COMPLETION = Derived(
    "marcus.project_completion_pct",
    "percent",
    ("board_id",),
    "row",
    "`project_state.progress_percent` of each realtime `project_state_refreshed` event.",
)
TASK_DURATION = Derived(
    "marcus.task_duration_hours",
    "h",
    ("agent", "priority", "project"),
    "tasks",
    "`actual_hours` of each completed task (completion minus latest assignment), at completion.",
)
ESTIMATE_RATIO = Derived(
    "marcus.task_estimate_ratio",
    "ratio",
    ("agent", "priority", "project"),
    "tasks",
    "`actual_hours / estimated_hours` of each completed task with an estimate, at completion.",
)
ASSIGNMENT_WAIT = Derived(
    "marcus.task_assignment_wait_s",
    "s",
    ("agent",),
    "conversations",
    "From an agent's `Requesting next task` to the `Assigned task:` that answers it, in the "
    "task's conversation; at the assignment.",
)
PM_RESPONSE = Derived(
    "marcus.pm_response_s",
    "s",
    ("agent", "intent"),
    "conversations",
    "From a message an agent sends Marcus to Marcus's next message to that agent in the same "
    "conversation; tagged with the intent of the agent's message; at the answer.",
)
ACTIVE_AGENTS = Derived(
    "marcus.active_agents",
    "count",
    (),
    "activity",
    "Distinct agents that sent Marcus a message in the hour; at the hour's start.",
)
DERIVED: tuple[Derived, ...] = (
    TOOL_CALL_DURATION,
    TASK_PROGRESS,
    BLOCKERS_REPORTED,
    PROJECT_COMPLETION,
    TASK_DURATION,
    ESTIMATE_RATIO,
    ASSIGNMENT_WAIT,
    PM_RESPONSE,
    ACTIVE_AGENTS,
)

_T = METRICS.name
GIVEN_FIELDS = (
    Field("name", ("$.data.name",), "text", _T),
    Field("value", ("$.data.value",), "number", _T),
    Field("unit", ("$.data.unit",), "text", _T),
    Field("tags", ("$.data.tags",), "object", _T),
    Field("source", ("$.source",), "text", _T),
)
_SORTED_TAGS = (
    "coalesce(to_json(map_from_entries(list_sort(map_entries("
    "CAST(CAST(tags AS JSON) AS MAP(VARCHAR, JSON)))))), '{}')"
)
GIVEN_COLUMNS = {
    "event_id": "event_id",
    "timestamp": "event_time",
    "name": "coalesce(name, 'unnamed')",
    "value": "value",
    "unit": "unit",
    "tags": _SORTED_TAGS,
    "source": "coalesce(source, 'seneca_events')",
    "derivation": "'given'",
    "subject": "NULL",
    "ingest_batch": "ingest_batch",
}
PROJECT_FIELDS = (
    Field("value", ("$.project_state.progress_percent",), "number", _T, 0, 100),
    Field("board_id", ("$.project_state.board_id",), "id", _T, column="tags"),
)
PROJECT_COLUMNS = {
    "ingest_batch": "ingest_batch",
    "event_id": "event_id",
    "timestamp": "event_time",
    "value": "value",
    "board_id": "board_id",
}


WITH_BATCH = pl.Schema([*METRICS.schema.items(), ("ingest_batch", pl.Int64)])
"""Metric rows with the bronze batch of their event, while they are being written."""
_UNIDENTIFIED = pl.Schema({k: v for k, v in WITH_BATCH.items() if k != "metric_id"})


def tags_json(*names: str) -> pl.Expr:
    """The canonical tags text of the named columns: a JSON object with sorted keys."""
    if not names:
        return pl.lit("{}")
    return pl.struct(sorted(names)).struct.json_encode()


def finish(frame: pl.DataFrame, schema: pl.Schema = METRICS.schema) -> pl.DataFrame:
    """Give rows their identity and the table's columns (or those of `schema`)."""
    ids = hex_ids(frame, ["name", "event_id", "subject", "timestamp"], "metric_id")
    return conform(frame.with_columns(ids), schema)


def derived_rows(metric: Derived, frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Rows of `metric` from `frame`.

    `frame` has the columns timestamp, value, subject, event_id, the metric's tags, and
    optionally ingest_batch.
    """
    return frame.select(
        "timestamp",
        "event_id",
        "subject",
        *(["ingest_batch"] if "ingest_batch" in frame.columns else []),
        name=pl.lit(metric.name),
        value=pl.col("value").cast(pl.Float64),
        unit=pl.lit(metric.unit),
        tags=tags_json(*metric.tags),
        source=pl.lit(source),
        derivation=pl.lit(metric.derivation),
    )


def row_metrics(
    events: pl.DataFrame, messages: pl.DataFrame, system_events: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The given and per-row metrics of new rows (with `ingest_batch`); and their issues."""
    given, issues = extract(
        events.filter((pl.col("stream") == "seneca_events") & (pl.col("kind") == "metric")),
        GIVEN_FIELDS,
        GIVEN_COLUMNS,
    )
    given = given.with_columns(pl.col("timestamp").dt.convert_time_zone("UTC"))
    calls = system_events.filter(
        (pl.col("stream") == "audit")
        & (pl.col("event_type") == "tool_call")
        & pl.col("duration_ms").is_not_null()
    ).select(
        timestamp="event_time",
        event_id="event_id",
        subject=pl.lit(None, pl.String),
        value="duration_ms",
        client_type="client_type",
        tool="action",
        ingest_batch="ingest_batch",
    )
    progress = messages.filter(
        pl.col("intent").is_in(["progress", "completion"]) & pl.col("progress").is_not_null()
    ).select(
        timestamp="event_time",
        event_id="event_id",
        subject="task_id",
        value="progress",
        agent="agent_id",
        ingest_batch="ingest_batch",
    )
    blockers = messages.filter(pl.col("intent") == "blocker").select(
        timestamp="event_time",
        event_id="event_id",
        subject="task_id",
        value=pl.lit(1.0),
        agent="agent_id",
        severity="severity",
        ingest_batch="ingest_batch",
    )
    states, state_issues = extract(
        events.filter(
            (pl.col("stream") == "realtime") & (pl.col("kind") == "project_state_refreshed")
        ),
        PROJECT_FIELDS,
        PROJECT_COLUMNS,
    )
    states = states.with_columns(
        pl.col("timestamp").dt.convert_time_zone("UTC"), subject=pl.lit(None, pl.String)
    )
    parts = [
        given,
        derived_rows(TOOL_CALL_DURATION, calls, "marcus.audit"),
        derived_rows(TASK_PROGRESS, progress, "marcus.conversations"),
        derived_rows(BLOCKERS_REPORTED, blockers, "marcus.conversations"),
        derived_rows(PROJECT_COMPLETION, states, "marcus.realtime"),
    ]
    frame = pl.concat([conform(p, _UNIDENTIFIED) for p in parts])
    return finish(frame, WITH_BATCH), pl.concat([issues, state_issues])


def task_metrics(tasks: pl.DataFrame) -> pl.DataFrame:
    """Duration and estimate ratio of every completed task (derivation `tasks`)."""
    done = tasks.filter(pl.col("actual_hours").is_not_null()).select(
        timestamp="completed_at",
        event_id=pl.lit(None, pl.String),
        subject="task_id",
        agent="agent_id",
        priority="priority",
        project="project_id",
        value="actual_hours",
        estimate="estimated_hours",
    )
    ratio = done.filter(pl.col("estimate") > 0).with_columns(
        value=pl.col("value") / pl.col("estimate")
    )
    frame = pl.concat(
        [
            derived_rows(TASK_DURATION, done, "seneca.tasks"),
            derived_rows(ESTIMATE_RATIO, ratio, "seneca.tasks"),
        ]
    )
    return finish(frame)


def conversation_metrics(conversations: pl.DataFrame) -> pl.DataFrame:
    """PM response times and request-to-assignment waits inside `conversations`."""
    said = (
        conversations.select("id", "messages")
        .explode("messages")
        .unnest("messages")
        .filter(pl.col("kind") == "worker_communication")
    )
    answer = {c: pl.col(c).shift(-1).over("id") for c in ("sender", "recipient", "intent")}
    pairs = said.with_columns(
        answer_time=pl.col("timestamp").shift(-1).over("id"),
        answer_id=pl.col("message_id").shift(-1).over("id"),
        **{f"answer_{c}": e for c, e in answer.items()},
    ).filter(
        (pl.col("recipient") == "marcus")
        & (pl.col("sender") != "marcus")
        & (pl.col("answer_sender") == "marcus")
        & (pl.col("answer_recipient") == pl.col("sender"))
    )
    pairs = pairs.select(
        timestamp="answer_time",
        event_id="answer_id",
        subject="id",
        agent="sender",
        intent="intent",
        answer="answer_intent",
        value=(pl.col("answer_time") - pl.col("timestamp")).dt.total_microseconds() / 1e6,
    )
    waits = pairs.filter((pl.col("intent") == "request") & (pl.col("answer") == "assignment"))
    frame = pl.concat(
        [
            derived_rows(PM_RESPONSE, pairs, "seneca.conversations"),
            derived_rows(ASSIGNMENT_WAIT, waits, "seneca.conversations"),
        ]
    )
    return finish(frame)


def activity_metrics(messages: pl.DataFrame) -> pl.DataFrame:
    """Active agents per hour of `messages` (every message of the hours to compute)."""
    hours = (
        messages.filter(
            (pl.col("kind") == "worker_communication")
            & (pl.col("recipient") == "marcus")
            & (pl.col("sender") != "marcus")
        )
        .group_by(timestamp=pl.col("event_time").dt.truncate("1h"))
        .agg(value=pl.col("sender").n_unique())
        .with_columns(
            event_id=pl.lit(None, pl.String),
            subject=pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:00Z"),
        )
    )
    return finish(derived_rows(ACTIVE_AGENTS, hours, "seneca.activity"))
