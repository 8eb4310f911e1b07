"""The silver tables and ops/data_quality, as `pandera.polars` models.

One row per entity or utterance, typed, with the `event_id` that links each fact back to the
bronze line it came from. `built_batch` on the entity tables is the bronze batch up to which the
row was computed.
"""

from typing import Annotated

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.marcus import STREAMS
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

HEX_ID = r"^[0-9a-f]{32}$"
PARTIES_DOC = "An agent id, `marcus` or `kanban`."
TASK_STATUSES = ["completed", "blocked", "unassigned", "in_progress", "abandoned", "todo"]
CATEGORIES = ["error", "audit", "debug", "performance"]
SEVERITIES = ["low", "medium", "high", "critical"]

MessageRef = pl.Struct(
    {
        "message_id": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "sender": pl.String,
        "recipient": pl.String,
        "kind": pl.String,
        "intent": pl.String,
        "text": pl.String,
    }
)
ConversationContext = pl.Struct(
    {
        "kind": pl.String,
        "task_id": pl.String,
        "task_name": pl.String,
        "agent_id": pl.String,
        "project_id": pl.String,
    }
)
ConversationOutcomes = pl.Struct(
    {
        "status": pl.String,
        "ended_at": pl.Datetime("us", "UTC"),
        "blockers": pl.Int64,
        "last_progress": pl.Int64,
    }
)
ConversationMetadata = pl.Struct(
    {
        "message_count": pl.Int64,
        "last_activity_at": pl.Datetime("us", "UTC"),
        "first_event_id": pl.String,
        "last_event_id": pl.String,
    }
)


class MessageModel(TableModel):
    """silver/messages: one conversations-stream event as an utterance between two parties."""

    message_id: str = pa.Field(
        str_matches=HEX_ID, unique=True, description="The message: one per event, its event id."
    )
    event_id: str = pa.Field(str_matches=HEX_ID, description="The bronze/events row it came from.")
    event_time: UtcTime = pa.Field(description="When Marcus wrote it.")
    kind: str = pa.Field(
        description="`worker_communication`, `pm_thinking`, `pm_decision`, `kanban_interaction`, "
        "`mcp_tool_failure`, or the older record's `event` as written."
    )
    level: str = pa.Field(nullable=True, description="structlog level: debug, info, warning.")
    logger: str = pa.Field(nullable=True, description="`marcus`, `worker` or `kanban`.")
    conversation_type: str = pa.Field(
        nullable=True, description="As written (`worker_to_pm`, `internal_thinking`, ...)."
    )
    sender: str = pa.Field(description=f"Who spoke. {PARTIES_DOC}")
    recipient: str = pa.Field(description=f"Who was addressed. {PARTIES_DOC}")
    agent_id: str = pa.Field(nullable=True, description="The agent party or subject, if any.")
    text: str = pa.Field(nullable=True, description="The message, thought, decision or action.")
    intent: str = pa.Field(
        nullable=True,
        description="For worker communication, the lifecycle step its template says: `request`, "
        "`assignment`, `assignment_detail`, `no_task`, `progress`, `completion`, `blocker`, "
        "`blocker_answer`, `unassignment` or `other`.",
    )
    task_id: str = pa.Field(nullable=True, description="The task the line names.")
    task_name: str = pa.Field(nullable=True, description="The task name the line gives.")
    project_id: str = pa.Field(nullable=True, description="`metadata.project_id`.")
    progress: int = pa.Field(
        nullable=True, ge=0, le=100, description="Reported progress in percent."
    )
    status: str = pa.Field(nullable=True, description="Reported task status.")
    severity: str = pa.Field(nullable=True, description="Blocker severity.")
    priority: str = pa.Field(nullable=True, description="Task priority given at assignment.")
    estimated_hours: float = pa.Field(
        nullable=True, ge=0, description="Estimate given at assignment."
    )
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored its event.")


