"""The rules of the silver model, each on a small hand-written log.

Decisions' placeholder confidences (and their re-judgement when a call site grows), one task's
life told by several streams, one agent across streams, who speaks to whom in each kind of
message, and what belongs to which conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seneca_assets.lib.config import IngestSettings, ModelSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.model.tables import (
    AGENTS,
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    SYSTEM_EVENTS,
    TASK_EVENTS,
    TASKS,
)
from seneca_assets.lib.schemas import TableSpec
from seneca_assets_tests.lib.model.pipeline import Record, run_pipeline, write_logs

BASE = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CONVERSATIONS_FILE = "conversations_20261127_100000.jsonl"
REALTIME_FILE = "realtime_20261127_100000.jsonl"
AGENT_EVENTS_FILE = "agent_events_20261127.jsonl"
AUDIT_FILE = "audit_20261127.jsonl"
MINUTE, HOUR = 60.0, 3600.0


def _at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def _ts(seconds: float) -> str:
    return _at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------------------------
# Lines as Marcus writes them
# --------------------------------------------------------------------------------------------


def _worker(
    at: float, direction: str, message: str, metadata: dict[str, Any], agent: str
) -> Record:
    return {
        "worker_id": agent,
        "conversation_type": direction,
        "message": message,
        "metadata": metadata | {"project_id": "p1", "project_name": "Snake", "board_id": "b1"},
        "timestamp": _ts(at),
        "event": "worker_communication",
        "logger": "worker",
        "level": "info",
    }


def _request(at: float, agent: str = "agent-1") -> Record:
    info = {"worker_info": f"Worker {agent} requesting task"}
    return _worker(at, "worker_to_pm", "Requesting next task", info, agent)


def _no_task(at: float, agent: str = "agent-1") -> Record:
    meta = {"reason": "no_matching_tasks", "retry_after_seconds": 60}
    return _worker(at, "pm_to_worker", "No suitable tasks available at this time", meta, agent)


def _assigned(
    at: float, task: str = "T1", agent: str = "agent-1", name: str = "Build API"
) -> Record:
    meta = {"task_id": task, "priority": "high", "instructions": "Build it"}
    return _worker(at, "pm_to_worker", f"Assigned task: {name}", meta, agent)


def _assigned_detail(
    at: float, task: str = "T1", agent: str = "agent-1", name: str = "Build API"
) -> Record:
    meta = {"task_id": task, "task_name": name, "priority": "high", "estimated_hours": 4.0}
    return _worker(at, "pm_to_worker", f"Task assigned: {name}", meta, agent)


def _progress(at: float, task: str = "T1", agent: str = "agent-1", **meta: Any) -> Record:
    meta = {"task_id": task, "status": "in_progress", "progress": 50} | meta
    text = f"Progress update: Working on it ({meta.get('progress')}%)"
    return _worker(at, "worker_to_pm", text, meta, agent)


def _blocker(at: float, severity: str, task: str = "T1", agent: str = "agent-1") -> Record:
    meta = {"task_id": task, "severity": severity}
    return _worker(at, "worker_to_pm", "Reporting blocker: DB not reachable", meta, agent)


def _blocker_answer(at: float, agent: str = "agent-1") -> Record:
    meta = {"suggestions": ["Restart the DB"], "severity": "high"}
    return _worker(at, "pm_to_worker", "Blocker acknowledged. Suggestions provided.", meta, agent)


def _unassigned(at: float, task: str = "T1", agent: str = "agent-1") -> Record:
    meta = {"task_id": task, "manual_unassignment": True}
    return _worker(at, "pm_to_worker", f"Task {task} unassigned - reset to TODO", meta, agent)


def _decision(at: float, decision: str, confidence: float | None) -> Record:
    return {
        "conversation_type": "decision",
        "decision": decision,
        "rationale": "Best skill match and highest priority",
        "alternatives_considered": [{"task": "Other Task 1", "score": 0.7}],
        "confidence_score": confidence,
        "decision_factors": {"skill_match": 0.9},
        "timestamp": _ts(at),
        "event": "pm_decision",
        "logger": "marcus",
        "level": "info",
    }


def _thinking(at: float, thought: str, context: dict[str, Any]) -> Record:
    return {
        "conversation_type": "internal_thinking",
        "thought": thought,
        "context": context,
        "timestamp": _ts(at),
        "event": "pm_thinking",
        "logger": "marcus",
        "level": "debug",
    }


def _kanban(at: float, direction: str, action: str) -> Record:
    return {
        "conversation_type": direction,
        "action": action,
        "data": {"project_id": "p1", "provider": "planka"},
        "processing_steps": [],
        "timestamp": _ts(at),
        "event": "kanban_interaction",
        "logger": "kanban",
        "level": "info",
    }


def _tool_failure(at: float, tool: str, agent: str = "agent-1") -> Record:
    return {
        "tool_name": tool,
        "arguments": {"agent_id": agent},
        "error": "No tasks",
        "retry_reason": "",
        "response": {"success": False},
        "event": f"MCP tool '{tool}' returned failure",
        "logger": "marcus",
        "level": "warning",
        "timestamp": _ts(at),
    }


def _rt(at: float, kind: str, **payload: Any) -> Record:
    return {"timestamp": _ts(at), "type": kind} | payload


def _rt_assignment(at: float, task: str = "T1", agent: str = "agent-1") -> Record:
    return _rt(
        at,
        "task_assignment",
        agent_id=agent,
        task_id=task,
        task_name="Build API",
        priority="high",
        source="marcus",
        target=agent,
    )


def _ae(at: float, kind: str, **data: Any) -> Record:
    return {"timestamp": _ts(at), "event_type": kind, "data": data}


def _ae_assignment(at: float, task: str = "T1", agent: str = "agent-1") -> Record:
    brief = {"id": task, "name": "Build API", "priority": "high", "estimated_hours": 4.0}
    return _ae(at, "task_assignment", worker_id=agent, task=brief)


def _tool_call(at: float, tool: str, arguments: dict[str, Any], client: str = "agent-1") -> Record:
    return {
        "timestamp": _ts(at),
        "event_type": "tool_call",
        "client_id": client,
        "client_type": "agent",
        "tool_name": tool,
        "success": True,
        "details": {"arguments": arguments, "result": {"success": True}, "duration_ms": 120.0},
        "context": {},
    }


# --------------------------------------------------------------------------------------------
# Running the pipeline
# --------------------------------------------------------------------------------------------


def _built(logs: Path, lake_dir: Path, files: dict[str, list[Record]]) -> Lake:
    write_logs(logs, files)
    return run_pipeline(logs, lake_dir)


def _two_ways(
    tmp_path: Path,
    first: dict[str, list[Record]],
    then: dict[str, list[Record]],
    spec: TableSpec,
) -> tuple[pl.DataFrame, Lake, Lake]:
    """`spec` after the first part alone; lakes after both parts in two runs and in one run.

    The second part is appended to the files of the first (a new file where it names one).
    """
    once, twice = tmp_path / "once", tmp_path / "twice"
    for folder in (once, twice):
        (folder / "logs").mkdir(parents=True)
    write_logs(once / "logs", first)
    write_logs(once / "logs", then, append=True)
    write_logs(twice / "logs", first)
    early = run_pipeline(twice / "logs", twice / "lake").read(spec)
    write_logs(twice / "logs", then, append=True)
    return (
        early,
        run_pipeline(twice / "logs", twice / "lake"),
        run_pipeline(once / "logs", once / "lake"),
    )


def _same(spec: TableSpec, left: Lake, right: Lake, key: str, drop: tuple[str, ...]) -> None:
    assert left.read(spec).drop(*drop).sort(key).to_dicts() == (
        right.read(spec).drop(*drop).sort(key).to_dicts()
    )


def _task(lake: Lake, task_id: str = "T1") -> dict[str, Any]:
    rows = lake.read(TASKS).filter(pl.col("task_id") == task_id)
    assert rows.height == 1, lake.read(TASKS)
    return rows.row(0, named=True)


# --------------------------------------------------------------------------------------------
# Decisions: placeholder confidences
# --------------------------------------------------------------------------------------------


def _assign_decisions(start: float, confidences: list[float | None]) -> list[Record]:
    return [
        _decision(start + i, f"Assign task 'Task {i}' to agent-{i % 3}", c)
        for i, c in enumerate(confidences)
    ]


def _unassign_decisions(start: float, confidences: list[float | None]) -> list[Record]:
    return [
        _decision(start + i, f"Unassign task T-{i} from agent-{i % 3}", c)
        for i, c in enumerate(confidences)
    ]


def _verdicts(decided: Lake | pl.DataFrame) -> dict[str, list[bool]]:
    """Per call site, the verdicts of its decisions in time order."""
    frame = decided.read(DECISIONS) if isinstance(decided, Lake) else decided
    frame = frame.sort("event_time")
    return {
        site: rows.get_column("confidence_is_placeholder").to_list()
        for (site,), rows in frame.group_by("call_site", maintain_order=True)
    }


def test_a_call_site_writing_one_confidence_is_a_placeholder(logs: Path, lake_dir: Path):
    decided = [
        *_assign_decisions(0, [0.85] * 5),
        *_unassign_decisions(100, [0.5, 0.6, 0.7, 0.8, 0.9]),
        *[_decision(200 + i, f"Retry task T-{i} later", 0.85) for i in range(4)],
        _decision(204, "Retry task T-4 later", 0.6),  # 4 of 5 alike: not nearly always
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: decided})

    assert _verdicts(lake) == {
        "Assign task '…' to …": [True] * 5,
        "Unassign task … from …": [False] * 5,
        "Retry task … later": [False] * 5,
    }
    assert lake.read(DECISIONS).get_column("call_site_id").n_unique() == 3


def test_a_call_site_with_too_few_decisions_is_not_judged(logs: Path, lake_dir: Path):
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: _assign_decisions(0, [0.85] * 4)})

    assert _verdicts(lake) == {"Assign task '…' to …": [False] * 4}


def test_null_confidences_do_not_count_towards_a_verdict(logs: Path, lake_dir: Path):
    decided = _assign_decisions(0, [0.85] * 4 + [None] * 3)
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: decided})

    assert _verdicts(lake) == {"Assign task '…' to …": [False] * 7}


def test_call_sites_are_rejudged_when_more_decisions_arrive(tmp_path: Path):
    first = {
        CONVERSATIONS_FILE: [
            *_assign_decisions(0, [0.85] * 4),  # 4: not judged yet
            *_unassign_decisions(100, [0.7] * 5),  # 5 alike: a placeholder
        ]
    }
    then = {
        CONVERSATIONS_FILE: [
            *_assign_decisions(1000, [0.85] * 2),  # 6 alike now
            _decision(1100, "Unassign task T-9 from agent-2", 0.3),  # 5 of 6: no longer
        ]
    }
    early, incremental, whole = _two_ways(tmp_path, first, then, DECISIONS)

    assert _verdicts(early) == {
        "Assign task '…' to …": [False] * 4,
        "Unassign task … from …": [True] * 5,
    }
    assert _verdicts(incremental) == {
        "Assign task '…' to …": [True] * 6,
        "Unassign task … from …": [False] * 6,
    }
    _same(DECISIONS, incremental, whole, "decision_id", ("ingest_batch",))


# --------------------------------------------------------------------------------------------
# Tasks: one life told by several streams
# --------------------------------------------------------------------------------------------


def test_one_assignment_told_by_three_streams_is_one_assignment(logs: Path, lake_dir: Path):
    files = {
        CONVERSATIONS_FILE: [_request(0), _assigned(10), _assigned_detail(11)],
        REALTIME_FILE: [_rt_assignment(10.5)],
        AGENT_EVENTS_FILE: [_ae_assignment(10.6)],
    }
    lake = _built(logs, lake_dir, files)

    facts = lake.read(TASK_EVENTS).filter(pl.col("fact") == "assigned").sort("source")
    assert facts.get_column("source").to_list() == ["agent_events", "conversations", "realtime"]
    task = _task(lake)
    assert task["reassignments"] == 0
    assert task["first_assigned_at"] == task["assigned_at"] == _at(10)
    assert task["agent_id"] == "agent-1"
    assert (task["name"], task["priority"], task["estimated_hours"]) == ("Build API", "high", 4.0)
    assert task["project_id"] == "p1"
    assert task["status"] == "in_progress"
    assert task["sources"] == ["agent_events", "conversations", "realtime"]
    assigned = lake.read(AGENTS).filter(pl.col("agent_id") == "agent-1")
    assert assigned.get_column("tasks_assigned").to_list() == [1]


def test_an_assignment_without_conversation_logs_still_counts(logs: Path, lake_dir: Path):
    files = {REALTIME_FILE: [_rt_assignment(10.5)], AGENT_EVENTS_FILE: [_ae_assignment(10.6)]}
    lake = _built(logs, lake_dir, files)

    task = _task(lake)
    assert task["agent_id"] == "agent-1"
    assert task["assigned_at"] == task["first_assigned_at"] == _at(10.5)
    assert task["reassignments"] == 0
    assert task["status"] == "in_progress"
    assert task["estimated_hours"] == 4.0  # given by agent_events only
    assert task["sources"] == ["agent_events", "realtime"]


def test_the_audit_trail_alone_tells_a_task_s_life(logs: Path, lake_dir: Path):
    """Only the MCP audit log: the assignment is in `request_next_task`'s result, progress and
    blockers in the tools' arguments (paths that bronze does not lift)."""
    assignment = _tool_call(10, "request_next_task", {"agent_id": "agent-1"})
    assignment["details"]["result"] = {
        "success": True,
        "task": {"id": "T7", "name": "Audit only", "priority": "high", "project_id": "p7"},
    }
    progress = {"agent_id": "agent-1", "task_id": "T7", "status": "completed", "progress": 100}
    files = {
        AUDIT_FILE: [
            assignment,
            _tool_call(60, "report_blocker", {"task_id": "T7", "severity": "medium"}),
            _tool_call(2 * HOUR, "report_task_progress", progress),
        ]
    }
    task = _task(_built(logs, lake_dir, files), "T7")
    assert (task["agent_id"], task["project_id"], task["name"]) == ("agent-1", "p7", "Audit only")
    assert task["assigned_at"] == _at(10)
    assert task["completed_at"] == _at(2 * HOUR)
    assert task["status"] == "completed"
    assert (task["blockers"], task["worst_blocker_severity"]) == (1, "medium")
    assert task["sources"] == ["audit"]


