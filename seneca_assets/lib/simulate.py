"""Deterministic simulator of a Marcus deployment.

`simulate_deployment` plays a number of AI agents working through Marcus's kanban board for a
number of days and writes the JSONL logs such a deployment leaves behind, in the exact shapes of
Marcus's five streams (conversations and their decisions copies, realtime, agent_events, audit)
plus Seneca's own metric event files. It also records the ground truth of what it simulated, so
that ingestion and analytics can be checked against it.

Layout written under ``out_dir`` (it mirrors a Marcus root)::

    logs/conversations/conversations_YYYYMMDD_HHMMSS.jsonl   one per process that imports the logger
    logs/conversations/decisions_YYYYMMDD_HHMMSS.jsonl       its twin: every line but pm_thinking
    logs/conversations/realtime_YYYYMMDD_HHMMSS.jsonl        one per server start
    logs/agent_events/agent_events_YYYYMMDD.jsonl            one per day
    data/audit_logs/audit_YYYYMMDD.jsonl                     one per day
    seneca/seneca_events_YYYYMMDD.jsonl                      Seneca's metrics and events
    _seneca_ground_truth.json                                what really happened

Ground-truth conventions: every time is the timestamp of a line actually written. For a task,
``assigned_at`` is the ``Assigned task: ...`` line of its latest assignment, ``first_progress_at``
the first progress line of that assignment, ``completed_at`` the completion progress line
(progress 100, status completed), ``first_assigned_at`` the first assignment ever.
``reassignments`` counts assignments after the first; ``agent_id`` is the agent of the latest
assignment (None if never assigned). ``files`` counts complete (newline-terminated) lines, so a
half-written tail is not counted. Agents keep working hours on a fixed local clock (UTC-5,
``naive_utc_offset_hours``), which is also the clock of the naive timestamps that servers started
before Marcus's cutovers write, and of those files' names.

The output depends only on the arguments: the clock is never read and all randomness comes from one
``random.Random(seed)``.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)
NAIVE_UTC_OFFSET_HOURS = -5
REALTIME_AUDIT_CUTOVER = datetime(2025, 11, 1, tzinfo=UTC)
AGENT_EVENTS_CUTOVER = datetime(2025, 10, 29, tzinfo=UTC)
GROUND_TRUTH_FILE = "_seneca_ground_truth.json"

STREAMS = ("conversations", "realtime", "agent_events", "audit", "seneca_events")

_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_HOUR_US = 60 * _MINUTE_US
_DAY_US = 24 * _HOUR_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FLUSH_MARGIN_US = 10 * _MINUTE_US
_METRIC_TICK_US = 5 * _MINUTE_US
_PING_EVERY_US = 30 * _MINUTE_US
_MAX_TOOL_MS = 20_353.04

_CONV_DIR = "logs/conversations"
_AUDIT_CONTEXT = {"host": "unknown", "transport": "stdio", "version": "unknown"}
_LOG_DIR = "/home/marcus/dev/marcus/logs/conversations"

# Activity by local hour (0-23) and by weekday (Monday first): working hours and weekdays dominate.
_HOUR_WEIGHT = (
    0.05, 0.04, 0.03, 0.03, 0.04, 0.06, 0.12, 0.30, 0.65, 0.95, 1.00, 1.00,
    0.80, 0.95, 1.00, 1.00, 0.90, 0.70, 0.45, 0.35, 0.30, 0.22, 0.15, 0.08,
)  # fmt: skip
_DAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.95, 0.3, 0.22)

_ANIMALS = (
    "Unicorn", "Falcon", "Otter", "Lynx", "Heron", "Badger", "Koala", "Raven", "Panda", "Gecko",
    "Marten", "Ibis", "Puma", "Wren", "Bison", "Orca", "Tapir", "Yak", "Crane", "Dingo",
)  # fmt: skip
_ROLES = {
    "Developer": ("python", "testing", "git", "sql"),
    "Backend Developer": ("python", "fastapi", "postgresql", "redis", "docker"),
    "Frontend Developer": ("typescript", "react", "css", "testing"),
    "Full Stack Developer": ("python", "typescript", "react", "postgresql"),
    "QA Engineer": ("testing", "pytest", "playwright", "python"),
    "DevOps Engineer": ("docker", "kubernetes", "terraform", "ci"),
    "Technical Writer": ("markdown", "documentation", "api-design"),
}
_ROLE_KINDS = {
    "Developer": ("implementation",),
    "Backend Developer": ("implementation", "design"),
    "Frontend Developer": ("implementation",),
    "Full Stack Developer": ("implementation", "design"),
    "QA Engineer": ("testing",),
    "DevOps Engineer": ("deployment",),
    "Technical Writer": ("documentation", "design"),
}
_PROJECT_NAMES = (
    "Task Master Test", "Snake Game", "Twitter Clone", "Calculator", "Inventory Tracker",
    "Recipe Planner", "Chat Service", "Budget App", "Weather Dashboard", "Bookstore API",
    "Fitness Log", "Kanban Lite", "URL Shortener", "Photo Gallery", "Event Ticketing",
)  # fmt: skip
_FEATURES = (
    "User Authentication", "Tweet Creation", "Follow/Unfollow", "Timeline Feed",
    "Payment Processing",
    "Search Indexing", "Notification Service", "Rate Limiting", "Admin Dashboard", "File Uploads",
    "Audit Trail", "Data Export", "Caching Layer", "WebSocket Gateway", "Game Loop", "Score Board",
    "Inventory Sync", "Order History", "Email Templates", "Password Reset", "Role-Based Access",
    "Analytics Pipeline", "Health Checks", "CI Pipeline", "Database Migrations", "API Versioning",
    "Localization", "Calendar Sync", "Report Builder", "User Profiles",
)  # fmt: skip
_KINDS = (
    ("Design", "design", 0.18),
    ("Implement", "implementation", 0.42),
    ("Test", "testing", 0.2),
    ("Document", "documentation", 0.08),
    ("Deploy", "deployment", 0.06),
    ("Refactor", "implementation", 0.06),
)
_SUBPARTS = ("data model", "endpoints", "validation", "error handling", "persistence", "wiring")
_PRIORITIES = (("low", 0.2), ("medium", 0.45), ("high", 0.28), ("urgent", 0.07))
_PRIORITY_SCORE = {"low": 0.1, "medium": 0.4, "high": 0.7, "urgent": 1.0}
_PRIORITY_ICON = {
    "low": "\U0001f7e2",
    "medium": "\U0001f7e1",
    "high": "\U0001f7e0",
    "urgent": "\U0001f534",
}
_ESTIMATES = (
    (0.5, 0.1),
    (1.0, 0.2),
    (2.0, 0.25),
    (3.0, 0.15),
    (4.0, 0.15),
    (6.0, 0.08),
    (8.0, 0.05),
)
_PROGRESS_TEXT = {
    25: ("Completed initial setup", "Reviewed requirements and dependencies", "Scaffolded module"),
    50: ("Halfway done", "Core logic implemented", "API endpoints implemented"),
    75: ("Writing tests", "Integration with existing services done", "Addressing edge cases"),
    100: ("Task completed successfully", "Implementation complete, all tests passing", "Done"),
}
_BLOCKERS = (
    "DB not reachable", "Missing API credentials for staging", "Failing CI on main branch",
    "Unclear acceptance criteria", "Rate limited by external API", "Schema migration conflicts",
    "Docker build fails on arm64", "Dependency task not finished", "Flaky integration test",
    "Cannot access the shared design document",
)  # fmt: skip
_SUGGESTIONS = (
    "Check the service health endpoint and restart the container",
    "Ask the project owner to clarify the acceptance criteria",
    "Mock the external dependency and continue with unit tests",
    "Pin the dependency version that last passed CI",
    "Split the migration into two smaller steps",
    "Work on a parallel subtask while the dependency completes",
    "Add retries with exponential backoff around the failing call",
)
_RATIONALES = (
    "Best skill match and highest priority",
    "Agent skills match task requirements; no blocking dependencies",
    "Highest priority task available with satisfied dependencies",
    "Agent has completed similar tasks in this project",
)
_AGENT_TOOLS = [
    "ping", "register_client", "get_project_status", "register_agent", "request_next_task",
    "report_task_progress", "report_blocker", "get_task_context", "log_decision", "log_artifact",
    "check_task_dependencies",
]  # fmt: skip
_DEVELOPER_TOOLS = [
    "ping", "register_client", "get_project_status", "get_current_project", "list_projects",
    "list_registered_agents", "get_agent_status", "check_board_health", "check_task_dependencies",
    "create_project", "add_feature", "switch_project", "add_project", "update_project",
    "get_task_context",
]  # fmt: skip
_BROKEN_PIPE_TOOLS = ("register_agent", "create_project", "get_task_context", "log_artifact")
_ID_SCHEMES = (("agent_{animal}_{n}", 0.6), ("agent-{n}", 0.2), ("claude-dev-{n:03d}", 0.2))
_PROBE_TOOLS = (
    "unknown_tool", "register_agent", "get_agent_status", "list_registered_agents",
    "request_next_task", "report_task_progress", "get_project_status", "create_project",
    "add_feature",
)  # fmt: skip
# Tool-call duration in ms: (median, log-sigma). Overall median lands near Marcus's 240 ms.
_TOOL_MS = {
    "ping": (0.5, 0.4),
    "authenticate": (1.0, 0.3),
    "register_agent": (3.0, 2.5),
    "request_next_task": (2400.0, 0.9),
    "request_next_task:none": (350.0, 1.1),
    "report_task_progress": (520.0, 1.4),
    "report_blocker": (2800.0, 0.6),
    "get_task_context": (1.2, 1.0),
    "log_artifact": (6.0, 1.0),
    "log_decision": (4.0, 1.0),
    "create_project": (12000.0, 0.25),
    "add_feature": (6500.0, 0.35),
    "unassign_task": (150.0, 0.8),
    "list_projects": (0.4, 0.5),
    "get_project_status": (30.0, 1.0),
}


@dataclass(frozen=True)
class TaskTruth:
    """What really happened to one task (see the module docstring for the time conventions).

    Attributes:
        task_id: Marcus's task id (``"1607..."``, ``task-001`` or ``task-001_sub_1``).
        project_id: Registry UUID of the task's project.
        name: Task name as written in the logs.
        agent_id: Agent of the latest assignment, None if never assigned.
        priority: ``low``, ``medium``, ``high`` or ``urgent``.
        estimated_hours: Marcus's estimate.
        assigned_at: ``Assigned task: ...`` line of the latest assignment.
        first_progress_at: First progress line of the latest assignment.
        completed_at: The completion line (progress 100, status completed).
        blockers: Every blocker ever reported: ``{"at", "severity", "text"}``.
        reassignments: Assignments after the first.
        status: ``completed``, ``blocked``, ``unassigned`` (reset to TODO, not picked up again),
            ``in_progress`` or ``todo`` (never assigned), at the end of the run.
        first_assigned_at: ``Assigned task: ...`` line of the first assignment.
        actual_hours: ``completed_at - assigned_at`` in hours, for completed tasks.
    """

    task_id: str
    project_id: str
    name: str
    agent_id: str | None
    priority: str
    estimated_hours: float
    assigned_at: datetime | None
    first_progress_at: datetime | None
    completed_at: datetime | None
    blockers: list[dict]
    reassignments: int
    status: str
    first_assigned_at: datetime | None = None
    actual_hours: float | None = None


@dataclass(frozen=True)
class GroundTruth:
    """The truth of one simulated deployment: who, what, when, and which file holds how much.

    Attributes:
        seed: Seed of the run.
        start: First simulated instant (UTC).
        end: ``start + days``; nothing is written at or after it.
        agents: ``id``, ``name``, ``role``, ``skills``, plus the hidden ``speed_factor`` (actual
            over estimated hours on matching work) and ``improvement`` (speed-up over the run).
        projects: ``project_id``, ``project_name``, ``board_id``, ``board_name``, ``provider``,
            ``created_at``, ``task_count``.
        tasks: One `TaskTruth` per task, in creation order.
        files: Relative path of every log file written -> complete lines in it.
        lines_by_stream: Distinct lines per stream (decisions copies not counted again).
        bytes_written: Size of all log files (the ground-truth file excluded).
        naive_utc_offset_hours: Local clock of naive timestamps and of working hours.
    """

    seed: int
    start: datetime
    end: datetime
    agents: list[dict]
    projects: list[dict]
    tasks: list[TaskTruth]
    files: dict[str, int]
    lines_by_stream: dict[str, int]
    bytes_written: int
    naive_utc_offset_hours: int = NAIVE_UTC_OFFSET_HOURS

    def to_json(self) -> str:
        """Serialize to JSON, datetimes as ISO-8601 UTC with a ``Z`` suffix.

        Returns:
            The ground truth as an indented JSON document.
        """
        return json.dumps(asdict(self), default=_json_default, indent=1)

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        """Read a ground truth written by `to_json`.

        Args:
            text: The JSON document.

        Returns:
            The ground truth, datetimes timezone-aware in UTC.
        """
        raw = json.loads(text)
        tasks = [_task_truth_from_dict(t) for t in raw.pop("tasks")]
        for project in raw["projects"]:
            project["created_at"] = _parse_z(project["created_at"])
        return cls(
            **{**raw, "start": _parse_z(raw["start"]), "end": _parse_z(raw["end"]), "tasks": tasks}
        )


def _task_truth_from_dict(raw: dict[str, Any]) -> TaskTruth:
    for key in ("assigned_at", "first_progress_at", "completed_at", "first_assigned_at"):
        raw[key] = _parse_z(raw[key])
    raw["blockers"] = [{**b, "at": _parse_z(b["at"])} for b in raw["blockers"]]
    return TaskTruth(**raw)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return _iso_z(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_z(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _to_us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _to_dt(us: int | None) -> datetime | None:
    return None if us is None else _EPOCH + timedelta(microseconds=us)


def simulate_deployment(
    out_dir: Path,
    *,
    days: int = 7,
    agents: int = 4,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    projects: int | None = None,
    partial_tail: bool = False,
) -> GroundTruth:
    """Write Marcus logs for `days` days of `agents` agents under out_dir and return the truth.

    Also writes ``out_dir/_seneca_ground_truth.json``. The same arguments always give byte-identical
    files. Volume grows linearly with ``days * agents`` (about 280 KB per agent-day). Files of the
    simulated layout are overwritten and nothing else is removed, so use an empty folder.

    Args:
        out_dir: Root of the simulated Marcus installation (created if missing).
        days: Number of simulated days from ``start``.
        agents: Number of AI agents.
        seed: Seed of the only source of randomness.
        start: Start of the simulation (timezone-aware; naive values are taken as UTC).
        projects: Number of projects; by default one per four agents, plus one per fortnight.
        partial_tail: Leave a half-written last line (no newline) in the newest conversations file.

    Returns:
        The ground truth of the simulated deployment.

    Raises:
        ValueError: If ``days``, ``agents`` or ``projects`` is smaller than 1.
    """
    if days < 1 or agents < 1 or (projects is not None and projects < 1):
        raise ValueError("days, agents and projects must be at least 1")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    n_projects = projects if projects is not None else max(1, (agents + 3) // 4 + days // 14)
    sim = _Simulation(Path(out_dir), days, agents, seed, start.astimezone(UTC), n_projects)
    truth = sim.run(partial_tail=partial_tail)
    (Path(out_dir) / GROUND_TRUTH_FILE).write_text(truth.to_json(), encoding="utf-8")
    return truth


# --------------------------------------------------------------------------------------------
# Time formatting
# --------------------------------------------------------------------------------------------


class _Clock:
    """Formats microsecond instants in the three timestamp shapes Marcus writes."""

    def __init__(self, offset_hours: int) -> None:
        self.offset_us = offset_hours * _HOUR_US
        self._prefix: dict[int, str] = {}

    def _fmt(self, us: int, suffix: str) -> str:
        seconds, micro = divmod(us, _SECOND_US)
        minute, second = divmod(seconds, 60)
        prefix = self._prefix.get(minute)
        if prefix is None:
            prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
            self._prefix[minute] = prefix
        if micro:  # like datetime.isoformat(): no fraction when it is zero
            return f"{prefix}{second:02d}.{micro:06d}{suffix}"
        return f"{prefix}{second:02d}{suffix}"

    def z(self, us: int) -> str:
        """Structlog shape: ``2026-11-27T10:04:03.256463Z``."""
        return self._fmt(us, "Z")

    def utc(self, us: int) -> str:
        """Aware isoformat: ``2026-11-27T10:04:03.256463+00:00``."""
        return self._fmt(us, "+00:00")

    def naive(self, us: int) -> str:
        """Naive local wall clock, as old installations wrote it."""
        return self._fmt(us + self.offset_us, "")

    def aware_or_naive(self, us: int, naive: bool) -> str:
        """Naive local wall clock if ``naive``, else aware UTC."""
        return self._fmt(us + self.offset_us, "") if naive else self._fmt(us, "+00:00")

    def stamp(self, us: int, naive: bool) -> str:
        """File-name stamp ``YYYYMMDD_HHMMSS`` on the UTC or the local clock."""
        shifted = us + self.offset_us if naive else us
        return datetime.fromtimestamp(shifted // _SECOND_US, UTC).strftime("%Y%m%d_%H%M%S")


def _intensity(us: int, offset_us: int) -> float:
    """Activity level in [0, 1] at an instant: local working hours and weekdays are busiest."""
    local = us + offset_us
    hour = (local // _HOUR_US) % 24
    weekday = (local // _DAY_US + 3) % 7  # 1970-01-01 was a Thursday
    return _HOUR_WEIGHT[hour] * _DAY_WEIGHT[weekday]


# --------------------------------------------------------------------------------------------
# Output: per-file buffers, written sorted by time once no more lines can arrive
# --------------------------------------------------------------------------------------------


@dataclass
class _Buffer:
    rel: str
    stream: str
    close_us: int
    twin: str | None = None  # decisions file of a conversations buffer
    rows: list[tuple[int, int, str, bool]] = field(default_factory=list)
    started: bool = False  # the file exists on disk
    watermark: int = -1  # everything before this instant is on disk


class _Sink:
    """Collects lines per file and appends them, sorted by time, once no earlier line can come.

    Lines can be produced slightly out of order (a tool call's audit record lands after the next
    event began), so each file keeps a window of ``_FLUSH_MARGIN_US`` in memory and writes the
    rest: memory stays bounded by about an hour of output whatever the run's length.
    """

    def __init__(self, root: Path, clock: _Clock) -> None:
        self.root = root
        self.clock = clock
        self.open: dict[str, _Buffer] = {}
        self.done: set[str] = set()
        self.files: dict[str, int] = {}
        self.lines = dict.fromkeys(STREAMS, 0)
        self.bytes = 0
        self._seq = 0

    def buffer(self, rel: str, stream: str, close_us: int, twin: str | None = None) -> _Buffer:
        """Return the buffer of a file, creating it on first use."""
        buf = self.open.get(rel)
        if buf is None:
            if rel in self.done:
                raise RuntimeError(f"{rel} was already closed; a line arrived too late")
            buf = self.open[rel] = _Buffer(rel, stream, close_us, twin)
        return buf

    def put(self, buf: _Buffer, us: int, line: str, debug: bool = False) -> None:
        """Add one serialized line at its instant; ``debug`` lines skip the decisions twin."""
        if us < buf.watermark:
            raise RuntimeError(f"{buf.rel}: a line arrived after its time was written")
        self._seq += 1
        buf.rows.append((us, self._seq, line, debug))

    def daily(self, pattern: str, stream: str, ts: str) -> _Buffer:
        """Buffer of the daily file whose date is that of the formatted timestamp ``ts``.

        The file stays open until the end of that date on the later of the UTC and local clocks,
        since a file can hold both shapes on the day a server is upgraded.
        """
        date = f"{ts[0:4]}{ts[5:7]}{ts[8:10]}"
        rel = pattern.format(date)
        buf = self.open.get(rel)
        if buf is None:
            day_start = _to_us(datetime(int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), tzinfo=UTC))
            close = day_start + _DAY_US + abs(self.clock.offset_us)
            buf = self.buffer(rel, stream, close)
        return buf

    def flush(self, now_us: int) -> None:
        """Append what can no longer be preceded by a new line; close finished files."""
        cut = now_us - _FLUSH_MARGIN_US
        for buf in list(self.open.values()):
            if buf.close_us < cut:
                self._close(buf)
            else:
                self._drain(buf, cut)

    def flush_all(self) -> None:
        """Write and close every remaining file."""
        for buf in list(self.open.values()):
            self._close(buf)

    def touch(self, rel: str) -> None:
        """Create an empty file (a process that imported the logger and wrote nothing)."""
        self._append(rel, [], started=False)

    def _close(self, buf: _Buffer) -> None:
        self._drain(buf, None)
        del self.open[buf.rel]
        self.done.add(buf.rel)

    def _drain(self, buf: _Buffer, cut: int | None) -> None:
        """Write the rows before ``cut`` (all rows if None) in time order."""
        buf.rows.sort()
        k = len(buf.rows) if cut is None else bisect.bisect_left(buf.rows, (cut,))
        if k == 0 and buf.started:
            return
        chunk, buf.rows = buf.rows[:k], buf.rows[k:]
        self._append(buf.rel, [row[2] for row in chunk], buf.started)
        if buf.twin is not None:
            self._append(buf.twin, [row[2] for row in chunk if not row[3]], buf.started)
        self.lines[buf.stream] += k
        buf.started = True
        if cut is not None:
            buf.watermark = cut

    def _append(self, rel: str, lines: list[str], started: bool) -> None:
        path = self.root / rel
        if not started:
            path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n" if lines else ""
        with path.open("a" if started else "w", encoding="ascii", newline="\n") as handle:
            handle.write(text)
        self.files[rel] = self.files.get(rel, 0) + len(lines)
        self.bytes += len(text)

    def append_partial(self, rel: str, fragment: str) -> None:
        """Append a half-written line (no newline) to an already written file."""
        with (self.root / rel).open("a", encoding="ascii", newline="\n") as handle:
            handle.write(fragment)
        self.bytes += len(fragment)


# --------------------------------------------------------------------------------------------
# The simulated world
# --------------------------------------------------------------------------------------------


@dataclass
class _Project:
    project_id: str
    name: str
    board_id: str
    board_name: str | None
    provider: str
    id_style: str  # "digits" (planka card ids) or "slug" (task-001)
    description: str
    created_us: int = 0
    created: bool = False
    tasks: list[_Task] = field(default_factory=list)
    completed: int = 0
    in_progress: int = 0

    @property
    def ctx(self) -> dict[str, str | None]:
        """The project context Marcus merges into worker-message metadata."""
        return {
            "project_id": self.project_id,
            "project_name": self.name,
            "board_id": self.board_id,
            "board_name": self.board_name,
        }


_NO_PROJECT_CTX: dict[str, str | None] = dict.fromkeys(
    ("project_id", "project_name", "board_id", "board_name")
)


@dataclass
class _Task:
    task_id: str
    project: _Project
    name: str
    kind: str
    priority: str
    estimated_hours: float
    description: str
    labels: list[str]
    created_us: int
    instructions: str = ""  # written by Marcus's AI at each assignment, dropped after
    status: str = "todo"
    agent_id: str | None = None
    assigned_us: int | None = None
    first_assigned_us: int | None = None
    first_progress_us: int | None = None
    completed_us: int | None = None
    assignments: int = 0
    blockers: list[tuple[int, str, str]] = field(default_factory=list)

    def truth(self) -> TaskTruth:
        """Freeze this task's history into its ground truth."""
        actual = None
        if self.completed_us is not None and self.assigned_us is not None:
            actual = round((self.completed_us - self.assigned_us) / _HOUR_US, 6)
        return TaskTruth(
            task_id=self.task_id,
            project_id=self.project.project_id,
            name=self.name,
            agent_id=self.agent_id,
            priority=self.priority,
            estimated_hours=self.estimated_hours,
            assigned_at=_to_dt(self.assigned_us),
            first_progress_at=_to_dt(self.first_progress_us),
            completed_at=_to_dt(self.completed_us),
            blockers=[{"at": _to_dt(t), "severity": s, "text": x} for t, s, x in self.blockers],
            reassignments=max(0, self.assignments - 1),
            status=self.status,
            first_assigned_at=_to_dt(self.first_assigned_us),
            actual_hours=actual,
        )