class ConversationModel(TableModel):
    """silver/conversations: a task thread between Marcus and its agents, or a run of activity.

    A task thread holds every line naming the task plus the request answered by its assignment
    and the answers to its blockers. Other lines form one conversation per agent (or for Marcus
    alone) and run of activity without a 30-minute gap.
    """

    id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Conversation id.")
    timestamp: UtcTime = pa.Field(description="Time of its first message.")
    participants: Annotated[pl.List, pl.String()] = pa.Field(
        description="Parties who spoke or were addressed, sorted."
    )
    messages: Annotated[pl.List, MessageRef] = pa.Field(
        description="Its messages in order: id, time, sender, recipient, kind, intent, text."
    )
    context: ConversationContext = pa.Field(  # type: ignore[valid-type]
        description="`kind` (`task` or `session`), and the task, agent and project."
    )
    outcomes: ConversationOutcomes = pa.Field(  # type: ignore[valid-type]
        description="`status` (completed, blocked, unassigned, abandoned, in_progress; `ended` "
        "or in_progress for sessions), when it ended, blockers, last progress."
    )
    metadata: ConversationMetadata = pa.Field(  # type: ignore[valid-type]
        description="Message count, last activity, first and last event ids."
    )
    built_batch: int = pa.Field(ge=0, description="Bronze batch up to which it was built.")


class DecisionModel(TableModel):
    """silver/decisions: one PM decision with its rationale."""

    decision_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Its event id.")
    event_time: UtcTime = pa.Field(description="When it was logged.")
    decision: str = pa.Field(nullable=True, description="What was decided.")
    rationale: str = pa.Field(nullable=True, description="Why.")
    alternatives: str = pa.Field(
        nullable=True, description="`alternatives_considered` as JSON text."
    )
    alternatives_count: int = pa.Field(ge=0, description="How many alternatives were listed.")
    confidence: float = pa.Field(
        nullable=True, ge=0, le=1, description="`confidence_score` as written."
    )
    confidence_is_placeholder: bool = pa.Field(
        description="True when the call site writes this same confidence nearly always "
        "(a constant of the code path, not a judgement)."
    )
    call_site: str = pa.Field(
        description="The decision text with names and ids masked: which code path decided."
    )
    call_site_id: str = pa.Field(str_matches=HEX_ID, description="MD5 of `call_site`.")
    factors: str = pa.Field(nullable=True, description="`decision_factors` as JSON text.")
    task_id: str = pa.Field(nullable=True, description="The task it concerns, where named.")
    task_name: str = pa.Field(nullable=True, description="The task name it gives.")
    agent_id: str = pa.Field(nullable=True, description="The agent it concerns, where named.")
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored its event.")


class TaskEventModel(TableModel):
    """silver/task_events: one fact about a task, as one stream recorded it.

    silver/tasks is computed from these; the same assignment seen in several streams is one
    fact per stream here and is counted once there.
    """

    fact_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Identity.")
    event_id: str = pa.Field(str_matches=HEX_ID, description="The bronze event.")
    event_time: UtcTime = pa.Field(description="When it was recorded.")
    task_id: str = pa.Field(description="The task.")
    source: str = pa.Field(
        isin=["conversations", "legacy", "realtime", "agent_events", "audit", "plan"],
        description="Which record told it (`legacy`: the older conversations records).",
    )
    fact: str = pa.Field(
        isin=[
            "created",
            "listed",
            "assigned",
            "detail",
            "progress",
            "completed",
            "blocker",
            "unassigned",
        ],
        description="What happened.",
    )
    agent_id: str = pa.Field(nullable=True, description="The agent named.")
    project_id: str = pa.Field(nullable=True, description="The project named.")
    name: str = pa.Field(nullable=True, description="The task name given.")
    priority: str = pa.Field(nullable=True, description="The priority given.")
    estimated_hours: float = pa.Field(nullable=True, ge=0, description="The estimate given.")
    progress: int = pa.Field(nullable=True, ge=0, le=100, description="Progress reported.")
    status: str = pa.Field(nullable=True, description="Status reported.")
    severity: str = pa.Field(nullable=True, description="Blocker severity reported.")
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored its event.")


