"""Building the silver tables from bronze/events, incrementally and exactly.

The bronze rows read are those of acknowledged ingestion batches (never rolled back), after the
batch each table last built from; every write is one Delta commit tagged with the batch it built
up to (a Delta application transaction), so a crashed or repeated run resumes where each table
stands. In order:

1. Per row: silver/messages, silver/system_events, silver/decisions, silver/task_events, the given
   and per-row metrics and ops/data_quality are appended from new bronze rows, a slice of batches
   at a time (bounded memory). Decisions' placeholder verdicts are then rewritten for the call
   sites whose verdict changed.
2. Per entity: silver/tasks for the tasks new facts name; silver/agents merged with what new rows
   say; silver/conversations rebuilt from their cut point (`conversations.cut_point`), beside
   the other two.
3. Derived metrics: per task (rewritten with the tasks), per conversation (from the earliest
   rebuilt conversation on) and per hour of activity (the hours new messages touch).

Running it again changes nothing; any sequence of runs gives what one run over everything gives.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.config import ModelSettings
from seneca_assets.lib.ingest import APP_ID as INGEST_APP_ID
from seneca_assets.lib.lake import Lake, time_literal
from seneca_assets.lib.model import conversations as conv
from seneca_assets.lib.model.agents import REGISTRATIONS, agent_activity, merge_agents
from seneca_assets.lib.model.decisions import (
    decisions,
    judge,
    placeholder_values,
    stale_call_sites,
)
from seneca_assets.lib.model.messages import messages
from seneca_assets.lib.model.metrics import (
    activity_metrics,
    conversation_metrics,
    row_metrics,
    task_metrics,
)
from seneca_assets.lib.model.system_events import system_events
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
from seneca_assets.lib.model.task_events import task_events
from seneca_assets.lib.model.tasks import judge_abandoned, tasks
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, TableSpec

APP_ID = "seneca-silver"
"""The Delta application id of silver commits; derived metrics use `APP_ID/<derivation>`."""
SLICE_BATCHES = 4
"""Bronze batches (about 32 MiB of log lines each) modelled and appended together."""
LOCK_NAME = "silver"
ROW_TABLES: tuple[TableSpec, ...] = (
    MESSAGES,
    SYSTEM_EVENTS,
    DECISIONS,
    TASK_EVENTS,
    METRICS,
    DATA_QUALITY,
)
_BRONZE_COLUMNS = (
    "event_id",
    "stream",
    "kind",
    "event_time",
    "agent_id",
    "task_id",
    "project_id",
    "payload",
    "ingest_batch",
)


@dataclass
class SilverReport:
    """What one build did: rows written per table, and where it built up to."""

    acknowledged_batch: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    issues: int = 0
    decisions_rejudged: int = 0
    conversations_cut: datetime | None = None
    tasks_recomputed: int = 0

    def add(self, table: str, rows: int) -> None:
        """Count rows written to `table`."""
        self.rows[table] = self.rows.get(table, 0) + rows

    def summary(self) -> str:
        """One line for people."""
        written = ", ".join(f"{rows:,} {name}" for name, rows in self.rows.items() if rows)
        return (
            f"silver built up to batch {self.acknowledged_batch}: {written or 'nothing new'}; "
            f"{self.issues:,} unusable fields recorded in ops/data_quality"
        )


def _since(lake: Lake, spec: TableSpec, mark: int, upto: int | None = None) -> pl.LazyFrame:
    """The rows of bronze/events (or a per-row table) from the batches after `mark`."""
    batch = pl.col("ingest_batch")
    return lake.scan(spec).filter(
        batch > mark if upto is None else batch.is_between(mark + 1, upto)
    )


def _model_rows(events: pl.DataFrame, helpers: ThreadPoolExecutor) -> dict[TableSpec, pl.DataFrame]:
    """Every per-row table's rows of `events`, each with `ingest_batch`.

    System events and decisions are modelled on a `helpers` thread while messages (which the
    task facts and metrics read) are modelled here.
    """
    audit = helpers.submit(system_events, events)
    decided_later = helpers.submit(decisions, events)
    said, said_issues = messages(events)
    facts_later = helpers.submit(task_events, events, said)
    audited, audit_issues = audit.result()
    measured, metric_issues = row_metrics(events, said, audited)
    decided, decision_issues = decided_later.result()
    facts, fact_issues = facts_later.result()
    issues = pl.concat([said_issues, audit_issues, decision_issues, fact_issues, metric_issues])
    return {
        MESSAGES: said,
        SYSTEM_EVENTS: audited,
        DECISIONS: decided,
        TASK_EVENTS: facts,
        METRICS: measured,
        DATA_QUALITY: issues,
    }


def _append_rows(lake: Lake, acked: int, report: SilverReport) -> None:
    """Model and append new bronze rows a slice at a time.

    While one slice is written (by one thread, so each table's commits stay in order), the next
    is read and modelled: Delta writes and DuckDB both release the GIL.
    """
    marks = {spec: lake.txn_version(spec, APP_ID) for spec in ROW_TABLES}

    def write(rows: dict[TableSpec, pl.DataFrame], upto: int) -> None:
        for spec, frame in rows.items():
            if marks[spec] >= upto:
                continue
            fresh = frame.filter(pl.col("ingest_batch") > marks[spec])
            lake.write(spec, fresh, txn=(APP_ID, upto))
            report.add(spec.name, fresh.height)
            if spec is DATA_QUALITY:
                report.issues += fresh.height

    after = min(marks.values())
    writing: Future[None] | None = None
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="silver-write") as writer,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="silver-model") as helpers,
    ):
        while after < acked:
            upto = min(acked, after + SLICE_BATCHES)
            events = _since(lake, EVENTS, after, upto).select(_BRONZE_COLUMNS).collect()
            rows = _model_rows(events, helpers)
            del events
            if writing is not None:
                writing.result()
            writing = writer.submit(write, rows, upto)
            after = upto
        if writing is not None:
            writing.result()


def _rejudge_decisions(lake: Lake, report: SilverReport) -> None:
    """Rewrite the decisions of call sites whose placeholder verdict changed."""
    stored = (
        lake.scan(DECISIONS)
        .select("call_site_id", "confidence", "confidence_is_placeholder")
        .collect()
    )
    constants = placeholder_values(stored)
    stale = stale_call_sites(stored, constants)
    if not stale:
        return
    rows = lake.scan(DECISIONS).filter(pl.col("call_site_id").is_in(stale)).collect()
    listed = ", ".join(f"'{site}'" for site in stale)
    lake.write(
        DECISIONS, judge(rows, constants), mode="overwrite", predicate=f"call_site_id IN ({listed})"
    )
    report.decisions_rejudged += rows.height


def _build_tasks(
    lake: Lake, acked: int, settings: ModelSettings, report: SilverReport
) -> pl.DataFrame:
    """Recompute the tasks new facts name; the whole table, as written (or as stored)."""
    mark = lake.txn_version(TASKS, APP_ID)
    if mark >= acked:
        return lake.read(TASKS)
    touched = (
        _since(lake, TASK_EVENTS, mark).select("task_id").unique().collect().get_column("task_id")
    )
    facts = lake.scan(TASK_EVENTS).filter(pl.col("task_id").is_in(touched.implode())).collect()
    fresh = tasks(facts, acked)
    kept = lake.read(TASKS).filter(~pl.col("task_id").is_in(touched.implode()))
    table = judge_abandoned(
        pl.concat([kept, fresh]).sort("task_id"),
        lake.latest(EVENTS, "event_time"),
        settings.abandon_after,
    )
    lake.write(TASKS, table, mode="overwrite", txn=(APP_ID, acked))
    report.tasks_recomputed = fresh.height
    report.add(TASKS.name, fresh.height)
    return table


def _build_agents(lake: Lake, acked: int, task_table: pl.DataFrame, report: SilverReport) -> None:
    mark = lake.txn_version(AGENTS, APP_ID)
    if mark >= acked:
        return
    new = _since(lake, EVENTS, mark, acked)
    seen = new.select("agent_id", "event_time", "kind").collect()
    registered = new.filter(REGISTRATIONS).select(_BRONZE_COLUMNS).collect()
    partial, issues = agent_activity(seen, registered)
    issues_app = f"{APP_ID}/agents"
    if not issues.is_empty() and lake.txn_version(DATA_QUALITY, issues_app) < acked:
        lake.write(DATA_QUALITY, issues, txn=(issues_app, acked))
        report.issues += issues.height
    table = merge_agents(lake.read(AGENTS), partial, task_table, acked)
    lake.write(AGENTS, table, mode="overwrite", txn=(APP_ID, acked))
    report.add(AGENTS.name, partial.height)


def _build_conversations(
    lake: Lake, acked: int, settings: ModelSettings, report: SilverReport
) -> None:
    mark = lake.txn_version(CONVERSATIONS, APP_ID)
    if mark >= acked:
        return
    new = (
        _since(lake, MESSAGES, mark)
        .select("event_time", "event_id", "kind", "task_id", "intent")
        .collect()
    )
    stored = (
        lake.scan(CONVERSATIONS)
        .select(
            "timestamp",
            task_id=pl.col("context").struct.field("task_id"),
            last_activity_at=pl.col("metadata").struct.field("last_activity_at"),
            status=pl.col("outcomes").struct.field("status"),
        )
        .collect()
    )
    cut = conv.cut_point(stored, new)
    end = lake.latest(EVENTS, "event_time")
    built, replaced = CONVERSATIONS.empty(), []
    if cut is not None:
        said = lake.scan(MESSAGES).filter(pl.col("event_time") >= cut).collect()
        built = conv.settle(conv.build(said, acked), end, settings.abandon_after)
        replaced.append(f"timestamp >= {time_literal(cut)}")
    settled = _settle_before(lake, stored, cut, end, settings)
    if not settled.is_empty():
        ids = ", ".join(f"'{i}'" for i in settled.get_column("id"))
        earliest = settled.get_column("timestamp").min()
        assert isinstance(earliest, datetime)
        replaced.append(f"timestamp >= {time_literal(earliest)} AND id IN ({ids})")
    if replaced:
        predicate = " OR ".join(f"({p})" for p in replaced)
        frame = pl.concat([built, settled])
        lake.write(CONVERSATIONS, frame, mode="overwrite", predicate=predicate, txn=(APP_ID, acked))
    else:
        lake.write(CONVERSATIONS, CONVERSATIONS.empty(), txn=(APP_ID, acked))
    report.conversations_cut = cut
    report.add(CONVERSATIONS.name, built.height + settled.height)


def _settle_before(
    lake: Lake,
    stored: pl.DataFrame,
    cut: datetime | None,
    end: datetime | None,
    settings: ModelSettings,
) -> pl.DataFrame:
    """Open conversations before the cut (all, without one) that have gone quiet by `end`.

    They keep their messages: only their outcome changes as the end of the data moves.
    """
    before = pl.col("timestamp") < cut if cut is not None else pl.lit(True)
    open_before = stored.filter(before & pl.col("status").is_in(conv.OPEN))
    if open_before.is_empty():
        return CONVERSATIONS.empty()
    still_open = (
        lake.scan(CONVERSATIONS)
        .filter(
            (pl.col("timestamp") >= open_before.get_column("timestamp").min())
            & before
            & pl.col("outcomes").struct.field("status").is_in(conv.OPEN)
        )
        .collect()
    )
    return conv.settle(still_open, end, settings.abandon_after).filter(
        ~pl.col("outcomes").struct.field("status").is_in(conv.OPEN)
    )


@dataclass(frozen=True)
class _Derived:
    """Recomputed derived metrics: the rows, the stored rows they replace, and their watermark."""

    rows: pl.DataFrame
    replaces: str
    app_id: str


def _task_metrics(lake: Lake, acked: int, task_table: pl.DataFrame) -> _Derived | None:
    app = f"{APP_ID}/tasks"
    if lake.txn_version(METRICS, app) >= acked:
        return None
    return _Derived(task_metrics(task_table), "derivation = 'tasks'", app)


def _conversation_metrics(lake: Lake, acked: int) -> _Derived | None:
    app = f"{APP_ID}/conversations"
    mark = lake.txn_version(METRICS, app)
    if mark >= acked:
        return None
    rebuilt = lake.scan(CONVERSATIONS).filter(pl.col("built_batch") > mark)
    start = rebuilt.select(pl.col("timestamp").min()).collect().item()
    if start is None:
        return _Derived(METRICS.empty(), "FALSE", app)
    rows = conversation_metrics(
        lake.scan(CONVERSATIONS).filter(pl.col("timestamp") >= start).collect()
    )
    replaces = f"derivation = 'conversations' AND timestamp >= {time_literal(start)}"
    return _Derived(rows, replaces, app)


def _activity_metrics(lake: Lake, acked: int) -> _Derived | None:
    app = f"{APP_ID}/activity"
    mark = lake.txn_version(METRICS, app)
    if mark >= acked:
        return None
    hour = pl.col("event_time").dt.truncate("1h")
    span = _since(lake, MESSAGES, mark).select(lo=hour.min(), hi=hour.max()).collect()
    lo, hi = span.row(0)
    if lo is None:
        return _Derived(METRICS.empty(), "FALSE", app)
    hours = lake.scan(MESSAGES).filter(
        (pl.col("event_time") >= lo) & (pl.col("event_time") < hi + timedelta(hours=1))
    )
    rows = activity_metrics(hours.select("event_time", "kind", "sender", "recipient").collect())
    replaces = (
        f"derivation = 'activity' AND timestamp >= {time_literal(lo)} "
        f"AND timestamp <= {time_literal(hi)}"
    )
    return _Derived(rows, replaces, app)


def _write_metrics(
    lake: Lake, acked: int, derived: list[_Derived | None], report: SilverReport
) -> None:
    """Replace the derived metrics that tasks, conversations and activity changed, in one commit."""
    changed = [d for d in derived if d is not None]
    if not changed:
        return
    rows = pl.concat([d.rows for d in changed])
    lake.write(
        METRICS,
        rows,
        mode="overwrite",
        predicate=" OR ".join(f"({d.replaces})" for d in changed),
        txn=[(d.app_id, acked) for d in changed],
    )
    report.add(METRICS.name, rows.height)


def _tasks_and_agents(
    lake: Lake, acked: int, settings: ModelSettings, report: SilverReport
) -> _Derived | None:
    table = _build_tasks(lake, acked, settings, report)
    _build_agents(lake, acked, table, report)
    return _task_metrics(lake, acked, table)


def build_silver(lake: Lake, settings: ModelSettings | None = None) -> SilverReport:
    """Bring every silver table up to the last acknowledged bronze batch."""
    settings = settings or ModelSettings()
    report = SilverReport()
    with lake.lock(LOCK_NAME):
        acked = lake.txn_version(INGEST_FILES, INGEST_APP_ID)
        report.acknowledged_batch = acked
        _append_rows(lake, acked, report)
        # Three chains that read and write different tables, side by side (Delta, DuckDB and
        # Polars release the GIL); the metrics they derive are written together at the end.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="silver-entities") as pool:
            judged = pool.submit(_rejudge_decisions, lake, report)
            people = pool.submit(_tasks_and_agents, lake, acked, settings, report)
            _build_conversations(lake, acked, settings, report)
            talk = [_conversation_metrics(lake, acked), _activity_metrics(lake, acked)]
            derived = [people.result(), *talk]
            judged.result()
        _write_metrics(lake, acked, derived, report)
    return report
