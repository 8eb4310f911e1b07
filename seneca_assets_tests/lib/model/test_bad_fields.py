"""A field that is missing or of the wrong type never loses its row, and is always accounted for.

Each case writes a few JSONL lines, one of them (at BAD_AT) with an unusable field, ingests them,
builds silver and checks both sides of the contract: (a) the row is in its silver table with null
where the value cannot be used (or the coerced value, as an id written as a number kept as its
text), and (b) ops/data_quality holds one row for it: the event, the table, the column, the JSON
path, a reason saying what was wrong, and the value as written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.model.tables import (
    AGENTS,
    DATA_QUALITY,
    DECISIONS,
    MESSAGES,
    METRICS,
    SYSTEM_EVENTS,
    TASK_EVENTS,
    TASKS,
)
from seneca_assets.lib.schemas import EVENTS, TableSpec
from seneca_assets_tests.lib.model.pipeline import Record, run_pipeline, write_logs

BASE = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BAD_AT = 30.0
"""Seconds after BASE of the line with the unusable field (every other line is elsewhere)."""
CONVERSATIONS_FILE = "conversations_20261127_100000.jsonl"
REALTIME_FILE = "realtime_20261127_100000.jsonl"
AGENT_EVENTS_FILE = "agent_events_20261127.jsonl"
AUDIT_FILE = "audit_20261127.jsonl"
SENECA_FILE = "seneca_events_20261127.jsonl"


# --------------------------------------------------------------------------------------------
# Lines as Marcus (and Seneca) write them
# --------------------------------------------------------------------------------------------


def _at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def _ts(seconds: float) -> str:
    return _at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _worker(
    at: float, direction: str, message: str, metadata: Any, agent: str = "agent-1"
) -> Record:
    return {
        "worker_id": agent,
        "conversation_type": direction,
        "message": message,
        "metadata": metadata,
        "timestamp": _ts(at),
        "event": "worker_communication",
        "logger": "worker",
        "level": "info",
    }


def _assigned(at: float, task: str = "T1", agent: str = "agent-1") -> Record:
    meta = {"task_id": task, "priority": "high", "instructions": "Do it", "project_id": "p1"}
    return _worker(at, "pm_to_worker", "Assigned task: Build API", meta, agent)


def _progress(at: float, metadata: Any, text: str = "Halfway there (50%)") -> Record:
    return _worker(at, "worker_to_pm", f"Progress update: {text}", metadata)


def _decision(at: float, **fields: Any) -> Record:
    record = {
        "conversation_type": "decision",
        "decision": "Assign task 'Build API' to agent-1",
        "rationale": "Best skill match and highest priority",
        "alternatives_considered": [{"task": "Other Task 1", "score": 0.7}],
        "confidence_score": 0.85,
        "decision_factors": {"skill_match": 0.9, "priority": "high"},
        "timestamp": _ts(at),
        "event": "pm_decision",
        "logger": "marcus",
        "level": "info",
    }
    return record | fields


def _tool_call(at: float, tool: str = "request_next_task", **fields: Any) -> Record:
    record = {
        "timestamp": _ts(at),
        "event_type": "tool_call",
        "client_id": "agent-1",
        "client_type": "agent",
        "tool_name": tool,
        "success": True,
        "details": {
            "arguments": {"agent_id": "agent-1"},
            "result": {"success": True},
            "duration_ms": 243.5,
        },
        "context": {},
    }
    return record | fields


def _metric(at: float, **data: Any) -> Record:
    payload = {"name": "seneca.ingest_lines", "value": 12.0, "unit": "count", "tags": {"run": "a"}}
    return {
        "type": "metric",
        "timestamp": _ts(at),
        "source": "seneca.metrics",
        "data": payload | data,
    }


def _project_state(at: float, percent: Any) -> Record:
    state = {"board_id": "b1", "total_tasks": 7, "completed_tasks": 2, "progress_percent": percent}
    return {
        "timestamp": _ts(at),
        "type": "project_state_refreshed",
        "task_count": 7,
        "project_state": state,
    }


def _ae_assignment(at: float, estimate: Any, task: str = "T9", agent: str = "agent-1") -> Record:
    brief = {"id": task, "name": "Write docs", "priority": "high", "estimated_hours": estimate}
    return {
        "timestamp": _ts(at),
        "event_type": "task_assignment",
        "data": {"worker_id": agent, "task": brief},
    }


def _registration(at: float, **fields: Any) -> Record:
    record = {
        "timestamp": _ts(at),
        "type": "worker_registration",
        "worker_id": "agent-7",
        "name": "Unicorn 7",
        "role": "Developer",
        "skills": ["python"],
        "source": "mcp_client",
        "target": "marcus",
    }
    return record | fields


# --------------------------------------------------------------------------------------------
# Running the pipeline
# --------------------------------------------------------------------------------------------


def _event_id(lake: Lake, seconds: float) -> str:
    found = lake.read(EVENTS).filter(pl.col("event_time") == _at(seconds))
    assert found.height == 1, found
    return found.item(0, "event_id")


def _issues(lake: Lake, event_id: str) -> pl.DataFrame:
    return lake.read(DATA_QUALITY).filter(pl.col("event_id") == event_id)


# --------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    files: dict[str, list[Record]]
    table: TableSpec
    """The silver table that must keep the row of the bad line."""
    row: dict[str, Any]
    """Values that row must have (None: null)."""
    issue_table: str
    column: str | None
    """None: not checked here (see the test named in the case's comment)."""
    field_path: str
    reasons: tuple[str, ...]
    """Texts the reason must contain."""
    value: Any
    """The unusable value as written (compared as JSON)."""
    key: str | None = None
    """For tables without an event id (silver/agents): the row's agent id."""
    check: Callable[[Lake, str], None] | None = field(default=None, compare=False)
    """More to check, given the lake and the bad line's event id."""


_EVENT_COLUMN = {DECISIONS.name: "decision_id", AGENTS.name: "agent_id"}


def _check_progress_keeps_task(lake: Lake, event_id: str) -> None:
    facts = lake.read(TASK_EVENTS).filter(pl.col("event_id") == event_id)
    assert facts.select("task_id", "source", "fact", "progress", "status").rows() == [
        ("T1", "conversations", "progress", None, "in_progress")
    ]
    task = lake.read(TASKS).filter(pl.col("task_id") == "T1").row(0, named=True)
    assert task["status"] == "in_progress"
    assert task["agent_id"] == "agent-1"
    assert task["assigned_at"] == _at(10)
    assert task["first_progress_at"] == _at(BAD_AT)
    assert task["progress"] is None
    assert task["last_activity_at"] == _at(BAD_AT)
    assert _progress_metrics(lake, event_id).is_empty()


def _progress_metrics(lake: Lake, event_id: str) -> pl.DataFrame:
    return lake.read(METRICS).filter(
        (pl.col("name") == "marcus.task_progress_pct") & (pl.col("event_id") == event_id)
    )


def _check_numeric_id_names_the_task(lake: Lake, event_id: str) -> None:
    facts = lake.read(TASK_EVENTS).filter(pl.col("event_id") == event_id)
    assert facts.select("task_id", "fact", "progress").rows() == [("123", "progress", 40)]
    assert lake.read(TASKS).get_column("task_id").to_list() == ["123"]
    bronze = lake.read(EVENTS).filter(pl.col("event_id") == event_id)
    assert bronze.item(0, "task_id") == "123"
    metric = _progress_metrics(lake, event_id)
    assert metric.select("subject", "value").rows() == [("123", 40.0)]


def _check_no_progress_metric(lake: Lake, event_id: str) -> None:
    assert _progress_metrics(lake, event_id).is_empty()
    task = lake.read(TASKS).filter(pl.col("task_id") == "T1").row(0, named=True)
    assert (task["status"], task["progress"], task["completed_at"]) == ("in_progress", None, None)


def _check_metadata_string(lake: Lake, event_id: str) -> None:
    assert lake.read(TASK_EVENTS).filter(pl.col("event_id") == event_id).is_empty()
    assert _progress_metrics(lake, event_id).is_empty()


def _duration_metrics(lake: Lake, event_id: str) -> pl.DataFrame:
    return lake.read(METRICS).filter(
        (pl.col("name") == "marcus.tool_call_duration_ms") & (pl.col("event_id") == event_id)
    )


def _check_no_duration_metric(lake: Lake, event_id: str) -> None:
    assert _duration_metrics(lake, event_id).is_empty()
    clean = _event_id(lake, 10)
    assert _duration_metrics(lake, clean).get_column("value").to_list() == [243.5]


def _check_success_unknown(lake: Lake, event_id: str) -> None:
    row = lake.read(SYSTEM_EVENTS).filter(pl.col("event_id") == event_id).row(0, named=True)
    assert row["category"] == "audit"  # unknown is not an error
    assert _duration_metrics(lake, event_id).get_column("value").to_list() == [243.5]


def _check_project_metric_kept_null(lake: Lake, event_id: str) -> None:
    completion = lake.read(METRICS).filter(pl.col("name") == "marcus.project_completion_pct")
    assert sorted(completion.select("event_id", "value").rows(), key=str) == sorted(
        [(_event_id(lake, 10), 28.57), (event_id, None)], key=str
    ), "the unusable measurement keeps its row, with a null value"


def _check_assignment_without_estimate(lake: Lake, event_id: str) -> None:
    task = lake.read(TASKS).filter(pl.col("task_id") == "T9").row(0, named=True)
    assert task["agent_id"] == "agent-1"
    assert task["assigned_at"] == _at(BAD_AT)
    assert task["estimated_hours"] is None
    assert task["status"] == "in_progress"


def _check_registration_without_skills(lake: Lake, event_id: str) -> None:
    agent = lake.read(AGENTS).filter(pl.col("agent_id") == "agent-7").row(0, named=True)
    assert agent["registered_at"] == _at(BAD_AT)
    assert agent["client_type"] == "agent"


_PROGRESS_ROW = {"intent": "progress", "sender": "agent-1", "recipient": "marcus"}
CASES: dict[str, Case] = {
    "progress_as_words": Case(
        {
            CONVERSATIONS_FILE: [
                _assigned(10),
                _progress(BAD_AT, {"task_id": "T1", "status": "in_progress", "progress": "fifty"}),
            ]
        },
        MESSAGES,
        _PROGRESS_ROW | {"task_id": "T1", "progress": None, "status": "in_progress"},
        MESSAGES.name,
        "progress",
        "$.metadata.progress",
        ("expected a number", "fifty", "kept as null"),
        "fifty",
        check=_check_progress_keeps_task,
    ),
    "progress_above_100": Case(
        {
            CONVERSATIONS_FILE: [
                _assigned(10),
                _progress(BAD_AT, {"task_id": "T1", "status": "in_progress", "progress": 150}),
            ]
        },
        MESSAGES,
        _PROGRESS_ROW | {"task_id": "T1", "progress": None},
        MESSAGES.name,
        "progress",
        "$.metadata.progress",
        ("outside [0, 100]", "kept as null"),
        150,
        check=_check_no_progress_metric,
    ),
    "progress_below_0": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, {"task_id": "T1", "progress": -5})]},
        MESSAGES,
        _PROGRESS_ROW | {"task_id": "T1", "progress": None},
        MESSAGES.name,
        "progress",
        "$.metadata.progress",
        ("outside [0, 100]",),
        -5,
    ),
    "progress_as_number_text": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, {"task_id": "T1", "progress": "50"})]},
        MESSAGES,
        _PROGRESS_ROW | {"progress": 50},
        MESSAGES.name,
        "progress",
        "$.metadata.progress",
        ("a number written as text", "converted"),
        "50",
    ),
    "task_id_as_number": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, {"task_id": 123, "progress": 40})]},
        MESSAGES,
        _PROGRESS_ROW | {"task_id": "123", "progress": 40},
        MESSAGES.name,
        "task_id",
        "$.metadata.task_id",
        ("an id written as a number", "kept as its text"),
        123,
        check=_check_numeric_id_names_the_task,
    ),
    "task_id_as_a_large_number": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, {"task_id": 1613836499453740712})]},
        MESSAGES,
        {"task_id": "1613836499453740712"},
        MESSAGES.name,
        "task_id",
        "$.metadata.task_id",
        ("number",),
        1613836499453740712,
    ),
    "task_id_empty": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, {"task_id": "", "progress": 40})]},
        MESSAGES,
        _PROGRESS_ROW | {"task_id": None, "progress": 40},
        MESSAGES.name,
        "task_id",
        "$.metadata.task_id",
        ("empty id", "kept as null"),
        "",
    ),
    "metadata_as_text": Case(
        {CONVERSATIONS_FILE: [_progress(BAD_AT, "task T1 at 50 percent")]},
        MESSAGES,
        _PROGRESS_ROW
        | {
            "text": "Progress update: Halfway there (50%)",
            "agent_id": "agent-1",
            "task_id": None,
            "progress": None,
            "status": None,
            "project_id": None,
            "priority": None,
            "estimated_hours": None,
        },
        MESSAGES.name,
        "metadata",
        "$.metadata",
        ("expected an object", "varchar", "kept as null"),
        "task T1 at 50 percent",
        check=_check_metadata_string,
    ),
    "confidence_as_words": Case(
        {CONVERSATIONS_FILE: [_decision(BAD_AT, confidence_score="high")]},
        DECISIONS,
        {
            "decision": "Assign task 'Build API' to agent-1",
            "confidence": None,
            "confidence_is_placeholder": False,
            "alternatives_count": 1,
            "task_name": "Build API",
            "agent_id": "agent-1",
        },
        DECISIONS.name,
        "confidence",
        "$.confidence_score",
        ("expected a number", "high", "kept as null"),
        "high",
    ),
    "confidence_above_1": Case(
        {CONVERSATIONS_FILE: [_decision(BAD_AT, confidence_score=1.7)]},
        DECISIONS,
        {"confidence": None, "rationale": "Best skill match and highest priority"},
        DECISIONS.name,
        "confidence",
        "$.confidence_score",
        ("outside [0, 1]", "kept as null"),
        1.7,
    ),
    "alternatives_as_object": Case(
        {CONVERSATIONS_FILE: [_decision(BAD_AT, alternatives_considered={"task": "Other 1"})]},
        DECISIONS,
        {"alternatives": None, "alternatives_count": 0, "confidence": 0.85},
        DECISIONS.name,
        "alternatives",
        "$.alternatives_considered",
        ("expected a list", "object", "kept as null"),
        {"task": "Other 1"},
    ),
    "tool_call_duration_as_words": Case(
        {
            AUDIT_FILE: [
                _tool_call(10),
                _tool_call(
                    BAD_AT,
                    details={"arguments": {}, "result": {"success": True}, "duration_ms": "slow"},
                ),
            ]
        },
        SYSTEM_EVENTS,
        {
            "stream": "audit",
            "event_type": "tool_call",
            "action": "request_next_task",
            "duration_ms": None,
            "success": True,
            "result_success": True,
            "actor": "agent-1",
        },
        SYSTEM_EVENTS.name,
        "duration_ms",
        "$.details.duration_ms",
        ("expected a number", "slow", "kept as null"),
        "slow",
        check=_check_no_duration_metric,
    ),
    "audit_success_as_words": Case(
        {AUDIT_FILE: [_tool_call(BAD_AT, tool="ping", success="yes")]},
        SYSTEM_EVENTS,
        {"success": None, "result_success": True, "duration_ms": 243.5, "action": "ping"},
        SYSTEM_EVENTS.name,
        "success",
        "$.success",
        ("expected true or false", "varchar", "kept as null"),
        "yes",
        check=_check_success_unknown,
    ),
    "metric_value_as_words": Case(
        {SENECA_FILE: [_metric(BAD_AT, value="NaN-ish text")]},
        METRICS,
        {
            "name": "seneca.ingest_lines",
            "value": None,
            "unit": "count",
            "tags": '{"run":"a"}',
            "derivation": "given",
            "source": "seneca.metrics",
        },
        METRICS.name,
        "value",
        "$.data.value",
        ("expected a number", "NaN-ish text", "kept as null"),
        "NaN-ish text",
    ),
    "metric_tags_as_text": Case(
        {SENECA_FILE: [_metric(BAD_AT, tags="env=prod,host=a")]},
        METRICS,
        {"name": "seneca.ingest_lines", "value": 12.0, "tags": "{}", "derivation": "given"},
        METRICS.name,
        "tags",
        "$.data.tags",
        ("expected an object", "varchar", "kept as null"),
        "env=prod,host=a",
    ),
    "project_progress_as_words": Case(
        {REALTIME_FILE: [_project_state(10, 28.57), _project_state(BAD_AT, "lots")]},
        SYSTEM_EVENTS,
        {
            "stream": "realtime",
            "event_type": "project_state_refreshed",
            "category": "audit",
            "actor": "marcus",
        },
        METRICS.name,
        "value",
        "$.project_state.progress_percent",
        ("expected a number", "lots", "kept as null"),
        "lots",
        check=_check_project_metric_kept_null,
    ),
    "estimated_hours_as_words": Case(
        {AGENT_EVENTS_FILE: [_ae_assignment(BAD_AT, "four")]},
        TASK_EVENTS,
        {
            "task_id": "T9",
            "source": "agent_events",
            "fact": "assigned",
            "agent_id": "agent-1",
            "name": "Write docs",
            "priority": "high",
            "estimated_hours": None,
        },
        TASK_EVENTS.name,
        "estimated_hours",
        "$.data.task.estimated_hours",
        ("expected a number", "four", "kept as null"),
        "four",
        check=_check_assignment_without_estimate,
    ),
    "registration_skills_as_text": Case(
        {REALTIME_FILE: [_registration(BAD_AT, skills="python, testing")]},
        AGENTS,
        {"name": "Unicorn 7", "role": "Developer", "skills": None},
        AGENTS.name,
        "skills",
        "$.skills",
        ("expected a list", "varchar", "kept as null"),
        "python, testing",
        key="agent-7",
        check=_check_registration_without_skills,
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_an_unusable_field_keeps_its_row_and_is_recorded(logs: Path, lake_dir: Path, case: Case):
    write_logs(logs, case.files)
    lake = run_pipeline(logs, lake_dir)
    event_id = _event_id(lake, BAD_AT)

    key_column = _EVENT_COLUMN.get(case.table.name, "event_id")
    rows = lake.read(case.table).filter(pl.col(key_column) == (case.key or event_id))
    assert rows.height == 1, f"the row of the bad line is not kept once in {case.table.name}"
    row = rows.row(0, named=True)
    assert {name: row[name] for name in case.row} == case.row

    issues = _issues(lake, event_id).filter(
        (pl.col("table") == case.issue_table) & (pl.col("field_path") == case.field_path)
    )
    assert issues.height == 1, _issues(lake, event_id)
    issue = issues.row(0, named=True)
    if case.column is not None:
        assert issue["column"] == case.column
    for text in case.reasons:
        assert text in issue["reason"]
    assert json.loads(issue["value"]) == case.value
    assert issue["event_time"] == _at(BAD_AT)
    assert issue["ingest_batch"] == 1
    if case.check is not None:
        case.check(lake, event_id)


# --------------------------------------------------------------------------------------------
# Clean lines, re-runs, and the contract's edges
# --------------------------------------------------------------------------------------------

CLEAN = {
    CONVERSATIONS_FILE: [
        _worker(1, "worker_to_pm", "Requesting next task", {"worker_info": "agent-1 asks"}),
        _decision(2),
        _assigned(3),
        _worker(
            4,
            "pm_to_worker",
            "Task assigned: Build API",
            {"task_id": "T1", "task_name": "Build API", "priority": "high", "estimated_hours": 4.0},
        ),
        _progress(5, {"task_id": "T1", "status": "in_progress", "progress": 50}),
        _worker(
            6, "worker_to_pm", "Reporting blocker: DB down", {"task_id": "T1", "severity": "high"}
        ),
        _progress(7, {"task_id": "T1", "status": "completed", "progress": 100}, "Done (100%)"),
    ],
    AUDIT_FILE: [_tool_call(8)],
    SENECA_FILE: [_metric(9)],
    REALTIME_FILE: [_registration(10, worker_id="agent-1"), _project_state(11, 28.57)],
    AGENT_EVENTS_FILE: [_ae_assignment(12, 4.0, task="T2")],
}


def test_clean_lines_record_no_issue(logs: Path, lake_dir: Path):
    write_logs(logs, CLEAN)
    lake = run_pipeline(logs, lake_dir)

    assert lake.read(DATA_QUALITY).is_empty()
    assert lake.read(MESSAGES).height == 7
    assert lake.read(DECISIONS).get_column("confidence").to_list() == [0.85]
    assert lake.read(SYSTEM_EVENTS).filter(pl.col("stream") == "audit").height == 1
    assert lake.read(TASKS).get_column("task_id").to_list() == ["T1", "T2"]
    assert lake.read(AGENTS).get_column("skills").to_list() == [["python"]]
    given = lake.read(METRICS).filter(pl.col("derivation") == "given")
    assert given.select("value", "tags").rows() == [(12.0, '{"run":"a"}')]


def test_a_missing_or_null_field_is_null_without_an_issue(logs: Path, lake_dir: Path):
    decided = _decision(2, confidence_score=None)
    del decided["alternatives_considered"]
    files = {
        CONVERSATIONS_FILE: [_progress(1, {"task_id": "T1", "status": None}), decided],
        AUDIT_FILE: [_tool_call(3, details={"arguments": {"agent_id": "agent-1"}})],
        SENECA_FILE: [_metric(4, value=None, tags=None)],
    }
    write_logs(logs, files)
    lake = run_pipeline(logs, lake_dir)

    assert lake.read(DATA_QUALITY).is_empty()
    said = lake.read(MESSAGES).filter(pl.col("kind") == "worker_communication")
    assert said.select("task_id", "progress", "status").rows() == [("T1", None, None)]
    decision = lake.read(DECISIONS).row(0, named=True)
    assert (decision["confidence"], decision["alternatives"]) == (None, None)
    assert decision["alternatives_count"] == 0
    call = lake.read(SYSTEM_EVENTS).row(0, named=True)
    assert (call["duration_ms"], call["result_success"], call["success"]) == (None, None, True)
    given = lake.read(METRICS).filter(pl.col("derivation") == "given")
    assert given.select("value", "tags").rows() == [(None, "{}")]


BAD_LINES = {
    CONVERSATIONS_FILE: [
        _progress(1, {"task_id": 123, "progress": "fifty"}),
        _decision(2, confidence_score="high", alternatives_considered={"a": 1}),
    ],
    AUDIT_FILE: [_tool_call(3, success="yes", details={"duration_ms": "slow"})],
    SENECA_FILE: [_metric(4, value="NaN-ish text", tags="x")],
    REALTIME_FILE: [_project_state(5, "lots"), _registration(6, skills="python")],
    AGENT_EVENTS_FILE: [_ae_assignment(7, "four")],
}
MORE_BAD_LINES = {
    CONVERSATIONS_FILE: [_progress(41, {"task_id": "T1", "progress": 150})],
    REALTIME_FILE: [_registration(42, role=["dev"])],
}


def test_rebuilding_records_each_issue_once(logs: Path, lake_dir: Path):
    write_logs(logs, BAD_LINES)
    lake = run_pipeline(logs, lake_dir)
    first = lake.read(DATA_QUALITY).sort("issue_id")
    assert set(first.select("table", "column").rows()) >= {
        (MESSAGES.name, "task_id"),
        (MESSAGES.name, "progress"),
        (DECISIONS.name, "confidence"),
        (DECISIONS.name, "alternatives"),
        (SYSTEM_EVENTS.name, "success"),
        (SYSTEM_EVENTS.name, "duration_ms"),
        (METRICS.name, "value"),
        (METRICS.name, "tags"),
        (AGENTS.name, "skills"),
        (TASK_EVENTS.name, "estimated_hours"),
    }
    assert first.filter(pl.col("table") == METRICS.name).height == 3  # a metric and a state
    assert first.get_column("issue_id").is_unique().all()

    report = build_silver(lake)
    assert report.issues == 0
    assert lake.read(DATA_QUALITY).sort("issue_id").equals(first)

    ingest(IngestSettings(log_dir=logs, lake_dir=lake_dir, tail_grace_s=0))  # nothing new
    build_silver(lake)
    assert lake.read(DATA_QUALITY).sort("issue_id").equals(first)

    write_logs(logs, MORE_BAD_LINES, append=True)
    lake = run_pipeline(logs, lake_dir)
    build_silver(lake)
    after = lake.read(DATA_QUALITY)
    assert after.get_column("issue_id").is_unique().all()
    assert after.filter(pl.col("ingest_batch") == 1).sort("issue_id").equals(first)
    added = after.filter(pl.col("ingest_batch") == 2).sort("column")
    assert added.select("table", "column").rows() == [
        (MESSAGES.name, "progress"),
        (AGENTS.name, "role"),
    ]


def test_issues_of_one_build_equal_those_of_two(tmp_path: Path):
    once, twice = tmp_path / "once", tmp_path / "twice"
    for folder in (once, twice):
        (folder / "logs").mkdir(parents=True)
    write_logs(once / "logs", BAD_LINES)
    write_logs(once / "logs", MORE_BAD_LINES, append=True)
    write_logs(twice / "logs", BAD_LINES)
    run_pipeline(twice / "logs", twice / "lake")
    write_logs(twice / "logs", MORE_BAD_LINES, append=True)

    columns = ["issue_id", "event_id", "table", "column", "field_path", "reason", "value"]
    whole = run_pipeline(once / "logs", once / "lake").read(DATA_QUALITY).select(columns)
    parts = run_pipeline(twice / "logs", twice / "lake").read(DATA_QUALITY).select(columns)
    assert whole.sort("issue_id").equals(parts.sort("issue_id"))


# --------------------------------------------------------------------------------------------
# Regressions: bugs these tests found (non-finite text, issues of dropped rows, column names)
# --------------------------------------------------------------------------------------------


def test_non_finite_number_text_is_unusable(logs: Path, lake_dir: Path):
    write_logs(
        logs,
        {
            SENECA_FILE: [_metric(BAD_AT, value="NaN")],
            AUDIT_FILE: [
                _tool_call(BAD_AT + 1, details={"arguments": {}, "duration_ms": "Infinity"})
            ],
        },
    )
    lake = run_pipeline(logs, lake_dir)
    metric_event, call_event = _event_id(lake, BAD_AT), _event_id(lake, BAD_AT + 1)

    given = lake.read(METRICS).filter(pl.col("event_id") == metric_event)
    assert given.get_column("value").to_list() == [None]
    call = lake.read(SYSTEM_EVENTS).filter(pl.col("event_id") == call_event)
    assert call.get_column("duration_ms").to_list() == [None]
    assert _duration_metrics(lake, call_event).is_empty()
    for event_id in (metric_event, call_event):
        (reason,) = _issues(lake, event_id).get_column("reason").to_list()
        assert "kept as null" in reason


def test_every_issue_names_a_row_its_table_keeps(logs: Path, lake_dir: Path):
    write_logs(
        logs,
        {
            AUDIT_FILE: [_tool_call(BAD_AT, tool="ping", success="yes")],
            REALTIME_FILE: [_project_state(BAD_AT + 1, "lots")],
        },
    )
    lake = run_pipeline(logs, lake_dir)

    keys = {
        MESSAGES.name: (MESSAGES, "event_id"),
        SYSTEM_EVENTS.name: (SYSTEM_EVENTS, "event_id"),
        DECISIONS.name: (DECISIONS, "decision_id"),
        TASK_EVENTS.name: (TASK_EVENTS, "event_id"),
        METRICS.name: (METRICS, "event_id"),
    }
    issues = lake.read(DATA_QUALITY)
    assert issues.height >= 2
    orphans = []
    for issue in issues.iter_rows(named=True):
        spec, column = keys[issue["table"]]
        if lake.read(spec).filter(pl.col(column) == issue["event_id"]).is_empty():
            orphans.append((issue["table"], issue["column"], issue["field_path"]))
    assert orphans == []


def test_an_issue_names_the_column_left_null(logs: Path, lake_dir: Path):
    write_logs(logs, {AGENT_EVENTS_FILE: [_ae_assignment(BAD_AT, "four")]})
    lake = run_pipeline(logs, lake_dir)

    (issue,) = _issues(lake, _event_id(lake, BAD_AT)).iter_rows(named=True)
    assert issue["table"] == TASK_EVENTS.name
    assert issue["column"] in lake.read(TASK_EVENTS).columns
    assert issue["column"] == "estimated_hours"
