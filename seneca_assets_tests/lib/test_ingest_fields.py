"""The columns lifted from each stream: kind, agent, task and project, as Marcus writes them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import EVENTS
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.conftest import copy_tree

TS = "2026-11-27T10:00:00.000001+00:00"


def _columns(settings: IngestSettings) -> list[tuple]:
    """(stream, kind, agent_id, task_id, project_id) of each event, in file and line order."""
    events = Lake(settings.lake_dir).read(EVENTS).sort("source_file", "line_number")
    return events.select("stream", "kind", "agent_id", "task_id", "project_id").rows()


def _write(folder: Path, name: str, records: list[dict]) -> None:
    lines = [json.dumps({"timestamp": TS, "n": i, **r}) for i, r in enumerate(records)]
    (folder / name).write_text("\n".join(lines) + "\n")


def test_each_stream_names_agent_task_and_project_where_marcus_writes_them(
    settings: IngestSettings,
):
    _write(
        settings.log_dir,
        "conversations_20261127_100000.jsonl",
        [
            {
                "event": "worker_communication",
                "worker_id": "agent-1",
                "metadata": {"task_id": "1613836499453740712", "project_id": "p-uuid"},
            },
            # Older records carry both `event_type` and `event`: the stream's `event` wins.
            {
                "event_type": "assignment",
                "event": "task_assignment",
                "task_id": "T1",
                "worker_id": "agent-2",
            },
        ],
    )
    _write(
        settings.log_dir,
        "realtime_20261127_100000.jsonl",
        [
            {"type": "task_assignment", "agent_id": "agent_unicorn_1", "task_id": "T-3"},
        ],
    )
    _write(
        settings.log_dir,
        "agent_events_20261127.jsonl",
        [
            {
                "event_type": "task_assignment",
                "data": {"worker_id": "agent-1", "task": {"id": "task-001_sub_1"}},
            },
            {"event_type": "progress_update", "data": {"agent_id": "agent-3", "task_id": "T9"}},
        ],
    )
    _write(
        settings.log_dir,
        "audit_20261127.jsonl",
        [
            {
                "event_type": "tool_call",
                "client_id": "claude-agent-001",
                "details": {"arguments": {"task_id": "T7", "project_id": "p2"}},
            },
            {
                "event_type": "tool_call",
                "client_id": None,
                "details": {"arguments": {"agent_id": "agent-9"}},
            },
        ],
    )
    ingest(settings)

    assert sorted(_columns(settings)) == sorted(
        [
            ("conversations", "worker_communication", "agent-1", "1613836499453740712", "p-uuid"),
            ("conversations", "task_assignment", "agent-2", "T1", None),
            ("realtime", "task_assignment", "agent_unicorn_1", "T-3", None),
            ("agent_events", "task_assignment", "agent-1", "task-001_sub_1", None),
            ("agent_events", "progress_update", "agent-3", "T9", None),
            ("audit", "tool_call", "claude-agent-001", "T7", "p2"),
            ("audit", "tool_call", "agent-9", None, None),
        ]
    )


def test_identifiers_are_text_or_numbers_and_the_next_one_named_counts(
    settings: IngestSettings,
):
    _write(
        settings.log_dir,
        "audit_20261127.jsonl",
        [
            {"event_type": "x", "client_id": {"nested": "object"}, "agent_id": "agent-5"},
            {"event_type": "x", "client_id": "", "worker_id": ["a"], "task_id": 42},
            {"event_type": 7, "client_id": "a1", "task_id": 4.5},
        ],
    )
    ingest(settings)

    by_line = _columns(settings)
    assert by_line[0][1:4] == ("x", "agent-5", None)
    assert by_line[1][1:4] == ("x", None, "42")
    assert by_line[2][1:4] == ("7", "a1", "4.5")  # kinds are kept as written, even numbers


def test_a_simulated_deployment_ingests_whole_and_matches_its_ground_truth(
    settings: IngestSettings,
):
    truth = simulate_deployment(settings.log_dir, days=2, agents=3, seed=11)
    report = ingest(settings)

    events = Lake(settings.lake_dir).read(EVENTS)
    assert report.quarantined == 0
    counts = dict(events.group_by("stream").len().iter_rows())
    assert counts == {s: n for s, n in truth.lines_by_stream.items() if n}
    completions = events.filter(
        (pl.col("kind") == "worker_communication")
        & pl.col("payload").str.contains('"status": "completed"')
    )
    done = {t.task_id: t for t in truth.tasks if t.status == "completed"}
    assert done, "the simulation completed no task"
    seen = {
        (task, agent, when)
        for task, agent, when in completions.select("task_id", "agent_id", "event_time").iter_rows()
    }
    for task in done.values():
        assert (task.task_id, task.agent_id, task.completed_at) in seen


def test_samples_keep_their_structlog_shapes(samples: Path, settings: IngestSettings):
    copy_tree(samples / "synthetic", settings.log_dir)
    ingest(settings)
    events = Lake(settings.lake_dir).read(EVENTS)
    failure = events.filter(pl.col("kind").str.starts_with("MCP tool"))
    assert failure.get_column("kind").to_list() == ["MCP tool 'request_next_task' returned failure"]
    assert events.filter(pl.col("stream") == "agent_events").get_column("agent_id").to_list()[
        :3
    ] == [None, None, "agent-1"]