@dataclass
class _Agent:
    agent_id: str
    name: str
    role: str
    skills: list[str]
    kinds: tuple[str, ...]
    speed: float  # actual / estimated hours on a matching task, before learning and noise
    noise: float
    improvement: float  # fraction by which the agent is faster at the end of the run
    blocker_rate: float
    session: int = -1  # index of the server session the agent registered with
    online: bool = False
    task: _Task | None = None
    steps: list[tuple[int, str, Any]] = field(default_factory=list)
    pending: tuple[str, Any] = ("wake", None)
    idle_streak: int = 0
    busy_since: int | None = None
    busy_us: int = 0
    project: _Project | None = None

    def public(self) -> dict[str, Any]:
        """The agent as recorded in the ground truth."""
        return {
            "id": self.agent_id,
            "name": self.name,
            "role": self.role,
            "skills": list(self.skills),
            "speed_factor": round(self.speed, 4),
            "improvement": round(self.improvement, 4),
        }


@dataclass
class _Session:
    """One Marcus server process; the code it runs decides naive or aware timestamps."""

    index: int
    start_us: int
    stop_us: int
    legacy: bool
    naive_audit: bool = False  # realtime and audit (and payload timestamps) before their cutover
    naive_events: bool = False  # agent_events before its cutover
    conv: _Buffer | None = None
    realtime: _Buffer | None = None


