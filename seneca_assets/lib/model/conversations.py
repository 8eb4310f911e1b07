"""silver/conversations: task threads and runs of activity, rebuilt from a cut point onwards.

Membership: a message naming a task belongs to that task's thread; so does an agent's
`Requesting next task` answered by an assignment (within ASSIGNMENT_ANSWER), and Marcus's
`Blocker acknowledged` answering the agent's blocker (within BLOCKER_ANSWER). Every other message
belongs to its agent (or to Marcus alone when it names none) and to the run of that party's
messages without a SESSION_GAP.

Incremental rebuilds start at a cut: LOOKBACK before the earliest new message, moved back to the
start of every stored conversation that is still open, has activity after the cut, or is the
thread of a task the new messages name, until no conversation spans the cut. Everything from the
cut on is rebuilt from silver/messages and replaces what was stored from the cut on, so an
incremental run gives what a full rebuild gives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from seneca_assets.lib.duck import hex_ids
from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.model.tables import CONVERSATIONS, MessageRef

SESSION_GAP = timedelta(minutes=30)
ASSIGNMENT_ANSWER = timedelta(minutes=10)
BLOCKER_ANSWER = timedelta(hours=1)
LOOKBACK = timedelta(hours=2)
"""Longer than every window above, so a new message can only change conversations that reach
past its time minus LOOKBACK (abandonment excepted: `settle` judges it alone)."""
OPEN = ("in_progress", "blocked")
UNBOUNDED_PARTIES = ("kanban", "marcus")
"""Parties that are never quiet for long on a busy server: their sessions also end with each
UTC hour, so that one conversation does not grow for weeks."""
_LIFECYCLE = ("assignment", "progress", "completion", "blocker", "unassignment")


def _threads() -> pl.Expr:
    """The task a message's thread is about: named, or answered/asked for (see module doc)."""
    worker = pl.col("kind") == "worker_communication"
    by_agent = ["agent_id"]
    nxt, prev = (
        (lambda c: pl.col(c).shift(-1).over(by_agent)),
        (lambda c: pl.col(c).shift(1).over(by_agent)),
    )
    asked = (
        (pl.col("intent") == "request")
        & (nxt("intent") == "assignment")
        & ((nxt("event_time") - pl.col("event_time")) <= ASSIGNMENT_ANSWER)
    )
    answered = (
        (pl.col("intent") == "blocker_answer")
        & (prev("intent") == "blocker")
        & ((pl.col("event_time") - prev("event_time")) <= BLOCKER_ANSWER)
    )
    return (
        pl.when(pl.col("task_id").is_not_null())
        .then(pl.col("task_id"))
        .when(worker & asked)
        .then(nxt("task_id"))
        .when(worker & answered)
        .then(prev("task_id"))
    )


def _member_keys(messages: pl.DataFrame) -> pl.DataFrame:
    """Messages with `thread` (task id or null) and `party` (agent id, `kanban` or `marcus`)."""
    ordered = messages.sort("event_time", "event_id")
    talk = (pl.col("kind") == "worker_communication") & pl.col("agent_id").is_not_null()
    kanban = pl.col("kind") == "kanban_interaction"
    workers = ordered.filter(talk).with_columns(thread=_threads())
    others = ordered.filter(~talk).with_columns(thread=pl.when(~kanban).then(pl.col("task_id")))
    return (
        pl.concat([workers, others])
        .sort("event_time", "event_id")
        .with_columns(
            party=pl.when(kanban)
            .then(pl.lit("kanban"))
            .otherwise(pl.coalesce("agent_id", pl.lit("marcus")))
        )
    )