@pytest.mark.parametrize(
    "done",
    [
        {"status": "completed", "progress": 100},
        {"status": "completed", "progress": 95},
        {"status": "in_progress", "progress": 100},
    ],
    ids=["completed_100", "status_completed", "progress_100"],
)
def test_a_completion_report_completes_the_task(logs: Path, lake_dir: Path, done: dict):
    conversation = [
        _request(0),
        _assigned(10),
        _progress(10 + HOUR, progress=40),
        _progress(10 + 2.5 * HOUR, **done),
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    task = _task(lake)
    assert task["status"] == "completed"
    assert task["completed_at"] == _at(10 + 2.5 * HOUR)
    assert task["actual_hours"] == pytest.approx(2.5)
    assert task["first_progress_at"] == _at(10 + HOUR)
    assert task["progress"] == done["progress"]
    intents = lake.read(MESSAGES).sort("event_time").get_column("intent").to_list()
    assert intents == ["request", "assignment", "progress", "completion"]
    agent = lake.read(AGENTS).row(0, named=True)
    assert (agent["tasks_assigned"], agent["tasks_completed"]) == (1, 1)


def test_an_unassignment_leaves_the_task_unassigned(logs: Path, lake_dir: Path):
    conversation = [_assigned(10), _progress(20, progress=30), _unassigned(30)]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    task = _task(lake)
    assert task["status"] == "unassigned"
    assert task["completed_at"] is None
    assert task["reassignments"] == 0
    thread = lake.read(CONVERSATIONS).row(0, named=True)
    assert thread["outcomes"]["status"] == "unassigned"
    assert thread["outcomes"]["ended_at"] == _at(30)


def test_a_reassignment_after_an_unassignment(logs: Path, lake_dir: Path):
    conversation = [_assigned(10), _unassigned(30), _assigned(40, agent="agent-2")]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    task = _task(lake)
    assert (task["status"], task["agent_id"], task["reassignments"]) == (
        "in_progress",
        "agent-2",
        1,
    )
    assert (task["first_assigned_at"], task["assigned_at"]) == (_at(10), _at(40))


def test_a_blocker_is_counted_with_its_severity(logs: Path, lake_dir: Path):
    conversation = [_assigned(10), _progress(20), _blocker(30, "HIGH"), _blocker_answer(31)]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    task = _task(lake)
    assert task["blockers"] == 1
    assert task["worst_blocker_severity"] == "high"
    assert task["status"] == "blocked"
    thread = lake.read(CONVERSATIONS).row(0, named=True)
    assert thread["context"]["task_id"] == "T1"
    assert [m["intent"] for m in thread["messages"]] == [
        "assignment",
        "progress",
        "blocker",
        "blocker_answer",
    ]
    assert (thread["outcomes"]["status"], thread["outcomes"]["blockers"]) == ("blocked", 1)


def test_the_worst_of_several_blockers(logs: Path, lake_dir: Path):
    conversation = [_assigned(10), _blocker(20, "low"), _blocker(30, "critical"), _progress(40)]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    task = _task(lake)
    assert (task["blockers"], task["worst_blocker_severity"]) == (2, "critical")
    assert task["status"] == "in_progress"  # progress reported after the last blocker


# --------------------------------------------------------------------------------------------
# Agents: one identity across streams
# --------------------------------------------------------------------------------------------

REGISTERED = {
    REALTIME_FILE: [
        _rt(
            0,
            "worker_registration",
            worker_id="agent-1",
            name="Unicorn 1",
            role="Developer",
            skills=["python"],
        ),
        _rt_assignment(200),
    ],
    CONVERSATIONS_FILE: [_request(100), _assigned(199)],
}
REREGISTERED = {
    AUDIT_FILE: [
        _tool_call(
            400,
            "register_agent",
            {"agent_id": "agent-1", "name": "Unicorn 1b", "role": "Reviewer", "skills": ["go"]},
        ),
        _tool_call(500, "ping", {"echo": "hi"}),
    ],
}


def test_one_agent_across_streams(logs: Path, lake_dir: Path):
    write_logs(logs, REGISTERED)
    lake = _built(logs, lake_dir, REREGISTERED)

    agents = lake.read(AGENTS)
    assert agents.get_column("agent_id").to_list() == ["agent-1"]
    agent = agents.row(0, named=True)
    assert (agent["first_seen"], agent["last_seen"]) == (_at(0), _at(500))
    assert (agent["registered_at"], agent["last_registered_at"]) == (_at(0), _at(400))
    assert (agent["name"], agent["role"], agent["skills"]) == ("Unicorn 1b", "Reviewer", ["go"])
    assert agent["client_type"] == "agent"
    assert agent["events"] == 6
    assert agent["tasks_assigned"] == 1


def test_an_agent_built_in_two_runs_equals_one_run(tmp_path: Path):
    early, incremental, whole = _two_ways(tmp_path, REGISTERED, REREGISTERED, AGENTS)

    before = early.row(0, named=True)
    assert (before["name"], before["last_seen"]) == ("Unicorn 1", _at(200))
    _same(AGENTS, incremental, whole, "agent_id", ("built_batch",))
    assert incremental.read(AGENTS).item(0, "name") == "Unicorn 1b"


def test_a_registration_without_a_name_is_the_same_in_one_run_or_two(tmp_path: Path):
    later = {AUDIT_FILE: [_tool_call(400, "register_agent", {"agent_id": "agent-1", "role": "QA"})]}
    _, incremental, whole = _two_ways(tmp_path, REGISTERED, later, AGENTS)

    _same(AGENTS, incremental, whole, "agent_id", ("built_batch",))


# --------------------------------------------------------------------------------------------
# Messages: who speaks to whom
# --------------------------------------------------------------------------------------------


def test_senders_and_recipients(logs: Path, lake_dir: Path):
    conversation = [
        _request(1),
        _assigned(2),
        _kanban(3, "pm_to_kanban", "update_task"),
        _kanban(4, "kanban_to_pm", "task_updated"),
        _thinking(5, "Finding optimal task for agent-1", {"agent_id": "agent-1"}),
        _decision(6, "Assign task 'Build API' to agent-1", 0.85),
        _tool_failure(7, "request_next_task"),
        _thinking(8, "Need to check current project state", {}),
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    said = lake.read(MESSAGES).sort("event_time")
    assert said.select("kind", "sender", "recipient", "agent_id").rows() == [
        ("worker_communication", "agent-1", "marcus", "agent-1"),
        ("worker_communication", "marcus", "agent-1", "agent-1"),
        ("kanban_interaction", "marcus", "kanban", None),
        ("kanban_interaction", "kanban", "marcus", None),
        ("pm_thinking", "marcus", "marcus", "agent-1"),
        ("pm_decision", "marcus", "marcus", None),
        ("mcp_tool_failure", "marcus", "agent-1", "agent-1"),
        ("pm_thinking", "marcus", "marcus", None),
    ]
    failure = said.row(6, named=True)
    assert (failure["level"], failure["text"]) == ("warning", "No tasks")
    audited = lake.read(SYSTEM_EVENTS).filter(pl.col("event_type") == "mcp_tool_failure")
    assert audited.select("category", "action").rows() == [("error", "request_next_task")]


def test_older_records_follow_their_logger(logs: Path, lake_dir: Path):
    legacy: list[Record] = [
        {
            "event_type": "assignment",
            "task_id": "T1",
            "worker_id": "agent-1",
            "task_details": {"name": "Build API", "priority": "High", "estimated_hours": 4.0},
            "timestamp": _ts(1),
            "event": "task_assignment",
            "logger": "marcus",
            "level": "info",
        },
        {
            "event_type": "progress",
            "worker_id": "agent-1",
            "task_id": "T1",
            "progress": 50,
            "status": "in_progress",
            "timestamp": _ts(2),
            "event": "progress_update",
            "logger": "worker",
            "level": "info",
        },
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: legacy})

    said = lake.read(MESSAGES).sort("event_time")
    assert said.select("kind", "sender", "recipient", "task_id").rows() == [
        ("task_assignment", "marcus", "agent-1", "T1"),
        ("progress_update", "agent-1", "marcus", "T1"),
    ]
    assert said.item(0, "priority") == "high"
    task = _task(lake)
    assert (task["agent_id"], task["progress"], task["sources"]) == ("agent-1", 50, ["legacy"])


# --------------------------------------------------------------------------------------------
# Conversations: task threads and sessions
# --------------------------------------------------------------------------------------------


def _conversations(lake: Lake) -> list[tuple[str, str | None, str | None, list[str]]]:
    """(kind, task, agent, message texts) of each conversation, in time order."""
    frame = lake.read(CONVERSATIONS).sort("timestamp")
    return [
        (
            row["context"]["kind"],
            row["context"]["task_id"],
            row["context"]["agent_id"],
            [m["text"] for m in row["messages"]],
        )
        for row in frame.iter_rows(named=True)
    ]


def test_a_request_answered_by_an_assignment_is_in_the_task_thread(logs: Path, lake_dir: Path):
    conversation = [
        _request(0, "agent-1"),
        _request(1, "agent-2"),
        _no_task(3, "agent-2"),
        _assigned(5, "T1", "agent-1"),
        _assigned_detail(6, "T1", "agent-1"),
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    assert _conversations(lake) == [
        (
            "task",
            "T1",
            "agent-1",
            ["Requesting next task", "Assigned task: Build API", "Task assigned: Build API"],
        ),
        (
            "session",
            None,
            "agent-2",
            ["Requesting next task", "No suitable tasks available at this time"],
        ),
    ]
    thread = lake.read(CONVERSATIONS).sort("timestamp").row(0, named=True)
    assert thread["context"]["task_name"] == "Build API"
    assert thread["participants"] == ["agent-1", "marcus"]
    assert thread["outcomes"]["status"] == "in_progress"


def test_a_request_answered_too_late_stays_in_the_session(logs: Path, lake_dir: Path):
    conversation = [_request(0), _assigned(11 * MINUTE)]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    assert [(kind, task) for kind, task, _, _ in _conversations(lake)] == [
        ("session", None),
        ("task", "T1"),
    ]


@pytest.mark.parametrize(("gap_minutes", "sessions"), [(45, 2), (10, 1)])
def test_task_less_messages_form_sessions_split_by_quiet(
    logs: Path, lake_dir: Path, gap_minutes: int, sessions: int
):
    second = 1 * MINUTE + gap_minutes * MINUTE
    conversation = [
        _request(0, "agent-3"),
        _no_task(1 * MINUTE, "agent-3"),
        _request(second, "agent-3"),
        _no_task(second + 1 * MINUTE, "agent-3"),
    ]
    lake = _built(logs, lake_dir, {CONVERSATIONS_FILE: conversation})

    found = lake.read(CONVERSATIONS).sort("timestamp")
    assert found.height == sessions
    assert found.get_column("context").struct.field("kind").to_list() == ["session"] * sessions
    assert found.get_column("context").struct.field("agent_id").to_list() == ["agent-3"] * sessions
    counts = found.get_column("metadata").struct.field("message_count").to_list()
    assert counts == ([2, 2] if sessions == 2 else [4])
    statuses = found.get_column("outcomes").struct.field("status").to_list()
    assert statuses == (["ended", "in_progress"] if sessions == 2 else ["in_progress"])


def test_how_long_a_task_may_be_quiet_is_a_setting(tmp_path: Path):
    """With nothing heard for two hours, a task and its thread are abandoned after one hour, not
    after the default day."""
    files = {
        CONVERSATIONS_FILE: [_request(0), _assigned(1), _progress(60, progress=25)],
        AGENT_EVENTS_FILE: [_ae(3 * HOUR, "ping_request", echo="still here")],
    }
    statuses = {}
    for hours in (24.0, 1.0):
        logs, lake_dir = tmp_path / f"logs{hours}", tmp_path / f"lake{hours}"
        logs.mkdir()
        write_logs(logs, files)
        ingest(IngestSettings(log_dir=logs, lake_dir=lake_dir, tail_grace_s=0))
        lake = Lake(lake_dir)
        build_silver(lake, ModelSettings(abandon_after_h=hours))
        thread = lake.read(CONVERSATIONS).filter(pl.col("context").struct.field("kind") == "task")
        statuses[hours] = (_task(lake)["status"], thread.item(0, "outcomes")["status"])
    assert statuses == {24.0: ("in_progress", "in_progress"), 1.0: ("abandoned", "abandoned")}
