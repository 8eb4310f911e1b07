"""What Marcus writes: stream names, file names, record discriminators and identity fields.

This module knows Marcus's formats (see docs/MARCUS_FORMATS.md) and nothing about storage: which
file belongs to which stream, where each stream writes its discriminator, and where it names the
agent, the task and the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

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
"""The JSON paths bronze/events lifts into columns, by name."""

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


def _identifier(name: str) -> pl.Expr:
    """A path's value as an identifier: text or a number; objects, arrays and "" are absent."""
    value = pl.col(name)
    return (
        pl.when(value.str.starts_with("{") | value.str.starts_with("[") | (value == ""))
        .then(None)
        .otherwise(value)
    )


def _kind(stream: pl.Expr) -> pl.Expr:
    """The discriminator of each record, looked up where its stream writes it."""
    return pl.coalesce(
        pl.when(stream == name).then(pl.coalesce(*keys)) for name, keys in _KIND_KEYS.items()
    )


def record_columns(fields: pl.DataFrame, stream: pl.Series) -> pl.DataFrame:
    """Turn lifted path values (see FIELD_PATHS) into `kind`, the identities and `timestamp`."""
    return fields.with_columns(stream=stream).select(
        kind=_kind(pl.col("stream")),
        agent_id=pl.coalesce(*(_identifier(n) for n in _AGENT_FIELDS)),
        task_id=pl.coalesce(*(_identifier(n) for n in _TASK_FIELDS)),
        project_id=pl.coalesce(*(_identifier(n) for n in _PROJECT_FIELDS)),
        timestamp=pl.col("timestamp"),
    )
