"""Known data-quality problems injected into simulated Marcus logs, with their ground truth.

The generator (`simulate.py`) writes a deployment as Marcus would; `inject` then damages it the
way real installations are damaged, and returns what it did, so that the data-quality checks
(`lib/quality`) can be shown to find each problem, and nothing on the undamaged logs:
- a stream falls silent for 30 hours while the others go on (the audit log's writer stopped);
- a release adds a key (`schema_version`) to every agent event from the third day;
- a release writes `data.progress` of progress updates as text instead of a number;
- a release adds `data.hours_remaining` to progress updates, always 0.0 (a placeholder);
- one task's later records name another project (Marcus #610);
- a file's last lines are stamped a month ahead (a clock set wrong);
- one process writes a burst of broken lines into its conversations file;
- the first day's agent events end in a half-written line (its process died mid-write);
- one task's assignment is missing from the conversations log (realtime and the agent events
  still have it);
- the third day's agent events are written in naive local time two hours east of UTC;
- five of Marcus's thoughts are written without their `level`;
- a line in the middle of the first day's audit log is stamped three hours early;
- Seneca's own event log is flooded: 600 copies of one metric line within an hour.
Lines are rewritten as JSON with the same keys in the same order, in every file of the stream
(a conversations line and its `decisions_*` twin are damaged alike).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SILENCE = timedelta(hours=30)
CHANGE_AFTER = timedelta(days=2)
"""When the simulated release that changes the schema arrives, from the start."""
FUTURE = timedelta(days=30)
FUTURE_LINES = 3
OTHER_PROJECT = "00000000-0000-4000-8000-000000000610"


@dataclass(frozen=True)
class Fault:
    """One injected problem: the check that should find it and the subject it should name."""

    check: str
    subject: str
    stream: str | None


Record = dict[str, Any]


def inject(logs: Path, start: datetime) -> list[Fault]:
    """Damage the simulated logs under `logs` (started at `start`); return what was done."""
    changed_from = start + CHANGE_AFTER
    faults = [
        _silence(logs / "data" / "audit_logs", start + timedelta(days=2)),
        *_new_key(logs / "logs" / "agent_events", changed_from),
        _retype(logs / "logs" / "agent_events", changed_from),
        _placeholder(logs / "logs" / "agent_events"),
        _second_project(logs / "logs" / "conversations"),
        _future(logs, logs / "logs" / "agent_events"),
        *_broken_lines(logs),
        _missing_twin(logs / "logs" / "conversations"),
        _naive_local(logs, logs / "logs" / "agent_events"),
        _partial(logs / "logs" / "conversations"),
        _early_line(logs, logs / "data" / "audit_logs"),
        _flood(logs / "seneca"),
    ]
    return faults


def _lines(path: Path) -> list[str]:
    """The file's lines, each with its newline.

    Only a newline ends a line: JSON text may hold other Unicode line separators.
    """
    parts = path.read_text(encoding="utf-8").split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _time(record: Record) -> datetime:
    stamp = datetime.fromisoformat(str(record["timestamp"]))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _rewrite(folder: Path, change: Callable[[Record], Record | None]) -> int:
    """Apply `change` to every record of every file in `folder`; None drops the line."""
    touched = 0
    for path in sorted(folder.glob("*.jsonl")):
        lines = _lines(path)
        out = []
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # blank, or already broken by another fault
                out.append(line)
                continue
            new = change(dict(record))
            if new != record:
                touched += 1
            if new is not None:
                end = "\n" if line.endswith("\n") else ""
                out.append(json.dumps(new, ensure_ascii=False) + end)
        path.write_text("".join(out), encoding="utf-8")
    return touched


def _silence(folder: Path, begin: datetime) -> Fault:
    end = begin + SILENCE
    _rewrite(folder, lambda r: None if begin <= _time(r) < end else r)
    return Fault("timeliness.silent_stream", "audit", "audit")


def _new_key(folder: Path, since: datetime) -> list[Fault]:
    kinds: set[str] = set()

    def add(record: Record) -> Record:
        if _time(record) >= since:
            kinds.add(str(record.get("event_type")))
            record["schema_version"] = 2
        return record

    _rewrite(folder, add)
    return [
        Fault("schema.new_field", f"{kind}.schema_version", "agent_events")
        for kind in sorted(kinds)
    ]


def _retype(folder: Path, since: datetime) -> Fault:
    def as_text(record: Record) -> Record:
        data = record.get("data")
        if (
            record.get("event_type") == "progress_update"
            and isinstance(data, dict)
            and isinstance(data.get("progress"), int | float)
            and _time(record) >= since
        ):
            record["data"] = {**data, "progress": f"{data['progress']}%"}
        return record

    _rewrite(folder, as_text)
    return Fault("schema.type", "progress_update.data.progress", "agent_events")


def _placeholder(folder: Path) -> Fault:
    def constant(record: Record) -> Record:
        data = record.get("data")
        if record.get("event_type") == "progress_update" and isinstance(data, dict):
            record["data"] = {**data, "hours_remaining": 0.0}
        return record

    _rewrite(folder, constant)
    return Fault("placeholder", "progress_update.data.hours_remaining", "agent_events")


def _second_project(folder: Path) -> Fault:
    """The busiest task's records after its third name another project."""
    counts: dict[str, int] = {}

    def count(record: Record) -> Record:
        meta = record.get("metadata")
        if isinstance(meta, dict) and meta.get("task_id") and meta.get("project_id"):
            counts[meta["task_id"]] = counts.get(meta["task_id"], 0) + 1
        return record

    _rewrite(folder, count)
    task = max(sorted(counts), key=lambda t: counts[t])
    seen: dict[str, int] = {}

    def move(record: Record) -> Record:
        meta = record.get("metadata")
        if isinstance(meta, dict) and meta.get("task_id") == task and meta.get("project_id"):
            key = json.dumps(record, sort_keys=True)  # a line and its twin count once
            seen.setdefault(key, len(seen))
            if seen[key] >= 3:
                record["metadata"] = {**meta, "project_id": OTHER_PROJECT}
        return record

    _rewrite(folder, move)
    return Fault("consistency.task_in_two_projects", task, None)


