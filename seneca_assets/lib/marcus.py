"""What Marcus writes: stream names, file names, record discriminators and identity fields.

This module knows Marcus's formats (see docs/MARCUS_FORMATS.md) and nothing about storage.
A decoded record is either a `Record` (fast typed decode of the fields that matter) or a plain
`dict` (the fallback decode of an unusual line); `record_fields` reads both the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

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


class _Task(msgspec.Struct):
    id: Any = None


class _Nested(msgspec.Struct):
    worker_id: Any = None
    agent_id: Any = None
    task_id: Any = None
    project_id: Any = None
    task: _Task | None = None


class _Details(msgspec.Struct):
    arguments: _Nested | None = None


class Record(msgspec.Struct):
    """The fields of a Marcus or Seneca record that bronze/events lifts into columns.

    Unknown keys are skipped by the decoder, so decoding reads each line once without building
    the payload. A line whose nested values have unexpected JSON types fails this typed decode
    and is decoded again as a plain dict (see `lib.jsonl`).
    """

    timestamp: Any = None
    event: Any = None
    type: Any = None
    event_type: Any = None
    worker_id: Any = None
    agent_id: Any = None
    client_id: Any = None
    task_id: Any = None
    project_id: Any = None
    metadata: _Nested | None = None
    data: _Nested | None = None
    details: _Details | None = None


@dataclass(frozen=True)
class RecordFields:
    """The columns one record contributes to bronze/events, before its timestamp is parsed."""

    timestamp: str | None
    timestamp_error: str | None
    kind: str | None
    agent_id: str | None
    task_id: str | None
    project_id: str | None


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _text(value: Any) -> str | None:
    """An identifier as text: strings as they are, numbers printed, anything else absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _first(*values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text is not None and text != "":
            return text
    return None


def record_fields(record: Record | dict[str, Any], stream: str) -> RecordFields:
    """Read kind, identity and timestamp text from a decoded record of `stream`."""
    raw_ts = _get(record, "timestamp")
    if raw_ts is None:
        ts, ts_error = None, "no timestamp field"
    elif isinstance(raw_ts, str):
        ts, ts_error = raw_ts, None
    else:
        ts, ts_error = None, f"timestamp is a JSON {type(raw_ts).__name__}, not a string"

    kind = None
    for key in _KIND_KEYS[stream]:
        value = _get(record, key)
        if value is not None:
            kind = value if isinstance(value, str) else msgspec.json.encode(value).decode()
            break

    metadata, data = _get(record, "metadata"), _get(record, "data")
    arguments = _get(_get(record, "details"), "arguments")
    agent_id = _first(
        _get(record, "worker_id"),
        _get(record, "agent_id"),
        _get(record, "client_id"),
        _get(data, "worker_id"),
        _get(data, "agent_id"),
        _get(arguments, "agent_id"),
    )
    task_id = _first(
        _get(record, "task_id"),
        _get(metadata, "task_id"),
        _get(data, "task_id"),
        _get(_get(data, "task"), "id"),
        _get(arguments, "task_id"),
    )
    project_id = _first(
        _get(metadata, "project_id"),
        _get(record, "project_id"),
        _get(data, "project_id"),
        _get(arguments, "project_id"),
    )
    return RecordFields(ts, ts_error, kind, agent_id, task_id, project_id)