def _episodes(threads: pl.DataFrame) -> pl.DataFrame:
    """Split each task's messages into one thread per assignment (with the request it answered).

    Messages before a task's first assignment belong to its first thread.
    """
    threads = threads.sort("thread", "event_time", "event_id").with_columns(
        opened=pl.col("intent").eq_missing("assignment").cast(pl.Int32).cum_sum().over("thread")
    )
    threads = threads.with_columns(
        episode=pl.when(pl.col("intent") == "request")
        .then(pl.col("opened").shift(-1).over("thread"))
        .otherwise(pl.col("opened"))
        .fill_null(pl.col("opened"))
        .clip(lower_bound=1)
    )
    return threads.with_columns(
        conversation=pl.lit("task"),
        key=pl.concat_str(
            [pl.col("thread"), pl.col("event_id").first().over("thread", "episode")],
            separator="\0",
        ),
    ).drop("opened", "episode")


def build(messages: pl.DataFrame, built_batch: int) -> pl.DataFrame:
    """Conversations of `messages` (every message from some cut on), in the table's shape.

    Which open conversations have gone quiet is judged afterwards, by `settle`.
    """
    if messages.is_empty():
        return CONVERSATIONS.empty()
    keyed = _member_keys(messages)
    threads = _episodes(keyed.filter(pl.col("thread").is_not_null()))
    loose = keyed.filter(pl.col("thread").is_null()).sort("party", "event_time", "event_id")
    gap = pl.col("event_time").diff().over("party")
    hour = pl.col("event_time").dt.truncate("1h")
    new_hour = pl.col("party").is_in(list(UNBOUNDED_PARTIES)) & (
        hour != hour.shift(1).over("party")
    )
    starts = gap.is_null() | (gap > SESSION_GAP) | new_hour
    loose = loose.with_columns(run=starts.cast(pl.Int32).cum_sum().over("party")).with_columns(
        conversation=pl.lit("session"),
        key=pl.concat_str(
            [pl.col("party"), pl.col("event_id").first().over("party", "run")], separator="\0"
        ),
    )
    members = pl.concat([threads, loose.drop("run")]).sort("event_time", "event_id")
    members = members.with_columns(hex_ids(members, ["conversation", "key"], "id"))
    return _aggregate(members, built_batch)


def _aggregate(members: pl.DataFrame, built_batch: int) -> pl.DataFrame:
    message = pl.struct(
        message_id="message_id",
        timestamp="event_time",
        sender="sender",
        recipient="recipient",
        kind="kind",
        intent="intent",
        text="text",
    ).cast(MessageRef)
    parties = pl.concat_list("sender", "recipient").explode().unique().sort()
    lifecycle = pl.col("intent").filter(pl.col("intent").is_in(_LIFECYCLE))
    assigned_agent = pl.col("agent_id").filter(pl.col("intent") == "assignment").last()
    ended = pl.col("event_time").filter(pl.col("intent").is_in(["completion", "unassignment"]))
    grouped = members.group_by("id").agg(
        timestamp=pl.col("event_time").first(),
        participants=parties,
        messages=message,
        conversation=pl.col("conversation").first(),
        task_id=pl.col("thread").first(),
        task_name=pl.col("task_name").drop_nulls().last(),
        agent_id=pl.coalesce(assigned_agent, pl.col("agent_id").drop_nulls().last()),
        project_id=pl.col("project_id").drop_nulls().last(),
        last_step=lifecycle.last(),
        ended_at=ended.last(),
        blockers=(pl.col("intent") == "blocker").sum(),
        last_progress=pl.col("progress").drop_nulls().last(),
        message_count=pl.len(),
        last_activity_at=pl.col("event_time").last(),
        first_event_id=pl.col("event_id").first(),
        last_event_id=pl.col("event_id").last(),
    )
    status = (
        pl.when(pl.col("conversation") == "session")
        .then(pl.lit("in_progress"))
        .when(pl.col("last_step") == "completion")
        .then(pl.lit("completed"))
        .when(pl.col("last_step") == "unassignment")
        .then(pl.lit("unassigned"))
        .when(pl.col("last_step") == "blocker")
        .then(pl.lit("blocked"))
        .otherwise(pl.lit("in_progress"))
    )
    grouped = grouped.with_columns(status=status).with_columns(
        ended_at=pl.when(pl.col("status").is_in(["completed", "unassigned"])).then("ended_at")
    )
    frame = grouped.select(
        "id",
        "timestamp",
        "participants",
        "messages",
        context=pl.struct(
            kind="conversation",
            task_id="task_id",
            task_name="task_name",
            agent_id="agent_id",
            project_id="project_id",
        ),
        outcomes=pl.struct("status", "ended_at", "blockers", "last_progress"),
        metadata=pl.struct("message_count", "last_activity_at", "first_event_id", "last_event_id"),
        built_batch=pl.lit(built_batch),
    )
    return conform(frame, CONVERSATIONS.schema).sort("timestamp", "id")