def _future(logs: Path, folder: Path) -> Fault:
    path = sorted(folder.glob("*.jsonl"))[-1]
    lines = _lines(path)
    for i in range(len(lines) - FUTURE_LINES, len(lines)):
        record = json.loads(lines[i])
        record["timestamp"] = (_time(record) + FUTURE).isoformat()
        lines[i] = json.dumps(record, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return Fault("timeliness.future_time", path.relative_to(logs).as_posix(), "agent_events")


BROKEN_LINES = 8


def _broken_lines(logs: Path) -> list[Fault]:
    """Cut-off lines amid the first conversations file; a half-written end to day one's events."""
    burst = sorted((logs / "logs" / "conversations").glob("conversations_*.jsonl"))[0]
    tail = sorted((logs / "logs" / "agent_events").glob("*.jsonl"))[0]
    lines = _lines(burst)
    middle = len(lines) // 2
    cut = [line[: len(line) // 2] + "\n" for line in lines[middle : middle + BROKEN_LINES]]
    burst.write_text("".join(lines[:middle] + cut + lines[middle:]), encoding="utf-8")
    last = _lines(tail)[-1].rstrip("\n")
    with tail.open("a", encoding="utf-8") as out:
        out.write(last[: len(last) // 2])
    return [
        Fault("reliability.quarantined_lines", burst.relative_to(logs).as_posix(), "conversations"),
        Fault("reliability.abandoned_tail", tail.relative_to(logs).as_posix(), "agent_events"),
    ]


LOCAL_HOURS = 2


def _missing_twin(folder: Path) -> Fault:
    """Drop the conversations line (and its twin) that assigns the first task assigned twice."""
    assigned: dict[str, int] = {}

    def count(record: Record) -> Record:
        if str(record.get("message", "")).startswith("Assigned task:"):
            task = (record.get("metadata") or {}).get("task_id")
            if task:
                assigned[task] = assigned.get(task, 0) + 1
        return record

    _rewrite(folder, count)
    task = sorted(assigned)[len(assigned) // 2]

    def drop(record: Record) -> Record | None:
        meta = record.get("metadata") or {}
        if (
            str(record.get("message", "")).startswith("Assigned task:")
            and meta.get("task_id") == task
        ):
            return None
        return record

    _rewrite(folder, drop)
    return Fault("consistency.missing_twin", task, "conversations")


def _naive_local(logs: Path, folder: Path) -> Fault:
    path = sorted(folder.glob("*.jsonl"))[2]
    out = []
    for line in _lines(path):
        record = json.loads(line)
        local = _time(record) + timedelta(hours=LOCAL_HOURS)
        record["timestamp"] = local.replace(tzinfo=None).isoformat()
        out.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(out), encoding="utf-8")
    return Fault("alignment.file_offset", path.relative_to(logs).as_posix(), "agent_events")


PARTIAL = 5


def _partial(folder: Path) -> Fault:
    """Every eleventh thought of Marcus's, five of them, loses its `level`."""
    seen: dict[str, int] = {}

    def strip(record: Record) -> Record:
        if record.get("event") == "pm_thinking" and "level" in record:
            key = json.dumps(record, sort_keys=True)  # a line and its twin count once
            place = seen.setdefault(key, len(seen))
            if place % 11 == 5 and place // 11 < PARTIAL:
                record = {k: v for k, v in record.items() if k != "level"}
        return record

    _rewrite(folder, strip)
    return Fault("completeness.missing_field", "pm_thinking.level", "conversations")


def _early_line(logs: Path, folder: Path) -> Fault:
    path = sorted(folder.glob("*.jsonl"))[0]
    lines = _lines(path)
    middle = len(lines) // 2
    record = json.loads(lines[middle])
    record["timestamp"] = (_time(record) - timedelta(hours=3)).isoformat()
    lines[middle] = json.dumps(record, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return Fault("timeliness.out_of_order", path.relative_to(logs).as_posix(), "audit")


FLOOD = 600


def _flood(folder: Path) -> Fault:
    """600 copies (a second apart, from noon) of the fourth day's first metric line, in order."""
    path = sorted(folder.glob("*.jsonl"))[3]
    lines = _lines(path)
    metric = next(json.loads(line) for line in lines if '"metric"' in line)
    noon = _time(metric).replace(hour=12, minute=0, second=0, microsecond=0)
    copies = [
        json.dumps({**metric, "timestamp": (noon + timedelta(seconds=k)).isoformat()}) + "\n"
        for k in range(FLOOD)
    ]
    merged = heapq.merge(lines, copies, key=lambda line: _time(json.loads(line)))
    path.write_text("".join(merged), encoding="utf-8")
    return Fault("completeness.volume", "seneca_events", "seneca_events")