class TaskModel(TableModel):
    """silver/tasks: one task's life, combined from conversations, realtime, agent_events, audit."""

    task_id: str = pa.Field(unique=True, description="Marcus's task id.")
    project_id: str = pa.Field(nullable=True, description="Marcus's project registry id.")
    agent_id: str = pa.Field(nullable=True, description="Agent of the latest assignment.")
    name: str = pa.Field(nullable=True, description="Task name.")
    priority: str = pa.Field(nullable=True, description="low, medium, high or urgent.")
    created_at: UtcTime = pa.Field(nullable=True, description="When the board card was created.")
    first_assigned_at: UtcTime = pa.Field(nullable=True, description="First assignment.")
    assigned_at: UtcTime = pa.Field(nullable=True, description="Latest assignment.")
    first_progress_at: UtcTime = pa.Field(
        nullable=True, description="First progress report after the latest assignment."
    )
    completed_at: UtcTime = pa.Field(nullable=True, description="Completion report.")
    estimated_hours: float = pa.Field(nullable=True, ge=0, description="Marcus's estimate.")
    actual_hours: float = pa.Field(
        nullable=True, ge=0, description="`completed_at - assigned_at` in hours."
    )
    progress: int = pa.Field(nullable=True, ge=0, le=100, description="Last progress reported.")
    blockers: int = pa.Field(ge=0, description="Blockers reported over its life.")
    worst_blocker_severity: str = pa.Field(
        nullable=True, isin=SEVERITIES, description="Worst severity among them."
    )
    reassignments: int = pa.Field(ge=0, description="Assignments after the first.")
    status: str = pa.Field(isin=TASK_STATUSES, description="State at the end of the data.")
    last_activity_at: UtcTime = pa.Field(description="Latest line about the task.")
    sources: Annotated[pl.List, pl.String()] = pa.Field(
        description="Streams that contributed, sorted."
    )
    built_batch: int = pa.Field(ge=0, description="Bronze batch up to which it was built.")


class AgentModel(TableModel):
    """silver/agents: one identity (agent or other client) across every stream."""

    agent_id: str = pa.Field(
        unique=True, description="`worker_id`, `agent_id` and `client_id`: one identity."
    )
    name: str = pa.Field(nullable=True, description="Name at the latest registration.")
    role: str = pa.Field(nullable=True, description="Role at the latest registration.")
    skills: Annotated[pl.List, pl.String()] = pa.Field(
        nullable=True, description="Skills at the latest registration."
    )
    client_type: str = pa.Field(
        nullable=True,
        description="`agent` for workers; otherwise the client type it authenticated with.",
    )
    registered_at: UtcTime = pa.Field(nullable=True, description="First registration.")
    last_registered_at: UtcTime = pa.Field(nullable=True, description="Latest registration.")
    first_seen: UtcTime = pa.Field(description="Its first line in any stream.")
    last_seen: UtcTime = pa.Field(description="Its latest line in any stream.")
    events: int = pa.Field(ge=0, description="Lines naming it, all streams.")
    tasks_assigned: int = pa.Field(ge=0, description="Tasks whose latest assignment is its.")
    tasks_completed: int = pa.Field(ge=0, description="Of those, completed.")
    built_batch: int = pa.Field(ge=0, description="Bronze batch up to which it was built.")


