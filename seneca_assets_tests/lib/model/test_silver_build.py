"""The silver build against the simulator's ground truth, and its incremental guarantees.

A simulated deployment records what really happened (`GroundTruth`); silver must recover it from
the logs alone. Incremental runs (files growing between runs, a build killed at any moment) must
end in exactly the tables one build over everything gives.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.model.checks import KEYS, data_span, reconcile_messages, table_health
from seneca_assets.lib.model.tables import (
    AGENTS,
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    METRICS,
    SILVER_TABLES,
    TASKS,
)
from seneca_assets.lib.schemas import EVENTS, TableSpec
from seneca_assets.lib.simulate import GroundTruth, simulate_deployment

SECOND = timedelta(seconds=1)
OPEN_STATUSES = {"in_progress", "blocked", "abandoned"}


def _build(logs: Path, lake_dir: Path, chunk_bytes: int | None = None) -> Lake:
    settings = IngestSettings(logs, lake_dir, tail_grace_s=0)
    if chunk_bytes is None:
        ingest(settings)
    else:
        ingest(settings, chunk_bytes=chunk_bytes)
    lake = Lake(lake_dir)
    build_silver(lake)
    return lake


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[GroundTruth, Path, Lake]:
    root = tmp_path_factory.mktemp("deployment")
    truth = simulate_deployment(root / "logs", days=3, agents=5, seed=21)
    return truth, root / "logs", _build(root / "logs", root / "lake")


def _truth_tasks(truth: GroundTruth) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "task_id": t.task_id,
                "agent_id": t.agent_id,
                "project_id": t.project_id,
                "name": t.name,
                "priority": t.priority,
                "estimated_hours": t.estimated_hours,
                "first_assigned_at": t.first_assigned_at,
                "assigned_at": t.assigned_at,
                "first_progress_at": t.first_progress_at,
                "completed_at": t.completed_at,
                "actual_hours": t.actual_hours,
                "blockers": len(t.blockers),
                "reassignments": t.reassignments,
                "status": t.status,
            }
            for t in truth.tasks
        ]
    )


def test_every_task_is_in_silver_tasks_as_it_happened(deployment):
    truth, _, lake = deployment
    expected = _truth_tasks(truth)
    stored = lake.read(TASKS)
    joined = expected.join(stored, on="task_id", how="left", suffix="_silver")
    assert joined.get_column("status_silver").null_count() == 0, "a task is missing"
    assert stored.height == expected.height, "silver invented tasks"
    assert expected.filter(pl.col("status") == "completed").height > 20
    assert expected.get_column("blockers").sum() > 0
    exact = [
        "agent_id",
        "name",
        "priority",
        "estimated_hours",
        "first_assigned_at",
        "assigned_at",
        "first_progress_at",
        "completed_at",
        "blockers",
        "reassignments",
    ]
    for column in exact:
        wrong = joined.filter(pl.col(column).ne_missing(pl.col(f"{column}_silver")))
        assert wrong.is_empty(), f"{column}: {wrong.select('task_id', column, f'{column}_silver')}"
    assigned = joined.filter(pl.col("assigned_at").is_not_null())
    assert assigned.filter(pl.col("project_id") != pl.col("project_id_silver")).is_empty()
    done = joined.filter(pl.col("actual_hours").is_not_null())
    assert ((done["actual_hours"] - done["actual_hours_silver"]).abs() < 1e-5).all()
    for status, silver in joined.select("status", "status_silver").iter_rows():
        assert silver in (OPEN_STATUSES if status == "in_progress" else {status}), (status, silver)


def test_agents_are_one_identity_across_streams(deployment):
    truth, _, lake = deployment
    agents = lake.read(AGENTS)
    workers = agents.filter(pl.col("client_type") == "agent").sort("agent_id")
    expected = sorted(truth.agents, key=lambda a: a["id"])
    assert workers.get_column("agent_id").to_list() == [a["id"] for a in expected]
    for row, agent in zip(workers.iter_rows(named=True), expected, strict=True):
        assert (row["name"], row["role"], row["skills"]) == (
            agent["name"],
            agent["role"],
            agent["skills"],
        )
        assert row["registered_at"] is not None
        assert row["first_seen"] <= row["registered_at"] <= row["last_seen"]
        done = sum(t.status == "completed" and t.agent_id == agent["id"] for t in truth.tasks)
        assert row["tasks_completed"] == done
    others = agents.filter(pl.col("client_type") != "agent").get_column("client_type")
    assert {"admin", "observer"} <= set(others.to_list()), "clients keep their own type"


def test_per_agent_message_counts_match_the_logs(deployment):
    _, logs, lake = deployment
    counted: dict[str, int] = {}
    for path in logs.rglob("conversations_*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record.get("event") == "worker_communication":
                counted[record["worker_id"]] = counted.get(record["worker_id"], 0) + 1
    stored = (
        lake.read(MESSAGES)
        .filter(pl.col("kind") == "worker_communication")
        .group_by("agent_id")
        .len()
    )
    assert dict(stored.iter_rows()) == counted
    said = lake.read(MESSAGES).filter(pl.col("kind") == "worker_communication")
    to_pm = said.filter(pl.col("conversation_type") == "worker_to_pm")
    assert (to_pm["sender"] == to_pm["agent_id"]).all() and (to_pm["recipient"] == "marcus").all()
    to_agent = said.filter(pl.col("conversation_type") == "pm_to_worker")
    assert (to_agent["recipient"] == to_agent["agent_id"]).all()


def test_one_conversation_per_task_thread(deployment):
    truth, _, lake = deployment
    conversations = lake.read(CONVERSATIONS).with_columns(
        pl.col("context").struct.unnest(), pl.col("outcomes").struct.unnest()
    )
    threads = conversations.filter(pl.col("kind") == "task").sort("timestamp")
    assigned = [t for t in truth.tasks if t.assigned_at is not None]
    assert any(t.reassignments for t in assigned), "the deployment reassigns some task"
    by_task: dict[str, list[dict]] = {}
    for row in threads.iter_rows(named=True):
        by_task.setdefault(row["task_id"], []).append(row)
    assert set(by_task) == {t.task_id for t in assigned}
    for task in assigned:
        episodes = by_task[task.task_id]
        assert len(episodes) == 1 + task.reassignments, "one thread per assignment"
        thread = episodes[-1]
        intents = [m["intent"] for m in thread["messages"]]
        assert intents[0] == "request", "the request the assignment answered opens the thread"
        assert "assignment" in intents
        assert thread["agent_id"] == task.agent_id
        assert task.agent_id in thread["participants"] and "marcus" in thread["participants"]
        if task.status == "completed":
            assert thread["status"] == "completed"
            assert thread["ended_at"] == task.completed_at
        elif task.status == "unassigned":
            assert thread["status"] == "unassigned"
        assert sum(e["blockers"] for e in episodes) == len(task.blockers)
        times = [m["timestamp"] for m in thread["messages"]]
        assert times == sorted(times)
    sessions = conversations.filter(pl.col("kind") == "session")
    for messages in sessions.get_column("messages"):
        times = [m["timestamp"] for m in messages]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap <= timedelta(minutes=30) for gap in gaps)
    in_conversations = conversations.get_column("messages").list.len().sum()
    assert in_conversations == lake.read(MESSAGES).height, "every message in one conversation"


def test_decisions_mark_constant_confidences_as_placeholders(deployment):
    _, _, lake = deployment
    decisions = lake.read(DECISIONS)
    assignments = decisions.filter(pl.col("decision").str.starts_with("Assign task '"))
    assert assignments.height > 10
    assert assignments["confidence_is_placeholder"].all()
    assert assignments["agent_id"].null_count() == 0 and assignments["task_name"].null_count() == 0
    unassignments = decisions.filter(pl.col("decision").str.starts_with("Unassign task "))
    assert unassignments["task_id"].null_count() == 0
    assert not unassignments["confidence_is_placeholder"].any(), "no confidence, no placeholder"


def test_metrics_hold_given_and_derived_measurements(deployment):
    truth, logs, lake = deployment
    metrics = lake.read(METRICS)
    given_lines = sum(
        line.count('"type": "metric"')
        for p in logs.rglob("seneca_events_*.jsonl")
        for line in p.read_text().splitlines()
    )
    assert metrics.filter(pl.col("derivation") == "given").height == given_lines
    durations = metrics.filter(pl.col("name") == "marcus.task_duration_hours")
    expected = {t.task_id: t.actual_hours for t in truth.tasks if t.actual_hours is not None}
    stored = dict(durations.select("subject", "value").iter_rows())
    assert stored == pytest.approx(expected, abs=1e-5)
    for name in (
        "marcus.tool_call_duration_ms",
        "marcus.task_progress_pct",
        "marcus.blockers_reported",
        "marcus.project_completion_pct",
        "marcus.task_estimate_ratio",
        "marcus.task_assignment_wait_s",
        "marcus.pm_response_s",
        "marcus.active_agents",
    ):
        values = metrics.filter(pl.col("name") == name).get_column("value")
        assert values.len() > 0, name
        assert (values >= 0).all(), name
    active = metrics.filter(pl.col("name") == "marcus.active_agents").get_column("value")
    assert active.max() <= len(truth.agents)
    tags = [json.loads(text) for text in metrics.get_column("tags")]
    assert all(list(t) == sorted(t) for t in tags), "tags are canonical: sorted keys"


def test_tables_reconcile_with_bronze_and_pass_their_checks(deployment):
    _, _, lake = deployment
    span = data_span(lake)
    for table in SILVER_TABLES:
        health = table_health(lake, table, span)
        assert (health.null_keys, health.duplicate_keys, health.outside_span) == (0, 0, 0), (
            table.name
        )
    reconciliation = reconcile_messages(lake)
    assert reconciliation.bronze_events == lake.read(MESSAGES).height
    assert (reconciliation.missing, reconciliation.orphans) == (0, 0)
    bronze = lake.read(EVENTS).filter(pl.col("stream") == "conversations").height
    assert bronze == lake.read(MESSAGES).height


def test_a_rerun_changes_nothing(deployment):
    _, _, lake = deployment
    versions = {t.name: lake.table(t).version() for t in SILVER_TABLES}
    report = build_silver(lake)
    assert not any(report.rows.values())
    assert {t.name: lake.table(t).version() for t in SILVER_TABLES} == versions


def _snapshot(lake: Lake, table: TableSpec) -> pl.DataFrame:
    frame = lake.read(table)
    lineage = [c for c in ("built_batch", "ingest_batch") if c in frame.columns]
    return frame.drop(lineage).sort(KEYS[table])


def _assert_same_tables(lake: Lake, reference: Lake) -> None:
    for table in SILVER_TABLES:
        got, want = _snapshot(lake, table), _snapshot(reference, table)
        assert got.height == want.height, table.name
        assert got.equals(want), f"{table.name} differs from a full build"


def _stage(source: Path, target: Path, shares: dict[Path, float]) -> None:
    """Make every file of `target` the first share of its lines in `source`."""
    for path, share in shares.items():
        lines = path.read_bytes().splitlines(keepends=True)
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"".join(lines[: int(len(lines) * share)]))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake]:
    """A smaller deployment and the silver tables of one build over all of it."""
    root = tmp_path_factory.mktemp("small")
    simulate_deployment(root / "logs", days=2, agents=4, seed=5)
    return root / "logs", _build(root / "logs", root / "lake")


def test_incremental_runs_over_growing_files_equal_one_full_build(small, tmp_path: Path):
    logs, full = small
    rng = random.Random(3)
    files = sorted(logs.rglob("*.jsonl"))
    shares = dict.fromkeys(files, 0.0)
    for _ in range(3):
        shares = {p: min(1.0, s + rng.uniform(0.1, 0.5)) for p, s in shares.items()}
        _stage(logs, tmp_path / "logs", shares)
        _build(tmp_path / "logs", tmp_path / "lake")
    _stage(logs, tmp_path / "logs", dict.fromkeys(files, 1.0))
    lake = _build(tmp_path / "logs", tmp_path / "lake")
    _assert_same_tables(lake, full)


RUNNER = """
import sys
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model import build
build.SLICE_BATCHES = 1
print("ready", flush=True)
build.build_silver(Lake(sys.argv[1]))
print("done", flush=True)
"""


@pytest.mark.slow
def test_kill_9_during_a_build_then_rerun_equals_one_full_build(small, tmp_path: Path):
    logs, full = small
    lake_dir = tmp_path / "lake"
    ingest(IngestSettings(logs, lake_dir, tail_grace_s=0), chunk_bytes=64 << 10)
    bronze = Lake(lake_dir).read(EVENTS).get_column("ingest_batch").max()
    assert bronze > 20, "many batches, so kills land between commits"

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(lake_dir)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    started = time.monotonic()
    clean_dir = tmp_path / "clean"
    subprocess.run(["cp", "-r", str(lake_dir), str(clean_dir)], check=True)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(clean_dir)], stdout=subprocess.PIPE)
    assert proc.wait(timeout=300) == 0
    duration = time.monotonic() - started
    interrupted = 0
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        proc = start()
        time.sleep(fraction * duration)
        interrupted += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert interrupted >= 2, "too few kills landed during a build"
    build_silver(Lake(lake_dir))
    _assert_same_tables(Lake(lake_dir), full)
    _assert_same_tables(Lake(clean_dir), full)


def test_a_lost_silver_table_is_rebuilt_alone_to_what_it_was(small, tmp_path: Path):
    logs, full = small
    lake = _build(logs, tmp_path / "lake")
    for table in (CONVERSATIONS, METRICS, TASKS):
        shutil.rmtree(tmp_path / "lake" / table.name)
    build_silver(Lake(tmp_path / "lake"))
    _assert_same_tables(Lake(tmp_path / "lake"), full)
    assert lake.read(MESSAGES).height == full.read(MESSAGES).height
