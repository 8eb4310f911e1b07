"""Tests of the Marcus deployment simulator: shapes, determinism and ground truth."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from seneca_assets.lib.simulate import (
    GROUND_TRUTH_FILE,
    NAIVE_UTC_OFFSET_HOURS,
    GroundTruth,
    simulate_deployment,
)

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "marcus-samples"

Z_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
AWARE_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")
NAIVE_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")

STREAM_OF_PREFIX = {
    "conversations": "conversations",
    "decisions": "decisions",
    "realtime": "realtime",
    "agent": "agent_events",
    "audit": "audit",
    "seneca": "seneca_events",
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("deployment")
    return out, simulate_deployment(out, days=4, agents=3, seed=11)


@pytest.fixture(scope="module")
def old_deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    out = tmp_path_factory.mktemp("old_deployment")
    start = datetime(2025, 10, 27, tzinfo=UTC)
    return out, simulate_deployment(out, days=7, agents=2, seed=3, start=start)


def iso_z(value: datetime) -> str:
    """A datetime as Marcus's structlog writes it."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl"))


def stream_of(path: Path) -> str:
    return STREAM_OF_PREFIX[path.name.split("_")[0]]


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def records_by_stream(root: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in log_files(root):
        out[stream_of(path)].extend(read_records(path))
    return out


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        simulate_deployment(tmp_path / name, days=2, agents=2, seed=seed)
    first, second = all_bytes(tmp_path / "a"), all_bytes(tmp_path / "b")
    assert first == second
    assert first != all_bytes(tmp_path / "c")


def test_layout_mirrors_a_marcus_root(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    names = {p.relative_to(root).parts[:-1] for p in log_files(root)}
    assert names == {
        ("logs", "conversations"),
        ("logs", "agent_events"),
        ("data", "audit_logs"),
        ("seneca",),
    }
    assert (root / GROUND_TRUTH_FILE).is_file()
    stamps = Counter(stream_of(p) for p in log_files(root))
    assert stamps["conversations"] == stamps["decisions"]
    assert stamps["agent_events"] == stamps["audit"] == stamps["seneca_events"] == 4
    assert 1 <= stamps["realtime"] < stamps["conversations"]
    for path in (root / "logs" / "conversations").glob("conversations_*.jsonl"):
        assert (path.parent / path.name.replace("conversations_", "decisions_")).is_file()
    assert truth.end - truth.start == timedelta(days=4)


def test_every_line_is_a_json_object_with_its_streams_timestamp_shape(
    deployment: tuple[Path, GroundTruth],
) -> None:
    root, _ = deployment
    for path in log_files(root):
        stream = stream_of(path)
        shape = Z_SHAPE if stream in ("conversations", "decisions") else AWARE_SHAPE
        text = path.read_text()
        assert text == "" or text.endswith("\n"), path
        for number, line in enumerate(text.splitlines(), start=1):
            record = json.loads(line)
            assert isinstance(record, dict)
            assert shape.match(record["timestamp"]), (path.name, number, record["timestamp"])
            assert line == json.dumps(record), "written with json.dumps defaults"


def test_lines_are_in_time_order_and_daily_files_hold_their_day(
    deployment: tuple[Path, GroundTruth],
) -> None:
    root, _ = deployment
    for path in log_files(root):
        records = read_records(path)
        stamps = [r["timestamp"] for r in records if r.get("type") != "ping_response"]
        assert stamps == sorted(stamps), path.name
        if stream_of(path) in ("agent_events", "audit", "seneca_events"):
            day = path.stem.rsplit("_", 1)[1]
            assert {r["timestamp"][:10].replace("-", "") for r in records} == {day}


def test_decisions_file_is_the_conversations_file_without_pm_thinking(
    deployment: tuple[Path, GroundTruth],
) -> None:
    root, _ = deployment
    folder = root / "logs" / "conversations"
    thinking_seen = 0
    for conv in folder.glob("conversations_*.jsonl"):
        lines = conv.read_text().splitlines(keepends=True)
        kept = [line for line in lines if json.loads(line)["event"] != "pm_thinking"]
        thinking_seen += len(lines) - len(kept)
        decisions = folder / conv.name.replace("conversations_", "decisions_")
        assert decisions.read_text() == "".join(kept)
    assert thinking_seen > 0


def test_empty_process_files_exist_in_pairs(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    folder = root / "logs" / "conversations"
    empty = [p for p in folder.glob("conversations_*.jsonl") if p.stat().st_size == 0]
    assert len(empty) >= 3 * 3  # several per day
    for path in empty:
        twin = folder / path.name.replace("conversations_", "decisions_")
        assert twin.stat().st_size == 0
        assert truth.files[str(path.relative_to(root))] == 0


def test_ground_truth_counts_match_the_files(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    on_disk = {str(p.relative_to(root)): p for p in log_files(root)}
    assert set(truth.files) == set(on_disk)
    per_stream: Counter[str] = Counter()
    for rel, path in on_disk.items():
        n_lines = len(path.read_text().splitlines())
        assert truth.files[rel] == n_lines, rel
        per_stream[stream_of(path)] += n_lines
    assert truth.lines_by_stream == {s: per_stream[s] for s in truth.lines_by_stream}
    assert "decisions" not in truth.lines_by_stream
    assert truth.bytes_written == sum(p.stat().st_size for p in on_disk.values())


def test_ground_truth_times_are_the_lines_written(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    progress: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    assigned: set[tuple[str, str, str]] = set()
    for record in records_by_stream(root)["conversations"]:
        if record["event"] != "worker_communication":
            continue
        meta, ts = record["metadata"], record["timestamp"]
        if record["message"].startswith("Progress update: "):
            progress[(meta["task_id"], ts)].append(meta)
        elif record["message"].startswith("Assigned task: "):
            assigned.add((meta["task_id"], record["worker_id"], ts))
    completed = [t for t in truth.tasks if t.status == "completed"]
    assert len(completed) > 10
    for task in completed:
        assert task.completed_at is not None and task.assigned_at is not None
        (meta,) = progress[(task.task_id, iso_z(task.completed_at))]
        assert meta["progress"] == 100 and meta["status"] == "completed"
        assert (task.task_id, task.agent_id, iso_z(task.assigned_at)) in assigned
        assert task.assigned_at <= (task.first_progress_at or task.completed_at)
        assert task.first_progress_at is not None
        assert task.first_progress_at <= task.completed_at
    for task in truth.tasks:
        if task.status == "todo":
            assert task.agent_id is None and task.assigned_at is None


def test_blockers_and_statuses_are_consistent(tmp_path: Path) -> None:
    truth = simulate_deployment(tmp_path, days=7, agents=6, seed=2)
    statuses = Counter(t.status for t in truth.tasks)
    assert set(statuses) <= {"completed", "blocked", "unassigned", "in_progress", "todo"}
    blocked_lines = {
        (r["metadata"]["task_id"], r["timestamp"], r["metadata"]["severity"], r["message"])
        for r in records_by_stream(tmp_path)["conversations"]
        if r.get("message", "").startswith("Reporting blocker: ")
    }
    truth_blockers = {
        (t.task_id, iso_z(b["at"]), b["severity"], f"Reporting blocker: {b['text']}")
        for t in truth.tasks
        for b in t.blockers
    }
    assert truth_blockers and truth_blockers == blocked_lines
    unassigned = sum(
        1
        for r in records_by_stream(tmp_path)["conversations"]
        if re.fullmatch(r"Task \S+ unassigned - reset to TODO", r.get("message", ""))
    )
    reassigned = sum(t.reassignments for t in truth.tasks)
    assert reassigned <= unassigned


def test_ground_truth_json_round_trips(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    text = (root / GROUND_TRUTH_FILE).read_text()
    assert GroundTruth.from_json(text) == truth
    raw = json.loads(text)
    assert raw["start"] == "2026-11-01T00:00:00Z"
    assert raw["naive_utc_offset_hours"] == NAIVE_UTC_OFFSET_HOURS
    assert {"id", "name", "role", "skills"} <= set(raw["agents"][0])


def test_one_agent_has_one_id_across_streams(deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = deployment
    ids = {a["id"] for a in truth.agents}
    records = records_by_stream(root)
    conv = {r["worker_id"] for r in records["conversations"] if "worker_id" in r}
    realtime = {r["agent_id"] for r in records["realtime"] if r.get("type") == "task_assignment"}
    events = {r["data"]["worker_id"] for r in records["agent_events"] if "worker_id" in r["data"]}
    audit = {r["client_id"] for r in records["audit"] if r["client_type"] == "agent"}
    assert conv == realtime == ids
    assert ids <= events and ids <= audit


def test_pm_decisions_use_constant_confidence_per_call_site(
    deployment: tuple[Path, GroundTruth],
) -> None:
    root, _ = deployment
    assignments = [
        r
        for r in records_by_stream(root)["conversations"]
        if r["event"] == "pm_decision" and r["decision"].startswith("Assign task ")
    ]
    assert assignments
    assert {r["confidence_score"] for r in assignments} == {0.85}
    others = {json.dumps(r["alternatives_considered"]) for r in assignments}
    assert others == {
        '[{"task": "Other Task 1", "score": 0.7}, {"task": "Other Task 2", "score": 0.6}]'
    }


def test_some_conversation_lines_are_several_kilobytes(
    deployment: tuple[Path, GroundTruth],
) -> None:
    root, _ = deployment
    sizes = [
        len(line)
        for path in (root / "logs" / "conversations").glob("conversations_*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert max(sizes) > 3000
    assert min(sizes) < 600


def test_audit_durations_look_like_marcus(tmp_path: Path) -> None:
    simulate_deployment(tmp_path, days=5, agents=8, seed=4)
    audit = records_by_stream(tmp_path)["audit"]
    durations = sorted(r["details"]["duration_ms"] for r in audit if r["event_type"] == "tool_call")
    median = durations[len(durations) // 2]
    assert 30 < median < 2000
    assert durations[-1] <= 20_353.05 and durations[0] > 0
    assert {r["event_type"] for r in audit} == {"tool_call", "access_denied", "client_registration"}


def test_activity_follows_working_hours_and_weekdays(tmp_path: Path) -> None:
    truth = simulate_deployment(tmp_path, days=14, agents=4, seed=8)
    local = [
        t.first_assigned_at + timedelta(hours=NAIVE_UTC_OFFSET_HOURS)
        for t in truth.tasks
        if t.first_assigned_at is not None
    ]
    day = sum(1 for t in local if 9 <= t.hour < 17)
    night = sum(1 for t in local if 0 <= t.hour < 6)
    assert day > 4 * max(1, night)
    weekday = sum(1 for t in local if t.weekday() < 5) / 5
    weekend = sum(1 for t in local if t.weekday() >= 5) / 2
    assert weekday > 1.5 * weekend


def test_naive_timestamps_before_the_cutovers(old_deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = old_deployment
    assert truth.naive_utc_offset_hours == NAIVE_UTC_OFFSET_HOURS
    shapes: dict[str, Counter[str]] = defaultdict(Counter)
    for path in log_files(root):
        stream = stream_of(path)
        for record in read_records(path):
            ts = record["timestamp"]
            shape = "z" if Z_SHAPE.match(ts) else "aware" if AWARE_SHAPE.match(ts) else "naive"
            assert shape != "naive" or NAIVE_SHAPE.match(ts)
            shapes[stream][shape] += 1
    for stream in ("realtime", "audit", "agent_events"):
        assert shapes[stream]["naive"] > 0 and shapes[stream]["aware"] > 0, stream
    assert set(shapes["conversations"]) == {"z"}
    assert set(shapes["seneca_events"]) == {"aware"}


def test_naive_file_names_use_the_local_clock(old_deployment: tuple[Path, GroundTruth]) -> None:
    root, truth = old_deployment
    first_realtime = sorted((root / "logs" / "conversations").glob("realtime_*.jsonl"))[0]
    local_start = truth.start + timedelta(hours=truth.naive_utc_offset_hours)
    assert first_realtime.name.startswith(f"realtime_{local_start:%Y%m%d}")
    first_record = read_records(first_realtime)[0]
    assert first_record["type"] == "server_startup"
    assert NAIVE_SHAPE.match(first_record["timestamp"])
    assert (root / "data" / "audit_logs" / f"audit_{local_start:%Y%m%d}.jsonl").is_file()


def test_partial_tail_leaves_an_unterminated_last_line(tmp_path: Path) -> None:
    truth = simulate_deployment(tmp_path, days=2, agents=2, seed=9, partial_tail=True)
    folder = tmp_path / "logs" / "conversations"
    newest = max(folder.glob("conversations_*.jsonl"))
    text = newest.read_text()
    assert not text.endswith("\n")
    complete, tail = text.rsplit("\n", 1)
    with pytest.raises(json.JSONDecodeError):
        json.loads(tail)
    assert truth.files[str(newest.relative_to(tmp_path))] == len(complete.splitlines())
    twin = folder / newest.name.replace("conversations_", "decisions_")
    assert twin.read_text().endswith("\n")
    total = sum(len(p.read_text().splitlines()) for p in folder.glob("conversations_*.jsonl"))
    assert truth.lines_by_stream["conversations"] == total - 1
    assert truth.bytes_written == sum(p.stat().st_size for p in log_files(tmp_path))


def test_volume_grows_with_days_times_agents(tmp_path: Path) -> None:
    small = simulate_deployment(tmp_path / "s", days=3, agents=3, seed=1).bytes_written
    large = simulate_deployment(tmp_path / "l", days=6, agents=6, seed=1).bytes_written
    assert 2.5 < large / small < 5.5


def test_rejects_empty_deployments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        simulate_deployment(tmp_path, days=0)
    with pytest.raises(ValueError, match="at least 1"):
        simulate_deployment(tmp_path, agents=0)


# ------------------------------------------------------------------ key order against the samples


def sample_records(pattern: str) -> list[dict[str, Any]]:
    paths = sorted(SAMPLES.glob(pattern))
    if not paths:
        pytest.skip(f"Marcus samples not found under {SAMPLES}")
    return [r for path in paths for r in read_records(path)]


def conv_kind(record: dict[str, Any]) -> str:
    event = record["event"]
    return "mcp_failure" if event.startswith("MCP tool '") else event


def message_kind(record: dict[str, Any]) -> str:
    return record["message"].split(":")[0]


def test_conversation_key_order_matches_the_samples(
    deployment: tuple[Path, GroundTruth], old_deployment: tuple[Path, GroundTruth]
) -> None:
    expected = {conv_kind(r): list(r) for r in sample_records("synthetic/conversations_*.jsonl")}
    expected_meta = {
        message_kind(r): list(r["metadata"])
        for r in sample_records("synthetic/conversations_*.jsonl")
        if r["event"] == "worker_communication"
    }
    seen: set[str] = set()
    for root, _ in (deployment, old_deployment):
        for record in records_by_stream(root)["conversations"]:
            kind = conv_kind(record)
            assert list(record) == expected[kind], kind
            seen.add(kind)
            if kind == "worker_communication" and message_kind(record) in expected_meta:
                assert list(record["metadata"]) == expected_meta[message_kind(record)]
    assert seen >= {"worker_communication", "pm_thinking", "pm_decision", "kanban_interaction"}


def test_realtime_key_order_matches_the_samples(deployment: tuple[Path, GroundTruth]) -> None:
    expected: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    nested: dict[str, list[str]] = {}
    for record in sample_records("synthetic/realtime_*.jsonl"):
        expected[record["type"]].add(tuple(record))
        if "project_state" in record:
            nested[record["type"]] = list(record["project_state"])
    matched = 0
    for record in records_by_stream(deployment[0])["realtime"]:
        assert list(record)[:2] == ["timestamp", "type"]
        if record["type"] in expected:
            assert tuple(record) in expected[record["type"]], record["type"]
            matched += 1
        if record["type"] in nested:
            assert list(record["project_state"]) == nested[record["type"]]
            state = record["project_state"]
            assert (state["blocked_tasks"], state["team_velocity"]) == (0, 0.0)
            assert (state["risk_level"], state["project_name"]) == ("low", "Current Project")
    assert matched > 0


def test_agent_events_key_order_matches_the_samples(deployment: tuple[Path, GroundTruth]) -> None:
    expected = {
        r["event_type"]: (list(r), list(r["data"]))
        for r in sample_records("synthetic/agent_events_*.jsonl")
    }
    seen: set[str] = set()
    for record in records_by_stream(deployment[0])["agent_events"]:
        keys, data_keys = expected[record["event_type"]]
        assert list(record) == keys
        if record["event_type"] != "planning_start" or "project_name" in record["data"]:
            assert list(record["data"]) == data_keys, record["event_type"]
        if record["event_type"] == "task_assignment":
            assert list(record["data"]["task"]) == ["id", "name", "priority", "estimated_hours"]
        seen.add(record["event_type"])
    assert {"task_request", "task_assignment", "progress_update", "ping_request"} <= seen


def successful_results(real: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first successful tool result of each tool in the real audit samples."""
    out: dict[str, dict[str, Any]] = {}
    for record in real:
        result = record["details"].get("result")
        if isinstance(result, dict) and result.get("success"):
            out.setdefault(record["tool_name"], result)
    return out


def test_audit_key_order_matches_the_real_samples(deployment: tuple[Path, GroundTruth]) -> None:
    real = sample_records("real/audit_logs/audit_*.jsonl")
    expected = {(r["event_type"], "error" in r): list(r) for r in real}
    details = {r["event_type"]: list(r["details"]) for r in real if "error" not in r}
    results = successful_results(real)
    checked: Counter[str] = Counter()
    for record in records_by_stream(deployment[0])["audit"]:
        assert list(record) == expected[(record["event_type"], "error" in record)]
        assert record["context"] == {"host": "unknown", "transport": "stdio", "version": "unknown"}
        assert list(record["details"]) == details[record["event_type"]]
        result = record["details"].get("result")
        tool = record["tool_name"]
        if tool in ("ping", "authenticate", "register_agent", "report_task_progress") and result:
            assert list(result) == list(results[tool]), tool
            checked[tool] += 1
        if tool == "request_next_task" and result and "task" in result:
            assert list(result) == list(results[tool])
            assert list(result["task"]) == list(results[tool]["task"])
            assert list(result["task"]["full_context"]) == list(
                results[tool]["task"]["full_context"]
            )
            checked[tool] += 1
    assert set(checked) == {
        "ping",
        "authenticate",
        "register_agent",
        "report_task_progress",
        "request_next_task",
    }