class SystemEventModel(TableModel):
    """silver/system_events: one audit or server event (the audit trail).

    Tool calls, access denials, client registrations, realtime server events, kanban
    interactions and errors, each with its retention class.
    """

    event_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Its bronze event.")
    event_time: UtcTime = pa.Field(description="When it happened.")
    stream: str = pa.Field(isin=list(STREAMS), description="Where it was written.")
    category: str = pa.Field(
        isin=CATEGORIES, description="Retention class: error, audit, debug or performance."
    )
    event_type: str = pa.Field(description="The record's type as written.")
    actor: str = pa.Field(nullable=True, description="Who acted: client, agent, marcus, kanban.")
    client_type: str = pa.Field(nullable=True, description="The actor's client type.")
    action: str = pa.Field(nullable=True, description="Tool, kanban action or server event.")
    success: bool = pa.Field(
        nullable=True, description="False when an exception was raised (audit's `success`)."
    )
    result_success: bool = pa.Field(
        nullable=True, description="What the tool's own result said (`result.success`)."
    )
    duration_ms: float = pa.Field(nullable=True, ge=0, description="Tool call duration.")
    error: str = pa.Field(nullable=True, description="Error text or denial reason.")
    agent_id: str = pa.Field(nullable=True, description="The agent named.")
    task_id: str = pa.Field(nullable=True, description="The task named.")
    project_id: str = pa.Field(nullable=True, description="The project named.")
    details: str = pa.Field(
        nullable=True, description="JSON: a tool call's arguments, or the event's payload."
    )
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored its event.")


class MetricModel(TableModel):
    """silver/metrics: one measurement in the seed's shape, given or derived from the logs.

    The derived metrics and how each is computed are listed in docs/METRICS.md.
    """

    metric_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Identity.")
    timestamp: UtcTime = pa.Field(description="When it was measured.")
    name: str = pa.Field(description="Metric name; derived ones start with `marcus.`.")
    value: float = pa.Field(nullable=True, description="The measurement (null if unusable).")
    unit: str = pa.Field(nullable=True, description="Unit (`ms`, `s`, `h`, `count`, ...).")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys: the series key.")
    source: str = pa.Field(description="Emitter (`seneca.metrics`) or derivation source.")
    derivation: str = pa.Field(
        isin=["given", "row", "tasks", "conversations", "activity"],
        description="How it was obtained: given, or derived per row, per task, per "
        "conversation, or per hour of activity.",
    )
    subject: str = pa.Field(nullable=True, description="The task, conversation or hour.")
    event_id: str = pa.Field(nullable=True, description="The event it was read or anchored at.")


class DataQualityModel(TableModel):
    """ops/data_quality: one unusable field of a row kept in a silver table.

    The field was present but of the wrong type or out of range: it is null in the silver row
    (or coerced, as an id written as a number), and the reason is recorded here.
    """

    issue_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Identity.")
    event_id: str = pa.Field(str_matches=HEX_ID, description="The bronze event.")
    event_time: UtcTime = pa.Field(description="The event's time.")
    stream: str = pa.Field(isin=list(STREAMS), description="The event's stream.")
    table: str = pa.Field(description="The silver table whose row has the field.")
    column: str = pa.Field(description="The column left null or coerced.")
    field_path: str = pa.Field(description="JSON path of the value in the payload.")
    reason: str = pa.Field(description="What was wrong and what was done.")
    value: str = pa.Field(nullable=True, description="The value as written (first 200 chars).")
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored its event.")


MESSAGES = TableSpec("silver/messages", MessageModel)
CONVERSATIONS = TableSpec("silver/conversations", ConversationModel, file_bytes=1 << 20)
DECISIONS = TableSpec("silver/decisions", DecisionModel)
TASK_EVENTS = TableSpec("silver/task_events", TaskEventModel)
TASKS = TableSpec("silver/tasks", TaskModel)
AGENTS = TableSpec("silver/agents", AgentModel)
SYSTEM_EVENTS = TableSpec("silver/system_events", SystemEventModel, partition_by=("category",))
METRICS = TableSpec(
    "silver/metrics",
    MetricModel,
    partition_by=("derivation",),
    cluster_by=("timestamp",),
    row_group_rows=1 << 18,
)
"""Points in time order in row groups of 262,144: a query of a recent window reads only its own
(smaller groups compress worse and slowed the hourly rollup's read)."""
DATA_QUALITY = TableSpec("ops/data_quality", DataQualityModel)
SILVER_TABLES: tuple[TableSpec, ...] = (
    MESSAGES,
    CONVERSATIONS,
    DECISIONS,
    TASK_EVENTS,
    TASKS,
    AGENTS,
    SYSTEM_EVENTS,
    METRICS,
    DATA_QUALITY,
)
