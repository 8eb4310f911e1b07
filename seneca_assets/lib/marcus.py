"""What Marcus writes: stream names, file names, record discriminators and identity fields.

This module knows Marcus's formats (see docs/MARCUS_FORMATS.md) and nothing about storage: which
file belongs to which stream, where each stream writes its discriminator, and where it names the
agent, the task and the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

STREAMS: tuple[str, ...] = ("conversations", "realtime", "agent_events", "audit", "seneca_events")
"""Every stream bronze/events knows; a `decisions_*` line belongs to `conversations`."""

_FILE_PATTERN = re.compile(
    r"^(?P<prefix>conversations|decisions|realtime|agent_events|audit|seneca_events)_"
    r"(?P<stamp>[0-9_]*)[^/]*\.jsonl$"
)
_STREAM_OF_PREFIX = {"decisions": "conversations"}

_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "conversations": ("event", "event_type", "type"),
    "realtime": ("type", "event_type", "event"),
    "agent_events": ("event_type", "type", "event"),
    "audit": ("event_type", "type", "event"),
    "seneca_events": ("type", "event_type", "event"),
}
"""Where each stream writes its discriminator, first match wins (older records carry several)."""


@dataclass(frozen=True)
class SourceName:
    """What a log file's name says about it."""

    stream: str
    is_copy: bool
    """True for `decisions_*`, whose lines are copies of its `conversations_*` twin."""
    sort_key: tuple[str, str, int]
    """Orders files by stream, then by the stamp in the name, then originals before copies."""


def source_name(file_name: str) -> SourceName | None:
    """Classify a log file by its name; None for files that are not Marcus or Seneca streams."""
    match = _FILE_PATTERN.match(file_name)
    if match is None:
        return None
    prefix = match["prefix"]
    stream = _STREAM_OF_PREFIX.get(prefix, prefix)
    is_copy = prefix == "decisions"
    return SourceName(stream, is_copy, (stream, match["stamp"], int(is_copy)))


FIELD_PATHS: dict[str, str] = {
    "timestamp": "$.timestamp",
    "event": "$.event",
    "type": "$.type",
    "event_type": "$.event_type",
    "worker_id": "$.worker_id",
    "agent_id": "$.agent_id",
    "client_id": "$.client_id",
    "data_worker_id": "$.data.worker_id",
    "data_agent_id": "$.data.agent_id",
    "arguments_agent_id": "$.details.arguments.agent_id",
    "task_id": "$.task_id",
    "metadata_task_id": "$.metadata.task_id",
    "data_task_id": "$.data.task_id",
    "data_task_task_id": "$.data.task.id",
    "arguments_task_id": "$.details.arguments.task_id",
    "metadata_project_id": "$.metadata.project_id",
    "project_id": "$.project_id",
    "data_project_id": "$.data.project_id",
    "arguments_project_id": "$.details.arguments.project_id",
}
"""The JSON paths bronze/events lifts values from, by name."""

_AGENT_FIELDS = (
    "worker_id",
    "agent_id",
    "client_id",
    "data_worker_id",
    "data_agent_id",
    "arguments_agent_id",
)
_TASK_FIELDS = (
    "task_id",
    "metadata_task_id",
    "data_task_id",
    "data_task_task_id",
    "arguments_task_id",
)
_PROJECT_FIELDS = ("metadata_project_id", "project_id", "data_project_id", "arguments_project_id")
"""Where each stream names the agent, the task and the project, first match wins: one agent is
`worker_id` in conversations and agent_events, `agent_id` in realtime, `client_id` in audit."""


def _value(name: str) -> str:
    return f"v[{list(FIELD_PATHS).index(name) + 1}]"


def _identifier(name: str) -> str:
    """An identifier is text or a number: objects, arrays and empty strings do not count."""
    value = _value(name)
    return f"CASE WHEN {value} = '' OR left({value}, 1) IN ('{{', '[') THEN NULL ELSE {value} END"


def _first(names: tuple[str, ...], value: Callable[[str], str]) -> str:
    return f"coalesce({', '.join(value(name) for name in names)})"


RECORD_COLUMNS: dict[str, str] = {
    "kind": "CASE stream "
    + " ".join(f"WHEN '{name}' THEN {_first(keys, _value)}" for name, keys in _KIND_KEYS.items())
    + " END",
    "agent_id": _first(_AGENT_FIELDS, _identifier),
    "task_id": _first(_TASK_FIELDS, _identifier),
    "project_id": _first(_PROJECT_FIELDS, _identifier),
    "timestamp": _value("timestamp"),
}
"""The event columns as SQL over `v` (the FIELD_PATHS values, see `jsonl.extract_fields`) and
`stream`: the discriminator where each stream writes it, the first identity named, and the
timestamp text."""


def tool_call_pattern(tools: tuple[str, ...]) -> str:
    """A regular expression that finds an audit record of a call to one of `tools` in its line.

    It lets a reader skip parsing the records of other tools; the record is still parsed and its
    `tool_name` checked afterwards.
    """
    names = "|".join(re.escape(tool) for tool in tools)
    return rf'"tool_name"\s*:\s*"(?:{names})"'