@dataclass
class _Call:
    """An MCP tool call in flight: started at ``start``, lines logged inside it advance ``t``."""

    tool: str
    client_id: str | None
    client_type: str | None
    arguments: dict[str, Any]
    start: int
    duration_ms: float
    t: int
    agent_id: str | None = None


class _Emitter:
    """Builds each stream's records in Marcus's exact key order and hands them to the sink."""

    def __init__(self, clock: _Clock, sink: _Sink, rng: random.Random, session: _Session) -> None:
        self.clock = clock
        self.sink = sink
        self.rng = rng
        self.session = session  # the running server process: its files and timestamp shapes

    def gap(self) -> int:
        """Microseconds between two lines written by one code path."""
        return self.rng.randint(25, 900)

    def tool_ms(self, key: str) -> float:
        median, sigma = _TOOL_MS[key]
        while True:
            value = self.rng.lognormvariate(math.log(median), sigma)
            if 0.02 <= value <= _MAX_TOOL_MS:
                return value

    # ---------------------------------------------------------------- stream writers

    def conv(self, t: int, rec: dict[str, Any], debug: bool = False) -> None:
        buf = self.session.conv
        assert buf is not None
        self.sink.put(buf, t, json.dumps(rec), debug)

    def worker_msg(
        self,
        t: int,
        agent_id: str,
        direction: str,
        message: str,
        metadata: dict[str, Any],
        project: _Project | None,
    ) -> None:
        metadata.update(project.ctx if project is not None else _NO_PROJECT_CTX)
        rec = {
            "worker_id": agent_id,
            "conversation_type": direction,
            "message": message,
            "metadata": metadata,
            "timestamp": self.clock.z(t),
            "event": "worker_communication",
            "logger": "worker",
            "level": "info",
        }
        self.conv(t, rec)

    def thinking(self, t: int, thought: str, context: dict[str, Any]) -> None:
        rec = {
            "conversation_type": "internal_thinking",
            "thought": thought,
            "context": context,
            "timestamp": self.clock.z(t),
            "event": "pm_thinking",
            "logger": "marcus",
            "level": "debug",
        }
        self.conv(t, rec, debug=True)

    def decision(
        self,
        t: int,
        decision: str,
        rationale: str,
        alternatives: list[dict[str, Any]],
        confidence: float | None,
        factors: dict[str, Any],
    ) -> None:
        rec = {
            "conversation_type": "decision",
            "decision": decision,
            "rationale": rationale,
            "alternatives_considered": alternatives,
            "confidence_score": confidence,
            "decision_factors": factors,
            "timestamp": self.clock.z(t),
            "event": "pm_decision",
            "logger": "marcus",
            "level": "info",
        }
        self.conv(t, rec)

    def kanban(
        self, t: int, direction: str, action: str, data: dict[str, Any], steps: list[str]
    ) -> None:
        rec = {
            "conversation_type": direction,
            "action": action,
            "data": data,
            "processing_steps": steps,
            "timestamp": self.clock.z(t),
            "event": "kanban_interaction",
            "logger": "kanban",
            "level": "info",
        }
        self.conv(t, rec)

    def tool_failure(
        self, t: int, tool: str, arguments: dict[str, Any], error: str, response: Any
    ) -> None:
        rec = {
            "tool_name": tool,
            "arguments": arguments,
            "error": error,
            "retry_reason": "" if self.rng.random() < 0.7 else "transient kanban error",
            "response": response,
            "event": f"MCP tool '{tool}' returned failure",
            "logger": "marcus",
            "level": "warning",
            "timestamp": self.clock.z(t),
        }
        self.conv(t, rec)

    def legacy(self, t: int, event: str, logger: str, level: str, body: dict[str, Any]) -> None:
        """Older installations' records: ``event_type`` first, structlog keys last."""
        if not self.session.legacy:
            return
        rec = {
            **body,
            "timestamp": self.clock.z(t),
            "event": event,
            "logger": logger,
            "level": level,
        }
        self.conv(t, rec)

    def rt(self, t: int, type_: str, payload: dict[str, Any]) -> None:
        buf = self.session.realtime
        assert buf is not None
        rec: dict[str, Any] = {"timestamp": self.nested_ts(t), "type": type_}
        rec.update(payload)  # a payload "timestamp" overwrites the envelope's, as in Marcus
        self.sink.put(buf, t, json.dumps(rec))

    def ae(self, t: int, event_type: str, data: dict[str, Any]) -> None:
        ts = self.clock.aware_or_naive(t, self.session.naive_events)
        rec = {"timestamp": ts, "event_type": event_type, "data": data}
        buf = self.sink.daily("logs/agent_events/agent_events_{}.jsonl", "agent_events", ts)
        self.sink.put(buf, t, json.dumps(rec))

    def audit(
        self,
        t: int,
        event_type: str,
        client_id: str | None,
        client_type: str | None,
        tool: str | None,
        success: bool,
        details: dict[str, Any],
        error: str | None = None,
    ) -> None:
        ts = self.nested_ts(t)
        rec: dict[str, Any] = {
            "timestamp": ts,
            "event_type": event_type,
            "client_id": client_id,
            "client_type": client_type,
            "tool_name": tool,
            "success": success,
            "details": details,
        }
        if error is not None:
            rec["error"] = error
        rec["context"] = _AUDIT_CONTEXT
        buf = self.sink.daily("data/audit_logs/audit_{}.jsonl", "audit", ts)
        self.sink.put(buf, t, json.dumps(rec))

    def seneca(self, t: int, type_: str, source: str, data: dict[str, Any]) -> None:
        ts = self.clock.utc(t)
        rec = {"type": type_, "timestamp": ts, "source": source, "data": data}
        buf = self.sink.daily("seneca/seneca_events_{}.jsonl", "seneca_events", ts)
        self.sink.put(buf, t, json.dumps(rec))

    def conversation(self, t: int, sender: str, message: str, task_id: str) -> None:
        data = {"sender": sender, "recipient": "marcus", "message": message, "task_id": task_id}
        self.seneca(t, "conversation", "marcus.conversations", data)

    def metric(self, t: int, name: str, value: float, unit: str, tags: dict[str, str]) -> None:
        data = {"name": name, "value": value, "unit": unit, "tags": tags}
        self.seneca(t, "metric", "seneca.metrics", data)

    def nested_ts(self, t: int) -> str:
        """A realtime/audit timestamp (envelope or payload) in the running server's shape."""
        return self.clock.aware_or_naive(t, self.session.naive_audit)

    # ---------------------------------------------------------------- MCP calls

    def call_begin(
        self,
        t: int,
        tool: str,
        arguments: dict[str, Any],
        client: tuple[str | None, str | None],
        agent_id: str | None = None,
        duration_key: str | None = None,
    ) -> _Call:
        duration = self.tool_ms(duration_key or tool)
        call = _Call(tool, client[0], client[1], arguments, t, duration, t, agent_id)
        self.rt(t, "mcp_tool_call_start", {"tool_name": tool, "agent_id": agent_id})
        call.t = t + self.gap()
        return call

    def call_end(self, call: _Call, result: Any) -> int:
        """Finish a call: realtime response lines, then its audit record. Returns the end time.

        Now and then the client has gone when the response is written: the work is done but the
        audit record says ``success: false`` with ``result: null`` and an ``error``.
        """
        end = max(call.start + int(call.duration_ms * 1000), call.t + 300 + self.gap())
        error = None
        if call.tool in _BROKEN_PIPE_TOOLS and self.rng.random() < 0.01:
            error, result = "[Errno 32] Broken pipe", None
        if error is None:
            self.rt(
                end - 200,
                "mcp_creating_response",
                {"tool": call.tool, "has_result": True, "result_type": type(result).__name__},
            )
            length = len(json.dumps(result))
            self.rt(
                end - 100, "mcp_returning_response", {"tool": call.tool, "response_length": length}
            )
        self.rt(
            end,
            "mcp_tool_call_complete",
            {
                "tool_name": call.tool,
                "agent_id": call.agent_id,
                "duration_ms": round(call.duration_ms, 3),
                "success": error is None,
            },
        )
        details = {"arguments": call.arguments, "result": result, "duration_ms": call.duration_ms}
        audit_t = end + self.rng.randint(40, 400)
        self.audit(
            audit_t,
            "tool_call",
            call.client_id,
            call.client_type,
            call.tool,
            error is None,
            details,
            error,
        )
        self.metric(
            audit_t + 1,
            "tool_call_duration_ms",
            round(call.duration_ms, 3),
            "ms",
            {"tool": call.tool},
        )
        return audit_t