def settle(
    conversations: pl.DataFrame, data_end: datetime | None, abandon_after: timedelta
) -> pl.DataFrame:
    """Close the open conversations that have gone quiet by `data_end`.

    An open task thread without a line for `abandon_after` is abandoned; a session without one
    for SESSION_GAP has ended. Either ends at its last activity. Nothing else about a
    conversation depends on the end of the data, so stored conversations can be settled again
    without being rebuilt.
    """
    if data_end is None or conversations.is_empty():
        return conversations
    outcomes, metadata, context = (pl.col(c) for c in ("outcomes", "metadata", "context"))
    task = context.struct.field("kind") == "task"
    last = metadata.struct.field("last_activity_at")
    quiet = outcomes.struct.field("status").is_in(OPEN) & (
        last < pl.lit(data_end) - pl.when(task).then(abandon_after).otherwise(SESSION_GAP)
    )
    return conversations.with_columns(
        outcomes=pl.when(quiet)
        .then(
            outcomes.struct.with_fields(
                status=pl.when(task).then(pl.lit("abandoned")).otherwise(pl.lit("ended")),
                ended_at=last,
            )
        )
        .otherwise(outcomes)
    )


def cut_point(stored: pl.DataFrame, new_messages: pl.DataFrame) -> datetime | None:
    """Where an incremental rebuild must start, or None if there is nothing new.

    Args:
        stored: The stored conversations' `timestamp`, `task_id`, `last_activity_at` and
            `status` (unnested from `context`, `metadata` and `outcomes`).
        new_messages: The `event_time`, `event_id`, `kind`, `task_id` and `intent` of the
            messages added since the last build.
    """
    if new_messages.is_empty():
        return None
    cut = min(_earliest(new_messages, "event_time") - LOOKBACK, _reopened(stored, new_messages))
    while True:
        reaching = stored.filter((pl.col("timestamp") < cut) & (pl.col("last_activity_at") >= cut))
        if reaching.is_empty():
            return cut
        cut = _earliest(reaching, "timestamp")


def _reopened(stored: pl.DataFrame, new_messages: pl.DataFrame) -> datetime:
    """The earliest start of a stored task thread that messages naming its task may join.

    New messages about a task join the thread their time falls in, unless the earliest of them
    is an assignment after everything stored about the task: that opens a thread of its own.
    """
    named = (
        new_messages.filter(
            pl.col("task_id").is_not_null() & (pl.col("kind") != "kanban_interaction")
        )
        .sort("event_time", "event_id")
        .group_by("task_id", maintain_order=True)
        .agg(
            first=pl.col("event_time").first(),
            opens=pl.col("intent").first().eq_missing("assignment"),
        )
    )
    threads = stored.join(named, on="task_id")
    pulled = (
        threads.group_by("task_id")
        .agg(
            start=pl.coalesce(
                pl.col("timestamp").filter(pl.col("timestamp") <= pl.col("first")).max(),
                pl.col("timestamp").min(),
            ),
            separate=pl.col("opens").first()
            & (pl.col("first").first() > pl.col("last_activity_at").max()),
        )
        .filter(~pl.col("separate"))
    )
    if pulled.is_empty():
        return datetime.max.replace(tzinfo=UTC)
    return _earliest(pulled, "start")


def _earliest(frame: pl.DataFrame, column: str) -> datetime:
    earliest = frame.get_column(column).min()
    assert isinstance(earliest, datetime)
    return earliest