_EV_FLUSH, _EV_STOP, _EV_START, _EV_PROJECT, _EV_FEATURE, _EV_LEASE = range(6)
_EV_PROBE, _EV_PING, _EV_TICK, _EV_AGENT = range(6, 10)


class _Simulation:
    """Discrete-event simulation of Marcus, its agents and Seneca's metric collector."""

    def __init__(
        self, root: Path, days: int, n_agents: int, seed: int, start: datetime, n_projects: int
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible simulation, not cryptography
        self.seed = seed
        self.start = start
        self.start_us = _to_us(start)
        self.end_us = self.start_us + days * _DAY_US
        self.cut_rt = _to_us(REALTIME_AUDIT_CUTOVER)
        self.cut_ae = _to_us(AGENT_EVENTS_CUTOVER)
        self.clock = _Clock(NAIVE_UTC_OFFSET_HOURS)
        self.sink = _Sink(root, self.clock)
        self.heap: list[tuple[int, int, int, Any]] = []
        self._seq = 0
        self.now = self.start_us
        self.agents = [self._make_agent(i) for i in range(n_agents)]
        self.projects = [self._make_project(i) for i in range(n_projects)]
        self.tasks: list[_Task] = []
        self.todo: list[_Task] = []
        self.task_ids: set[str] = set()
        self._slug = 0
        self.refill_pending = False
        self.sessions = self._plan_sessions(days)
        self.session = self.sessions[0]
        self.emit = _Emitter(self.clock, self.sink, self.rng, self.session)
        self.server_up = False
        self.completed_in_tick = 0
        self.completed_total = 0
        self.ticks = 0

    # ---------------------------------------------------------------- setup

    def _make_agent(self, i: int) -> _Agent:
        rng = self.rng
        animal = rng.choice(_ANIMALS)
        role = rng.choice(list(_ROLES))
        pool = list(_ROLES[role])
        skills = rng.sample(pool, rng.randint(2, len(pool)))
        scheme = rng.choices([s[0] for s in _ID_SCHEMES], [s[1] for s in _ID_SCHEMES])[0]
        return _Agent(
            agent_id=scheme.format(animal=animal.lower(), n=i + 1),
            name=f"{animal} {i + 1}",
            role=role,
            skills=skills,
            kinds=_ROLE_KINDS[role],
            speed=rng.lognormvariate(math.log(0.85), 0.3),
            noise=rng.uniform(0.2, 0.5),
            improvement=rng.uniform(0.15, 0.4) if rng.random() < 0.35 else 0.0,
            blocker_rate=rng.uniform(0.04, 0.18),
        )

    def _make_project(self, i: int) -> _Project:
        rng = self.rng
        base = _PROJECT_NAMES[i % len(_PROJECT_NAMES)]
        name = base if i < len(_PROJECT_NAMES) else f"{base} {i // len(_PROJECT_NAMES) + 1}"
        provider = rng.choices(("planka", "github", "sqlite"), (0.65, 0.2, 0.15))[0]
        board_name: str | None
        if provider == "github":
            repo = f"acme/{name.lower().replace(' ', '-')}"
            board_id, board_name = repo, repo
        else:
            board_id = str(1612478574885864456 + rng.randrange(10**15))
            board_name = None if provider == "planka" or rng.random() < 0.5 else "Main Board"
        features = rng.sample(_FEATURES, 4)
        return _Project(
            project_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=name,
            board_id=board_id,
            board_name=board_name,
            provider=provider,
            id_style="digits" if provider == "planka" else "slug",
            description=(
                f"Build a {name.lower()} with the following features: {', '.join(features)}. "
                "Include input validation, error handling and comprehensive test coverage. "
                "Use Python."
            ),
        )

    def _plan_sessions(self, days: int) -> list[_Session]:
        """Server lifetimes: a few restarts a week, mostly in working hours, short downtimes."""
        rng = self.rng
        stops: list[int] = []
        for day in range(days):
            for _ in range(rng.choices((0, 1, 2, 3), (0.45, 0.35, 0.15, 0.05))[0]):
                stops.append(self._sample_busy_time(self.start_us + day * _DAY_US, _DAY_US))
        last_day = self.end_us - _DAY_US
        if not any(s >= last_day for s in stops):
            stops.append(self._sample_busy_time(last_day, _DAY_US - 2 * _HOUR_US))
        stops.sort()
        sessions: list[_Session] = []
        begin = self.start_us + rng.randint(1, 20) * _SECOND_US
        for stop in stops:
            if stop - begin < 30 * _MINUTE_US:
                continue
            sessions.append(_Session(len(sessions), begin, stop, rng.random() < 0.2))
            begin = stop + rng.randint(2 * _SECOND_US, 4 * _MINUTE_US)
        sessions.append(_Session(len(sessions), begin, self.end_us, rng.random() < 0.2))
        return sessions

    def _sample_busy_time(self, lo: int, span: int) -> int:
        """An instant in [lo, lo + span) drawn in proportion to activity (rejection sampling)."""
        for _ in range(200):
            t = lo + self.rng.randrange(span)
            if self.rng.random() < _intensity(t, self.clock.offset_us):
                return t
        return lo + self.rng.randrange(span)

    # ---------------------------------------------------------------- event loop

    def _push(self, us: int, kind: int, obj: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (us, self._seq, kind, obj))

    def run(self, *, partial_tail: bool) -> GroundTruth:
        """Play the whole simulation, write every file and return the ground truth."""
        self._schedule_initial()
        handlers: dict[int, Callable[[Any], None]] = {
            _EV_FLUSH: lambda _: self._on_flush(),
            _EV_STOP: self._on_server_stop,
            _EV_START: self._on_server_start,
            _EV_PROJECT: self._on_create_project,
            _EV_FEATURE: self._on_add_feature,
            _EV_LEASE: self._on_lease_expired,
            _EV_PROBE: lambda _: self._on_probe(),
            _EV_PING: lambda _: self._on_ping(),
            _EV_TICK: lambda _: self._on_tick(),
            _EV_AGENT: self._on_agent,
        }
        while self.heap and self.heap[0][0] < self.end_us:
            us, _, kind, obj = heapq.heappop(self.heap)
            self.now = us
            handlers[kind](obj)
        self.sink.flush_all()
        self._write_empty_processes()
        if partial_tail:
            self._write_partial_tail()
        return self._truth()

    def _schedule_initial(self) -> None:
        rng = self.rng
        for session in self.sessions:
            self._push(session.start_us, _EV_START, session)
            if session.stop_us < self.end_us:
                self._push(session.stop_us, _EV_STOP, session)
        first = self.sessions[0].start_us
        for i, project in enumerate(self.projects):
            at = first + rng.randint(2, 6) * _MINUTE_US
            if i:
                at = self._sample_busy_time(first, max(_HOUR_US, int((self.end_us - first) * 0.6)))
            self._push(at, _EV_PROJECT, project)
        for agent in self.agents:
            self._schedule(agent, self._next_wake(first + 5 * _MINUTE_US), "wake")
        self._push(first + rng.randrange(_PING_EVERY_US), _EV_PING)
        self._push(self.start_us + _METRIC_TICK_US, _EV_TICK)
        self._push(self.start_us + _HOUR_US, _EV_FLUSH)
        for day_start in range(self.start_us, self.end_us, _DAY_US):
            for _ in range(rng.randint(0, 2)):
                self._push(self._sample_busy_time(day_start, _DAY_US), _EV_PROBE)

    def _on_flush(self) -> None:
        self.sink.flush(self.now)
        self._push(self.now + _HOUR_US, _EV_FLUSH)

    def _schedule(self, agent: _Agent, at: int, kind: str, data: Any = None) -> None:
        agent.pending = (kind, data)
        self._push(at, _EV_AGENT, agent)

    def _next_wake(self, after: int) -> int:
        """When an offline agent comes back: thinning of the activity curve in 10-minute steps."""
        t = after + self.rng.randrange(10 * _MINUTE_US)
        while self.rng.random() > 0.35 * _intensity(t, self.clock.offset_us):
            t += 10 * _MINUTE_US
        return t + self.rng.randrange(10 * _MINUTE_US)

    # ---------------------------------------------------------------- server lifecycle

    def _on_server_start(self, session: _Session) -> None:
        self.session = self.emit.session = session
        self.server_up = True
        t = session.start_us
        session.naive_audit = t < self.cut_rt
        session.naive_events = t < self.cut_ae
        conv_stamp = self.clock.stamp(t, naive=False)
        session.conv = self.sink.buffer(
            f"{_CONV_DIR}/conversations_{conv_stamp}.jsonl",
            "conversations",
            session.stop_us,
            twin=f"{_CONV_DIR}/decisions_{conv_stamp}.jsonl",
        )
        t += self.rng.randint(200_000, 1_900_000)
        rt_stamp = self.clock.stamp(t, naive=session.naive_audit)
        session.realtime = self.sink.buffer(
            f"{_CONV_DIR}/realtime_{rt_stamp}.jsonl", "realtime", session.stop_us
        )
        self.emit.rt(t, "server_startup", {"provider": self._active_project_provider()})
        self.emit.seneca(
            t + 5,
            "system_event",
            "seneca.monitor",
            {"event": "marcus_server_started", "session": session.index, "log_file": rt_stamp},
        )
        t += self.emit.gap()
        project = self._default_project()
        if project is not None:
            self._kanban_connect(t, project)
        t += self.rng.randint(1, 3) * _SECOND_US
        self._register_client(t, "seneca-analytics", "observer", "analytics")
        self._register_client(t + 50_000, "marcus-admin", "admin", "admin")

    def _on_server_stop(self, session: _Session) -> None:
        self.server_up = False
        t = session.stop_us
        self.emit.seneca(
            t,
            "system_event",
            "seneca.monitor",
            {"event": "marcus_server_stopped", "session": session.index},
        )

    def _kanban_connect(self, t: int, project: _Project) -> None:
        data = {
            "project_id": project.board_id,
            "project_name": project.name,
            "provider": project.provider,
            "connection_status": "success",
        }
        self.emit.kanban(t, "pm_to_kanban", "provider_connected", data, [])
        echo = {"client_type": "agent", "echo": "hi", "timestamp": self.clock.utc(t)}
        self.emit.kanban(t + self.emit.gap(), "kanban_to_pm", "client_connection", echo, [])

    def _register_client(
        self, t: int, client_id: str, client_type: str, role: str, metadata: dict | None = None
    ) -> int:
        """Audit ``client_registration`` then the ``authenticate`` tool call."""
        metadata = metadata if metadata is not None else {}
        self.emit.audit(
            t,
            "client_registration",
            client_id,
            client_type,
            None,
            True,
            {"role": role, "metadata": metadata},
        )
        args: dict[str, Any] = {"client_id": client_id, "client_type": client_type, "role": role}
        if metadata:
            args["metadata"] = metadata
        tools = {"agent": _AGENT_TOOLS, "developer": _DEVELOPER_TOOLS}.get(client_type, ["*"])
        result = {
            "success": True,
            "client_id": client_id,
            "client_type": client_type,
            "role": role,
            "available_tools": tools,
            "message": f"Client '{client_id}' authenticated as {client_type} with role '{role}'",
        }
        call = self.emit.call_begin(t + 800, "authenticate", args, (client_id, client_type), None)
        self.emit.rt(
            call.t,
            "client_authenticated",
            {"client_id": client_id, "client_type": client_type, "role": role},
        )
        return self.emit.call_end(call, result)

    def _active_project_provider(self) -> str:
        project = self._default_project()
        return project.provider if project is not None else "planka"

    def _default_project(self) -> _Project | None:
        created = [p for p in self.projects if p.created]
        return created[0] if created else None

    # ---------------------------------------------------------------- background events

    def _on_ping(self) -> None:
        self._push(
            self.now + _PING_EVERY_US + self.rng.randrange(-_MINUTE_US, _MINUTE_US), _EV_PING
        )
        if not self.server_up:
            return
        t = self.now
        echo = "seneca health"
        self.emit.rt(
            t, "ping_request", {"echo": echo, "source": "mcp_client", "client_type": "seneca"}
        )
        self.emit.ae(
            t + 30, "ping_request", {"echo": echo, "source": "mcp_client", "client_type": "seneca"}
        )
        call = self.emit.call_begin(
            t + 60, "ping", {"echo": echo}, ("seneca-analytics", "observer")
        )
        result = {
            "success": True,
            "status": "online",
            "provider": self._active_project_provider(),
            "echo": echo,
            "timestamp": self.emit.nested_ts(call.t),
            "client_type_detected": "observer",
            "server_info": {"instance_id": "unknown", "log_dir": _LOG_DIR},
        }
        end = self.emit.call_end(call, result)
        self.emit.rt(
            end + 30,
            "ping_response",
            {"echo": echo, "status": "online", "timestamp": self.emit.nested_ts(call.t)},
        )

    def _on_probe(self) -> None:
        """A test process: ping, then tools an unregistered client may not call."""
        if not self.server_up:
            return
        t = self.now
        call = self.emit.call_begin(t, "ping", {"echo": "test"}, (None, None))
        result = {
            "success": True,
            "status": "online",
            "provider": self._active_project_provider(),
            "echo": "test",
            "timestamp": self.emit.nested_ts(call.t),
            "client_type_detected": "unknown",
            "server_info": {"instance_id": "unknown", "log_dir": _LOG_DIR},
        }
        t = self.emit.call_end(call, result)
        for tool in _PROBE_TOOLS:
            t += self.rng.randint(9_000, 18_000)
            reason = f"Tool '{tool}' not allowed for client type 'unregistered'"
            self.emit.audit(t, "access_denied", None, None, tool, False, {"reason": reason})

    def _on_tick(self) -> None:
        """Seneca's metric collector, every five minutes (a little late each time)."""
        self._push(self.now + _METRIC_TICK_US, _EV_TICK)
        t = self.now + self.rng.randint(1_000, 2_500_000)
        self.ticks += 1
        working = sum(1 for a in self.agents if a.task is not None)
        online = sum(1 for a in self.agents if a.online)
        load = working / len(self.agents)
        self.emit.metric(t, "active_agents", online, "count", {"environment": "production"})
        self.emit.metric(
            t + 3, "tasks_completed", self.completed_in_tick, "count", {"window": "5m"}
        )
        self.completed_in_tick = 0
        endpoint, base = (("request_next_task", 85.0), ("report_task_progress", 40.0))[
            self.ticks % 2
        ]
        value = base * (1 + 1.3 * load) * self.rng.lognormvariate(0, 0.25)
        self.emit.metric(t + 6, "api_latency_ms", round(value, 2), "ms", {"endpoint": endpoint})
        if self.ticks % 6 == 0:
            self._utilization(t + 10, 6 * _METRIC_TICK_US)
        if self.ticks % 12 == 0 and self.server_up:
            self._legacy_snapshot(t + 20, online, working)
        if self.server_up and self.rng.random() < 0.03 * _intensity(t, self.clock.offset_us):
            self._admin_review(t + _SECOND_US)

    def _utilization(self, t: int, window_us: int) -> None:
        for k, agent in enumerate(self.agents):
            if agent.busy_since is not None:
                agent.busy_us += t - agent.busy_since
                agent.busy_since = t
            value = round(min(1.0, agent.busy_us / window_us), 4)
            agent.busy_us = 0
            self.emit.metric(t + k, "agent_utilization", value, "ratio", {"agent": agent.agent_id})

    def _legacy_snapshot(self, t: int, online: int, working: int) -> None:
        blocked = sum(1 for a in self.agents if a.task is not None and a.task.status == "blocked")
        body = {
            "event_type": "state_snapshot",
            "active_workers": online,
            "tasks_in_progress": working - blocked,
            "tasks_completed": self.completed_total,
            "tasks_blocked": blocked,
            "system_metrics": {"status": "running", "todo_tasks": len(self.todo)},
        }
        self.emit.legacy(t, "system_state", "marcus", "info", body)

    def _admin_review(self, t: int) -> None:
        """The operator lists projects (a large audit line) and checks the active one."""
        client = ("marcus-admin", "admin")
        call = self.emit.call_begin(t, "list_projects", {}, client)
        listing = [self._project_listing(p, call.t) for p in self.projects if p.created]
        t = self.emit.call_end(call, listing)
        if self.rng.random() < 0.3:
            t += self.rng.randint(5_000, 30_000)
            reason = "Tool 'get_all_board_tasks' not allowed for client type 'admin'"
            self.emit.audit(
                t, "access_denied", *client, "get_all_board_tasks", False, {"reason": reason}
            )

    def _project_listing(self, project: _Project, t: int) -> dict[str, Any]:
        config: dict[str, Any] = {"project_id": project.board_id, "project_name": project.name}
        config.update(board_id=project.board_id, board_name=project.board_name or "Main Board")
        return {
            "id": project.project_id,
            "name": f"{project.name} - {project.board_name or 'Main Board'}",
            "provider": project.provider,
            "provider_config": config,
            "tags": ["discovered", project.provider],
            "is_active": project is self._default_project(),
            "last_used": self.emit.nested_ts(t),
            "created_at": self.emit.nested_ts(project.created_us),
        }

    # ---------------------------------------------------------------- projects and tasks

    def _new_task_id(self, project: _Project, t: int) -> str:
        if project.id_style == "slug":
            self._slug += 1
            return f"task-{self._slug:03d}"
        while True:
            candidate = str(
                1_600_000_000_000_000_000 + (t // 1000) * 4096 + self.rng.randrange(4096)
            )
            if candidate not in self.task_ids:
                return candidate

    def _new_tasks(self, project: _Project, t: int, count: int) -> list[_Task]:
        rng = self.rng
        made: list[_Task] = []
        for _ in range(count):
            verb, kind, _w = rng.choices(_KINDS, [k[2] for k in _KINDS])[0]
            feature = rng.choice(_FEATURES)
            priority = rng.choices([p[0] for p in _PRIORITIES], [p[1] for p in _PRIORITIES])[0]
            hours = rng.choices([e[0] for e in _ESTIMATES], [e[1] for e in _ESTIMATES])[0]
            parent = self._add_task(project, t, f"{verb} {feature}", kind, priority, hours, [])
            made.append(parent)
            if kind == "implementation" and hours >= 4.0 and rng.random() < 0.35:
                parts = rng.sample(_SUBPARTS, rng.randint(2, 3))
                for k, part in enumerate(parts, start=1):
                    sub = self._add_task(
                        project,
                        t,
                        f"{verb} {feature}: {part}",
                        kind,
                        priority,
                        round(hours / len(parts), 1),
                        [parent.task_id],
                        task_id=f"{parent.task_id}_sub_{k}",
                    )
                    made.append(sub)
        return made

    def _add_task(
        self,
        project: _Project,
        t: int,
        name: str,
        kind: str,
        priority: str,
        hours: float,
        depends: list[str],
        task_id: str | None = None,
    ) -> _Task:
        task_id = task_id or self._new_task_id(project, t)
        self.task_ids.add(task_id)
        labels = [f"type:{kind}", f"priority:{priority}"]
        task = _Task(
            task_id=task_id,
            project=project,
            name=name,
            kind=kind,
            priority=priority,
            estimated_hours=hours,
            description=_description(name, kind, priority, hours, project, depends),
            labels=labels,
            created_us=t,
        )
        project.tasks.append(task)
        self.tasks.append(task)
        self.todo.append(task)
        return task

    def _on_create_project(self, project: _Project) -> None:
        if not self.server_up:
            self._push(self._resume_time(), _EV_PROJECT, project)
            return
        t = self.now
        client = ("project-creator", "developer")
        t = self._register_client(t, *client, "project_creator")
        t += self.rng.randint(1, 5) * _SECOND_US
        complexity = self.rng.choice(("prototype", "standard", "enterprise"))
        options = {"mode": "new_project", "complexity": complexity}
        args = {
            "description": project.description,
            "project_name": project.name,
            "options": options,
        }
        call = self.emit.call_begin(t, "create_project", args, client)
        self.emit.rt(
            call.t, "create_project_start", {"project_name": project.name, "mode": "new_project"}
        )
        self.emit.ae(
            call.t + 10,
            "planning_start",
            {"project_name": project.name, "description_length": len(project.description)},
        )
        call.t += self.rng.randint(3, 9) * _SECOND_US
        project.created, project.created_us = True, call.t
        tasks = self._new_tasks(project, call.t, self.rng.randint(8, 18))
        call.t = self._log_plan(call.t, project, tasks, complexity)
        result = self._create_result(project, tasks, call.t)
        end = self.emit.call_end(call, result)
        self.emit.rt(
            end + 50,
            "create_project_complete",
            {"project_name": project.name, "task_count": len(tasks), "success": True},
        )
        self.emit.ae(
            end + 80, "planning_end", {"project_name": project.name, "task_count": len(tasks)}
        )

    def _log_plan(self, t: int, project: _Project, tasks: list[_Task], complexity: str) -> int:
        """PM thinking and decision about a plan, then one kanban card per task."""
        summary = [
            {
                "id": x.task_id,
                "name": x.name,
                "estimated_hours": x.estimated_hours,
                "labels": x.labels,
            }
            for x in tasks
        ]
        self.emit.thinking(
            t,
            f"Parsed requirements for {project.name}",
            {"description": project.description, "tasks": summary},
        )
        t += self.emit.gap()
        self.emit.decision(
            t,
            f"Create {len(tasks)} tasks for project '{project.name}'",
            "Requirements decomposed into design, implementation and testing phases",
            [{"approach": "Single phase plan", "score": 0.5}],
            0.9,
            {"complexity": complexity, "task_count": len(tasks)},
        )
        for task in tasks:
            t += self.rng.randint(20_000, 150_000)
            data = {"task_name": task.name, "project_id": project.project_id, "labels": task.labels}
            self.emit.kanban(
                t, "pm_to_kanban", "create_task", data, ["validate_task", "create_card"]
            )
            t += self.emit.gap()
            self.emit.kanban(
                t, "kanban_to_pm", "task_created", {"task_id": task.task_id, "success": True}, []
            )
        return t

    def _create_result(self, project: _Project, tasks: list[_Task], t: int) -> dict[str, Any]:
        by_kind = {
            k: sum(1 for x in tasks if x.kind == k) for k in ("design", "implementation", "testing")
        }
        return {
            "success": True,
            "project_name": project.name,
            "tasks_created": len(tasks),
            "task_breakdown": {"total": len(tasks), **by_kind},
            "phases": [],
            "estimated_days": max(1, round(sum(x.estimated_hours for x in tasks) / 8)),
            "dependencies_mapped": sum(1 for x in tasks if "_sub_" in x.task_id) + len(tasks),
            "risk_level": "low",
            "confidence": 0.85,
            "created_at": self.emit.nested_ts(t),
            "task_count": len(tasks),
        }

    def _maybe_refill(self) -> None:
        if self.refill_pending or len(self.todo) >= max(3, len(self.agents)):
            return
        created = [p for p in self.projects if p.created]
        if not created:
            return
        self.refill_pending = True
        at = self._sample_busy_time(self.now + 5 * _MINUTE_US, 3 * _HOUR_US)
        self._push(at, _EV_FEATURE, self.rng.choice(created))

    def _on_add_feature(self, project: _Project) -> None:
        if not self.server_up:
            self._push(self._resume_time(), _EV_FEATURE, project)
            return
        self.refill_pending = False
        feature = self.rng.choice(_FEATURES)
        text = f"Add {feature.lower()} to {project.name} with tests and documentation"
        args = {"feature_description": text, "integration_point": "auto_detect"}
        call = self.emit.call_begin(self.now, "add_feature", args, ("project-creator", "developer"))
        count = max(4, min(40, len(self.agents) + self.rng.randint(-2, 6)))
        tasks = self._new_tasks(project, call.t, count)
        call.t = self._log_plan(call.t + self.emit.gap(), project, tasks, "standard")
        result = {
            "success": True,
            "tasks_created": len(tasks),
            "integration_point": "auto_detect",
            "feature": feature,
        }
        self.emit.call_end(call, result)
        self._maybe_refill()

    def _resume_time(self) -> int:
        nxt = (
            self.sessions[self.session.index + 1]
            if self.session.index + 1 < len(self.sessions)
            else None
        )
        base = nxt.start_us if nxt is not None and nxt.start_us > self.now else self.now
        return base + self.rng.randint(2, 90) * _SECOND_US

    # ---------------------------------------------------------------- agents

    def _on_agent(self, agent: _Agent) -> None:
        if not self.server_up:
            self._push(self._resume_time(), _EV_AGENT, agent)
            return
        kind, data = agent.pending
        t = self.now
        if agent.session != self.session.index:
            t = self._register_agent(agent, t)
        if kind == "wake":
            agent.online = True
            kind = "request"
        steps: dict[str, Callable[[_Agent, int, Any], None]] = {
            "request": self._do_request,
            "context": self._do_context,
            "progress": self._do_progress,
            "artifact": self._do_artifact,
            "blocker": self._do_blocker,
            "unassign": self._do_unassign,
            "vanish": self._do_vanish,
        }
        steps[kind](agent, t, data)

    def _client(self, agent: _Agent) -> tuple[str, str]:
        return agent.agent_id, "agent"

    def _register_agent(self, agent: _Agent, t: int) -> int:
        agent.session = self.session.index
        t = self._register_client(t, agent.agent_id, "agent", "developer")
        t += self.rng.randint(100_000, 2_000_000)
        args = {
            "agent_id": agent.agent_id,
            "name": agent.name,
            "role": agent.role,
            "skills": agent.skills,
        }
        call = self.emit.call_begin(t, "register_agent", args, self._client(agent), agent.agent_id)
        info = {
            "worker_id": agent.agent_id,
            "name": agent.name,
            "role": agent.role,
            "skills": agent.skills,
        }
        self.emit.rt(
            call.t, "worker_registration", {**info, "source": "mcp_client", "target": "marcus"}
        )
        self.emit.ae(call.t + 20, "worker_registration", info)
        call.t += 40
        result = {
            "success": True,
            "message": f"Agent {agent.name} registered successfully",
            "agent_id": agent.agent_id,
        }
        return self.emit.call_end(call, result) + self.rng.randint(200_000, 3_000_000)

    def _after_idle(self, agent: _Agent, t: int) -> None:
        """Next request soon in working hours; otherwise the agent goes offline for a while."""
        p_stay = 0.15 + 0.85 * _intensity(t, self.clock.offset_us)
        if agent.idle_streak == 0 and self.rng.random() < p_stay:
            self._schedule(
                agent, t + int(self.rng.lognormvariate(math.log(40), 0.7) * _SECOND_US), "request"
            )
            return
        if agent.idle_streak and agent.idle_streak < 6 and self.rng.random() < p_stay:
            wait = min(1800, 30 * 2**agent.idle_streak) * self.rng.uniform(0.8, 1.3)
            self._schedule(agent, t + int(wait * _SECOND_US), "request")
            return
        agent.online = False
        agent.session = -1  # a new client session registers again
        agent.idle_streak = 0
        self.emit.rt(
            t + 1000, "session_expired", {"client_id": agent.agent_id, "idle_seconds": 1800}
        )
        self._schedule(agent, self._next_wake(t + 30 * _MINUTE_US), "wake")

    def _do_request(self, agent: _Agent, t: int, _data: Any) -> None:
        if self.rng.random() < 0.01:
            reason = "Tool 'list_projects' not allowed for client type 'agent'"
            self.emit.audit(
                t, "access_denied", *self._client(agent), "list_projects", False, {"reason": reason}
            )
            t += self.rng.randint(50_000, 900_000)
        project = agent.project or self._default_project()
        task = self._pick_task(agent)
        key = "request_next_task" if task is not None else "request_next_task:none"
        args = {"agent_id": agent.agent_id}
        call = self.emit.call_begin(
            t, "request_next_task", args, self._client(agent), agent.agent_id, key
        )
        t = call.t
        meta = {"worker_info": f"Worker {agent.agent_id} requesting task"}
        self.emit.worker_msg(
            t, agent.agent_id, "worker_to_pm", "Requesting next task", meta, project
        )
        t += self.emit.gap()
        source = {"worker_id": agent.agent_id, "source": agent.agent_id, "target": "marcus"}
        self.emit.rt(t, "task_request", source)
        self.emit.ae(t + 15, "task_request", {"worker_id": agent.agent_id})
        t = self._refresh_state(t + self.emit.gap(), task.project if task else project)
        t = self._think_candidates(t, agent, task)
        if task is None:
            call.t = self._no_task(t, agent, project)
            self.emit.call_end(
                call, {"success": False, "message": "No suitable tasks available at this time"}
            )
            agent.idle_streak += 1
            self._after_idle(agent, call.t + _SECOND_US)
            return
        call.t = self._assign(t, agent, task)
        result = self._task_result(task)
        end = self.emit.call_end(call, result)
        if self.rng.random() < 0.35:
            context = {"tool": "request_next_task", "arguments": args, "response": result}
            self.emit.thinking(
                end + 100, f"Delivered task {task.task_id} to {agent.agent_id}", context
            )
        task.instructions = ""  # only needed while assigning; keeps memory flat on long runs
        self._plan_work(agent, task, end)

    def _refresh_state(self, t: int, project: _Project | None) -> int:
        self.emit.rt(t, "refresh_project_state_start", {"kanban_client_exists": True})
        t += self.rng.randint(2_000, 60_000)
        tasks = project.tasks if project is not None else []
        done = project.completed if project is not None else 0
        state = {
            "board_id": project.board_id if project is not None else None,
            "project_name": "Current Project",
            "total_tasks": len(tasks),
            "completed_tasks": done,
            "in_progress_tasks": project.in_progress if project is not None else 0,
            "blocked_tasks": 0,
            "progress_percent": round(100 * done / len(tasks), 2) if tasks else 0.0,
            "team_velocity": 0.0,
            "risk_level": "low",
            "last_updated": self.emit.nested_ts(t - 3),
        }
        self.emit.rt(
            t, "project_state_refreshed", {"task_count": len(tasks), "project_state": state}
        )
        return t + self.emit.gap()

    def _think_candidates(self, t: int, agent: _Agent, chosen: _Task | None) -> int:
        candidates = self.todo[:8] if chosen is None else [chosen, *self.todo[:7]]
        context = {
            "agent_id": agent.agent_id,
            "agent_skills": agent.skills,
            "available_tasks": len(self.todo) + (chosen is not None),
            "candidates": [
                {
                    "id": c.task_id,
                    "name": c.name,
                    "priority": c.priority,
                    "estimated_hours": c.estimated_hours,
                    "labels": c.labels,
                    "description": c.description,
                }
                for c in candidates
            ],
        }
        self.emit.thinking(t, f"Finding optimal task for {agent.agent_id}", context)
        return t + self.rng.randint(1_000, 400_000)

    def _pick_task(self, agent: _Agent) -> _Task | None:
        """Marcus's choice: priority and skill match among the oldest open tasks, or none."""
        if not self.todo or self.rng.random() < 0.04:
            return None
        best, best_score = 0, -1.0
        for i, task in enumerate(self.todo[:12]):
            score = _PRIORITY_SCORE[task.priority] + (0.5 if task.kind in agent.kinds else 0.0)
            score += self.rng.random() * 0.6
            if score > best_score:
                best, best_score = i, score
        task = self.todo.pop(best)
        self._maybe_refill()
        return task

    def _no_task(self, t: int, agent: _Agent, project: _Project | None) -> int:
        reason = "all_tasks_assigned" if not self.todo else "no_matching_tasks"
        meta = {"reason": reason, "retry_after_seconds": 60}
        msg = "No suitable tasks available at this time"
        self.emit.worker_msg(t, agent.agent_id, "pm_to_worker", msg, meta, project)
        if self.rng.random() < 0.25:
            t += self.emit.gap()
            response = {"success": False, "message": msg}
            self.emit.tool_failure(
                t, "request_next_task", {"agent_id": agent.agent_id}, msg, response
            )
        return t + self.emit.gap()

    def _assign(self, t: int, agent: _Agent, task: _Task) -> int:
        """Decision, kanban update, the two assignment messages and their mirrors."""
        project = task.project
        t = self._decide_assignment(t, agent, task)
        self._mark_assigned(agent, task, t)
        assigned = {
            "task_id": task.task_id,
            "instructions": task.instructions,
            "priority": task.priority,
        }
        self.emit.worker_msg(
            t, agent.agent_id, "pm_to_worker", f"Assigned task: {task.name}", assigned, project
        )
        t += self.emit.gap()
        meta: dict[str, Any] = {
            "task_id": task.task_id,
            "task_name": task.name,
            "priority": task.priority,
            "estimated_hours": task.estimated_hours,
        }
        self.emit.worker_msg(
            t, agent.agent_id, "pm_to_worker", f"Task assigned: {task.name}", meta, project
        )
        t += self.emit.gap()
        brief = {
            "id": task.task_id,
            "name": task.name,
            "priority": task.priority,
            "estimated_hours": task.estimated_hours,
        }
        legacy = {
            "event_type": "assignment",
            "task_id": task.task_id,
            "worker_id": agent.agent_id,
            "task_details": {k: brief[k] for k in ("name", "priority", "estimated_hours")},
            "assignment_score": 0.9 if task.kind in agent.kinds else 0.6,
            "dependency_analysis": {},
        }
        self.emit.legacy(t, "task_assignment", "marcus", "info", legacy)
        payload = {
            "agent_id": agent.agent_id,
            "task_id": task.task_id,
            "task_name": task.name,
            "priority": task.priority,
            "source": "marcus",
            "target": agent.agent_id,
        }
        self.emit.rt(t + 10, "task_assignment", payload)
        self.emit.ae(t + 20, "task_assignment", {"worker_id": agent.agent_id, "task": brief})
        return t + self.emit.gap()

    def _decide_assignment(self, t: int, agent: _Agent, task: _Task) -> int:
        skill = round(0.9 if task.kind in agent.kinds else self.rng.uniform(0.5, 0.8), 2)
        self.emit.decision(
            t,
            f"Assign task '{task.name}' to {agent.agent_id}",
            self.rng.choice(_RATIONALES),
            [{"task": "Other Task 1", "score": 0.7}, {"task": "Other Task 2", "score": 0.6}],
            0.85,
            {"skill_match": skill, "priority": task.priority, "dependencies_clear": True},
        )
        t += self.emit.gap()
        data = {"task_id": task.task_id, "status": "in_progress", "assigned_to": agent.agent_id}
        steps = ["validate_task_exists", "update_status", "assign_agent"]
        self.emit.kanban(t, "pm_to_kanban", "update_task", data, steps)
        t += self.rng.randint(5_000, 120_000)
        done = {"task_id": task.task_id, "success": True}
        self.emit.kanban(t, "kanban_to_pm", "task_updated", done, [])
        return t + self.emit.gap()

    def _mark_assigned(self, agent: _Agent, task: _Task, t: int) -> None:
        task.instructions = _instructions(task, self.rng)
        task.status = "in_progress"
        task.agent_id = agent.agent_id
        task.assigned_us = t
        task.first_progress_us = None
        task.first_assigned_us = task.first_assigned_us or t
        task.assignments += 1
        task.project.in_progress += 1
        agent.task = task
        agent.project = task.project
        agent.idle_streak = 0
        agent.busy_since = t

    def _task_result(self, task: _Task) -> dict[str, Any]:
        return {
            "success": True,
            "task": {
                "id": task.task_id,
                "name": task.name,
                "description": task.description,
                "instructions": task.instructions,
                "priority": task.priority,
                "implementation_context": None,
                "project_id": task.project.project_id,
                "project_name": task.project.name,
                "full_context": {
                    "task_id": task.task_id,
                    "previous_implementations": {},
                    "dependent_tasks": [],
                    "related_patterns": [],
                    "architectural_decisions": [],
                },
            },
        }

    # ---------------------------------------------------------------- work plans

    def _work_seconds(self, agent: _Agent, task: _Task, t: int) -> float:
        """Actual work time: estimate x agent speed x task fit x learning x noise."""
        elapsed = (t - self.start_us) / max(1, self.end_us - self.start_us)
        fit = 0.8 if task.kind in agent.kinds else 1.25
        learning = 1.0 - agent.improvement * elapsed
        noise = self.rng.lognormvariate(0.0, agent.noise)
        return max(300.0, task.estimated_hours * 3600 * agent.speed * fit * learning * noise)

    def _plan_work(self, agent: _Agent, task: _Task, t0: int) -> None:
        rng = self.rng
        work_us = int(self._work_seconds(agent, task, t0) * _SECOND_US)
        steps: list[tuple[int, str, Any]] = [
            (t0 + rng.randint(5, 60) * _SECOND_US, "context", None)
        ]
        if rng.random() < 0.5:
            steps.append((t0 + rng.randint(30, 180) * _SECOND_US, "progress", 0))
        marks = [50] if task.estimated_hours < 1 else [25, 50, 75]
        if task.estimated_hours >= 6 and rng.random() < 0.5:
            marks = [10, 20, 30, 40, 50, 60, 70, 80, 90]
        for mark in marks:
            jitter = rng.uniform(-0.08, 0.08)
            steps.append(
                (t0 + int(work_us * min(0.97, max(0.03, mark / 100 + jitter))), "progress", mark)
            )
        if rng.random() < 0.3:
            steps.append((t0 + int(work_us * rng.uniform(0.3, 0.9)), "artifact", None))
        steps.append((t0 + work_us, "progress", 100))
        steps.sort(key=lambda s: s[0])
        if rng.random() < agent.blocker_rate:
            steps = self._insert_blocker(steps, t0, work_us)
        elif rng.random() < 0.015:
            cut = rng.randrange(1, len(steps))
            steps = [*steps[:cut], (steps[cut][0], "vanish", None)]
        agent.steps = _spread(steps)
        self._next_step(agent)

    def _insert_blocker(
        self, steps: list[tuple[int, str, Any]], t0: int, work_us: int
    ) -> list[tuple[int, str, Any]]:
        """A blocker part-way: a soft one delays what follows, a hard one ends in unassignment."""
        rng = self.rng
        at = t0 + int(work_us * rng.uniform(0.1, 0.85))
        severity = rng.choices(("low", "medium", "high"), (0.35, 0.45, 0.2))[0]
        hard = rng.random() < {"low": 0.05, "medium": 0.15, "high": 0.45}[severity]
        before = [s for s in steps if s[0] < at]
        after = [s for s in steps if s[0] >= at]
        blocker = (at, "blocker", (severity, rng.choice(_BLOCKERS), hard))
        if hard:
            wait = int(rng.uniform(0.5, 5.0) * _HOUR_US)
            return [*before, blocker, (at + wait, "unassign", True)]
        delay = int(rng.lognormvariate(math.log(25), 0.8) * _MINUTE_US)
        return [*before, blocker, *[(s[0] + delay, s[1], s[2]) for s in after]]

    def _next_step(self, agent: _Agent) -> None:
        at, kind, data = agent.steps.pop(0)
        self._schedule(agent, max(at, self.now + 1), kind, data)

    def _do_context(self, agent: _Agent, t: int, _data: Any) -> None:
        task = agent.task
        assert task is not None
        args = {"task_id": task.task_id}
        call = self.emit.call_begin(
            t, "get_task_context", args, self._client(agent), agent.agent_id
        )
        self.emit.ae(
            call.t,
            "context_requested",
            {"agent_id": agent.agent_id, "task_id": task.task_id, "project": task.project.name},
        )
        card = {
            "id": task.task_id,
            "name": task.name,
            "description": task.description,
            "status": "in_progress",
            "priority": task.priority,
            "assigned_to": agent.agent_id,
            "labels": task.labels,
            "created_at": self.emit.nested_ts(task.created_us),
            "updated_at": self.emit.nested_ts(task.assigned_us or t),
        }
        context = {
            "task": card,
            "dependencies": [],
            "blockers": [],
            "artifacts": [],
            "decisions": [],
        }
        result = {"success": True, "context": context}
        self.emit.call_end(call, result)
        self._next_step(agent)

    def _do_artifact(self, agent: _Agent, t: int, _data: Any) -> None:
        task = agent.task
        assert task is not None
        slug = task.name.lower().replace(" ", "_").replace(":", "").replace("/", "_")
        content = (
            f"# {task.name}\n\n"
            + "\n".join(f"- {line}" for line in self.rng.sample(_SUGGESTIONS, 4))
            + "\n\n"
            + task.description
        )
        args = {
            "task_id": task.task_id,
            "filename": f"{slug}.md",
            "content": content,
            "artifact_type": "documentation" if task.kind != "implementation" else "specification",
        }
        call = self.emit.call_begin(t, "log_artifact", args, self._client(agent), agent.agent_id)
        location = f"docs/artifacts/{slug}.md"
        self.emit.call_end(call, {"success": True, "location": location, "task_id": task.task_id})
        if self.rng.random() < 0.5:
            self._log_decision(call.t + self.rng.randint(5, 90) * _SECOND_US, agent, task)
        self._next_step(agent)

    def _log_decision(self, t: int, agent: _Agent, task: _Task) -> None:
        decision = f"Use {self.rng.choice(agent.skills)} for {task.name.lower()}"
        args = {"agent_id": agent.agent_id, "task_id": task.task_id, "decision": decision}
        call = self.emit.call_begin(t, "log_decision", args, self._client(agent), agent.agent_id)
        decision_id = f"dec_{task.task_id}_{call.start % 100_000:05d}"
        self.emit.call_end(call, {"success": True, "decision_id": decision_id})

    def _do_progress(self, agent: _Agent, t: int, pct: int) -> None:
        task = agent.task
        assert task is not None
        status = "completed" if pct == 100 else "in_progress"
        text = (
            f"Starting work on: {task.name}" if pct == 0 else self.rng.choice(_progress_texts(pct))
        )
        args = {
            "agent_id": agent.agent_id,
            "task_id": task.task_id,
            "status": status,
            "progress": pct,
            "message": text,
        }
        call = self.emit.call_begin(
            t, "report_task_progress", args, self._client(agent), agent.agent_id
        )
        t = call.t
        meta = {"task_id": task.task_id, "status": status, "progress": pct}
        self.emit.worker_msg(
            t,
            agent.agent_id,
            "worker_to_pm",
            f"Progress update: {text} ({pct}%)",
            meta,
            task.project,
        )
        task.first_progress_us = task.first_progress_us or t
        if pct == 100:
            self._mark_completed(agent, task, t)
        legacy = {
            "event_type": "progress",
            "worker_id": agent.agent_id,
            "task_id": task.task_id,
            "progress": pct,
            "status": status,
            "message": text,
            "metrics": {"elapsed_minutes": (t - (task.assigned_us or t)) // _MINUTE_US},
        }
        self.emit.legacy(t + 40, "progress_update", "worker", "info", legacy)
        self.emit.ae(t + 60, "progress_update", args)
        t += self.rng.randint(2_000, 80_000)
        steps = ["add_comment", "update_checklist"] + (["move_to_done"] if pct == 100 else [])
        update = {"task_id": task.task_id, "progress": pct, "status": status}
        self.emit.kanban(t, "pm_to_kanban", "update_task_progress", update, steps)
        call.t = t + self.emit.gap()
        end = self.emit.call_end(
            call, {"success": True, "message": "Progress updated successfully"}
        )
        if pct == 100:
            self._after_completion(agent, task, end)
        else:
            self._next_step(agent)

    def _mark_completed(self, agent: _Agent, task: _Task, t: int) -> None:
        task.status = "completed"
        task.completed_us = t
        task.project.completed += 1
        task.project.in_progress -= 1
        self.completed_in_tick += 1
        self.completed_total += 1
        seconds = round((t - (task.assigned_us or t)) / _SECOND_US, 3)
        tags = {"agent": agent.agent_id, "priority": task.priority, "project": task.project.name}
        self.emit.metric(t + 500, "task_duration_seconds", seconds, "s", tags)
        self.emit.conversation(t + 600, agent.agent_id, f"Completed {task.name}", task.task_id)

    def _after_completion(self, agent: _Agent, task: _Task, t: int) -> None:
        self._release(agent, t)
        self._after_idle(agent, t + self.rng.randint(1, 20) * _SECOND_US)

    def _release(self, agent: _Agent, t: int) -> None:
        if agent.busy_since is not None:
            agent.busy_us += t - agent.busy_since
        agent.busy_since = None
        agent.task = None
        agent.steps = []

    def _do_blocker(self, agent: _Agent, t: int, data: tuple[str, str, bool]) -> None:
        """The agent reports a blocker; the PM thinks, decides and answers with suggestions."""
        task = agent.task
        assert task is not None
        severity, text, hard = data
        args = {
            "agent_id": agent.agent_id,
            "task_id": task.task_id,
            "blocker_description": text,
            "severity": severity,
        }
        call = self.emit.call_begin(t, "report_blocker", args, self._client(agent), agent.agent_id)
        t = call.t
        meta = {"task_id": task.task_id, "severity": severity}
        message = f"Reporting blocker: {text}"
        self.emit.worker_msg(t, agent.agent_id, "worker_to_pm", message, meta, task.project)
        task.blockers.append((t, severity, text))
        if hard:
            task.status = "blocked"
        suggestions = self.rng.sample(_SUGGESTIONS, self.rng.randint(2, 4))
        legacy = {
            "event_type": "blocker",
            "worker_id": agent.agent_id,
            "task_id": task.task_id,
            "blocker_description": text,
            "severity": severity,
            "suggested_solutions": suggestions,
            "resolution_attempts": [],
        }
        self.emit.legacy(t + 30, "blocker_reported", "worker", "warning", legacy)
        t = self._answer_blocker(t + self.rng.randint(500_000, 2_000_000), agent, task, data)
        answer_meta: dict[str, Any] = {"suggestions": suggestions, "severity": severity}
        answer = "Blocker acknowledged. Suggestions provided."
        self.emit.worker_msg(t, agent.agent_id, "pm_to_worker", answer, answer_meta, task.project)
        self.emit.conversation(t + 100, agent.agent_id, f"Blocker: {text}", task.task_id)
        call.t = t + self.emit.gap()
        result = {"success": True, "suggestions": suggestions, "message": "Blocker reported"}
        self.emit.call_end(call, result)
        self._next_step(agent)

    def _answer_blocker(
        self, t: int, agent: _Agent, task: _Task, data: tuple[str, str, bool]
    ) -> int:
        severity, text, _hard = data
        context = {
            "blocker": text,
            "severity": severity,
            "task": task.name,
            "description": task.description,
        }
        self.emit.thinking(t, f"Analyzing blocker on task {task.task_id}", context)
        t += self.emit.gap()
        self.emit.decision(
            t,
            f"Provide AI suggestions for blocker on task {task.task_id}",
            f"Blocker severity {severity} requires guidance before work can continue",
            [
                {"option": "Reassign task", "score": 0.4},
                {"option": "Escalate to human", "score": 0.3},
            ],
            0.75,
            {"severity": severity, "agent_id": agent.agent_id},
        )
        t += self.emit.gap()
        comment = {"task_id": task.task_id, "comment": f"BLOCKER ({severity}): {text}"}
        self.emit.kanban(t, "pm_to_kanban", "add_comment", comment, ["add_comment"])
        return t + self.emit.gap()

    def _do_unassign(self, agent: _Agent, t: int, manual: bool) -> None:
        """The operator resets a task blocked for too long; the agent moves on."""
        task = agent.task
        assert task is not None
        call = self.emit.call_begin(
            t,
            "unassign_task",
            {"task_id": task.task_id, "agent_id": agent.agent_id},
            ("marcus-admin", "admin"),
        )
        t = self._log_unassign(call.t, agent.agent_id, task, manual, "blocked_too_long")
        call.t = t
        end = self.emit.call_end(
            call,
            {
                "success": True,
                "message": f"Task {task.task_id} unassigned from {agent.agent_id}",
                "task_id": task.task_id,
            },
        )
        self._release(agent, end)
        self._after_idle(agent, end + self.rng.randint(5, 60) * _SECOND_US)

    def _log_unassign(self, t: int, agent_id: str, task: _Task, manual: bool, reason: str) -> int:
        self.emit.decision(
            t,
            f"Unassign task {task.task_id} from {agent_id}",
            f"Task reset to TODO: {reason}",
            [],
            None,
            {"reason": reason},
        )
        t += self.emit.gap()
        meta = {"task_id": task.task_id, "manual_unassignment": manual}
        self.emit.worker_msg(
            t,
            agent_id,
            "pm_to_worker",
            f"Task {task.task_id} unassigned - reset to TODO",
            meta,
            task.project,
        )
        source = "manual_intervention" if manual else "lease_recovery"
        self.emit.rt(
            t + 20,
            "task_unassigned",
            {"agent_id": agent_id, "task_id": task.task_id, "source": source, "target": "marcus"},
        )
        task.status = "unassigned"
        task.project.in_progress -= 1
        self.todo.insert(0, task)
        return t + self.emit.gap()

    def _do_vanish(self, agent: _Agent, t: int, _data: Any) -> None:
        """The agent's session dies mid-task; Marcus recovers the task when its lease expires."""
        task = agent.task
        assert task is not None
        self._push(
            t + int(self.rng.uniform(1.0, 3.0) * _HOUR_US), _EV_LEASE, (task, task.assignments)
        )
        self._release(agent, t)
        agent.online = False
        agent.session = -1
        self._schedule(agent, self._next_wake(t + _HOUR_US), "wake")

    def _on_lease_expired(self, item: tuple[_Task, int]) -> None:
        task, assignment = item
        if task.assignments != assignment or task.status == "completed":
            return
        if not self.server_up:
            self._push(self._resume_time(), _EV_LEASE, item)
            return
        self._log_unassign(self.now, task.agent_id or "unknown", task, False, "lease_expired")

    # ---------------------------------------------------------------- files without events

    def _write_empty_processes(self) -> None:
        """CLI runs, tests and tools import the logger and write nothing: empty file pairs."""
        last_start = self.sessions[-1].start_us
        taken = {rel for rel in self.sink.files if "/conversations_" in rel}
        for day_start in range(self.start_us, self.end_us, _DAY_US):
            for _ in range(self.rng.randint(3, 10)):
                t = self._sample_busy_time(day_start, _DAY_US)
                if t >= last_start:
                    continue
                stamp = self.clock.stamp(t, naive=False)
                rel = f"{_CONV_DIR}/conversations_{stamp}.jsonl"
                if rel in taken:
                    continue
                taken.add(rel)
                self.sink.touch(rel)
                self.sink.touch(f"{_CONV_DIR}/decisions_{stamp}.jsonl")

    def _write_partial_tail(self) -> None:
        """A live Marcus can leave the newest conversations file with a half-written last line."""
        newest = max(rel for rel in self.sink.files if "/conversations_" in rel)
        t = self.end_us - 1234
        rec = {
            "conversation_type": "internal_thinking",
            "thought": "Checking board health before the next assignment",
            "context": {"todo_tasks": len(self.todo), "agents": [a.agent_id for a in self.agents]},
            "timestamp": self.clock.z(t),
            "event": "pm_thinking",
            "logger": "marcus",
            "level": "debug",
        }
        line = json.dumps(rec)
        self.sink.append_partial(newest, line[: len(line) // 2])

    # ---------------------------------------------------------------- truth

    def _truth(self) -> GroundTruth:
        projects = [
            {
                "project_id": p.project_id,
                "project_name": p.name,
                "board_id": p.board_id,
                "board_name": p.board_name,
                "provider": p.provider,
                "created_at": _to_dt(p.created_us) if p.created else None,
                "task_count": len(p.tasks),
            }
            for p in self.projects
        ]
        files = dict(sorted(self.sink.files.items()))
        return GroundTruth(
            seed=self.seed,
            start=self.start,
            end=self.start + timedelta(microseconds=self.end_us - self.start_us),
            agents=[a.public() for a in self.agents],
            projects=projects,
            tasks=[t.truth() for t in self.tasks],
            files=files,
            lines_by_stream=dict(self.sink.lines),
            bytes_written=self.sink.bytes,
        )


def _spread(steps: list[tuple[int, str, Any]]) -> list[tuple[int, str, Any]]:
    """Keep steps in order and at least a few seconds apart."""
    out: list[tuple[int, str, Any]] = []
    last = 0
    for at, kind, data in steps:
        at = max(at, last + 5 * _SECOND_US)
        out.append((at, kind, data))
        last = at
    return out


def _progress_texts(pct: int) -> tuple[str, ...]:
    if pct in _PROGRESS_TEXT:
        return _PROGRESS_TEXT[pct]
    return (
        f"About {pct}% through the implementation",
        "Making steady progress",
        "Iterating on review notes",
    )


def _description(
    name: str, kind: str, priority: str, hours: float, project: _Project, depends: list[str]
) -> str:
    lead = {
        "design": "Design the architecture and interfaces. Document API specifications, data "
        "contracts and architectural decisions.",
        "implementation": "Implement the feature end to end with clean, tested code following the "
        "project's conventions.",
        "testing": "Create a testing suite: unit tests, integration tests and error-handling "
        "validation. Achieve >80% coverage.",
        "documentation": "Write user and developer documentation with runnable examples.",
        "deployment": "Automate build and deployment, with health checks and rollback.",
    }[kind]
    slug = name.lower().replace(" ", "_").replace(":", "").replace("/", "_")
    text = (
        f"{lead} Focus on: {name} for {project.name}.\n\n"
        "\U0001f4cb Task Metadata (Auto-generated)\n"
        f"\U0001f3f7\ufe0f Original ID: task_{slug}\n"
        f"\u23f1\ufe0f Estimated: {hours:g} hours\n"
        f"{_PRIORITY_ICON[priority]} Priority: {priority.upper()}"
    )
    if depends:
        text += f"\n\U0001f517 Dependencies: {', '.join(depends)}"
    return text


_STEPS = {
    "design": (
        "Review the requirements and existing architecture",
        "Draft the API surface and data contracts",
        "Write an architecture decision record",
        "Review the design with the team",
    ),
    "implementation": (
        "Read the design artifacts from dependency tasks",
        "Implement the core logic behind a clear interface",
        "Handle errors and edge cases explicitly",
        "Write unit tests alongside the code",
        "Run the full test suite before reporting completion",
    ),
    "testing": (
        "Review the implementation to understand functionality",
        "Write unit tests for individual components",
        "Create integration tests for workflows",
        "Add edge case and error handling tests",
        "Ensure minimum 80% code coverage",
    ),
    "documentation": (
        "Collect the public interfaces to document",
        "Write a quick start with a runnable example",
        "Document configuration and error messages",
    ),
    "deployment": (
        "Write the container build",
        "Add health checks and readiness probes",
        "Automate the pipeline with rollback",
    ),
}


def _instructions(task: _Task, rng: random.Random) -> str:
    """Instructions in the shape Marcus's AI writes them (markdown, 1-3 KB)."""
    steps = "\n".join(
        f"{i}. **{s}**\n   - {rng.choice(_SUGGESTIONS)}" for i, s in enumerate(_STEPS[task.kind], 1)
    )
    return (
        f"## \U0001f9ea {task.name}\n\n"
        f"**Task:** {task.name}\n\n"
        f"**Description:** {task.description}\n\n"
        f"**Priority:** {task.priority}\n**Estimated Hours:** {task.estimated_hours}\n"
        f"**Type:** {task.kind.title()}\n\n"
        f"### Instructions:\n\n{steps}\n\n"
        "### Definition of Done\n"
        "- All tests pass successfully\n- Code coverage meets requirements\n"
        "- Edge cases are tested\n- Documentation is complete\n\n"
        "### Communication\n"
        "- Report progress at 25%, 50% and 75%\n- Ask for clarification if needed\n"
        "- Report any blockers immediately\n\n"
        f"**Labels:** {', '.join(task.labels)}\n\nGood luck with your task!\n\n"
        + _WORKFLOW.format(name=task.name, description=task.description.split("\n", 1)[0])
    )


_WORKFLOW = """\U0001f534 MANDATORY WORKFLOW \U0001f534

Before starting work, you MUST write a todo list with these steps:

1. Call get_task_context to check dependencies and artifacts
2. Read artifacts from dependency tasks
3. [TASK WORK: {name}]
   {description}
4. Report progress at 25%, 50%, 75% milestones
5. Log decisions (log_decision) and artifacts (log_artifact) as needed
6. BEFORE reporting "completed", verify:
   - Does your code actually run without errors?
   - Do all the tests for this task pass?
7. Report completion with implementation summary
8. Be prepared for remediation work if validation fails and resubmit progress
9. Immediately request next task

\u26a0\ufe0f CRITICAL BEHAVIORS:
- Check dependencies with get_task_context BEFORE starting work
- Report progress at each milestone (not just at completion)
- VERIFY code runs and tests pass BEFORE reporting completed"""
