"""Bad input is never lost and never crashes ingestion: each bad line is quarantined with a reason.

Every test checks the clear outcome (where the line went and why) and the accounting: each
non-blank line of a file is in bronze/events or bronze/quarantine exactly once, unless it is a
copy of a line already stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import IngestReport, ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.quarantine import replay
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, QUARANTINE, REDACTIONS

TS = "2026-01-15T10:00:00Z"


def _line(timestamp: str | None = TS, **fields: object) -> bytes:
    """One JSON object line (without terminator)."""
    record = ({"timestamp": timestamp} if timestamp is not None else {}) | fields
    return json.dumps(record).encode()


def _write(logs: Path, name: str, lines: list[bytes], *, eol: bytes = b"\n") -> str:
    """Write lines, each terminated by `eol`; return the path relative to the log folder."""
    (logs / name).write_bytes(b"".join(line + eol for line in lines))
    return name


def _tables(settings: IngestSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    lake = Lake(settings.lake_dir)
    return lake.read(EVENTS), lake.read(QUARANTINE)


def _nonblank_offsets(data: bytes, *, tail: bool) -> list[int]:
    """Offsets of the non-blank lines; an unterminated last line counts only if `tail`."""
    offsets, start = [], 0
    for piece in data.split(b"\n")[:-1]:
        if piece.strip():
            offsets.append(start)
        start += len(piece) + 1
    if tail and data[start:].strip():
        offsets.append(start)
    return offsets


def assert_accounted(
    settings: IngestSettings,
    rel: str,
    *,
    copies: int = 0,
    tail: bool = False,
    report: IngestReport | None = None,
) -> None:
    """Every non-blank line of `rel` is an event or quarantined, once; `copies` lines are neither.

    With `report` (of the only run over the file), its line counts must add up as well.
    """
    events, quarantine = _tables(settings)
    expected = _nonblank_offsets((settings.log_dir / rel).read_bytes(), tail=tail)
    stored = events.filter(pl.col("source_file") == rel).get_column("byte_offset").to_list()
    held = quarantine.filter(pl.col("source_file") == rel).get_column("byte_offset").to_list()
    assert len(stored) == len(set(stored)), "an event is stored twice"
    assert len(held) == len(set(held)), "a line is quarantined twice"
    assert not set(stored) & set(held), "a line is both an event and quarantined"
    assert set(stored) | set(held) <= set(expected), "a blank or unknown line was stored"
    assert len(expected) == len(stored) + len(held) + copies, "a line was lost"
    if report is not None:
        assert report.lines_read == (
            report.events_stored
            + report.duplicates_skipped
            + report.quarantined
            + report.blank_lines
        )


def _only_quarantined(settings: IngestSettings) -> dict[str, object]:
    _, quarantine = _tables(settings)
    assert quarantine.height == 1, quarantine
    return quarantine.row(0, named=True)


# --------------------------------------------------------------------------------------------
# One bad line between good lines
# --------------------------------------------------------------------------------------------

DEEP = 5000
BAD_LINES = {
    "text_not_json": (b"this is not JSON at all", ["invalid JSON"]),
    "cut_off_mid_file": (b'{"timestamp": "2026-01-15T10:00:00Z", "event": "x", "mess', ["cut off"]),
    "array": (b'[{"timestamp": "2026-01-15T10:00:00Z"}, 2]', ["not a JSON object", "list"]),
    "integer": (b"42", ["not a JSON object", "int"]),
    "float": (b"-3.5e2", ["not a JSON object", "float"]),
    "string": (b'"2026-01-15T10:00:00Z"', ["not a JSON object", "str"]),
    "null": (b"null", ["not a JSON object"]),
    "no_timestamp": (b'{"event": "pm_decision", "level": "info"}', ["no timestamp"]),
    "unparsable_timestamp": (
        b'{"timestamp": "yesterday at noon", "event": "x"}',
        ["unparsable timestamp", "yesterday at noon"],
    ),
    "date_only_timestamp": (b'{"timestamp": "15/01/2026"}', ["unparsable timestamp", "15/01/2026"]),
    "timestamp_is_a_number": (
        b'{"timestamp": 1768471200, "event": "x"}',
        ["unparsable timestamp", "1768471200"],
    ),
    "timestamp_is_an_object": (b'{"timestamp": {"s": 1}}', ["unparsable timestamp", '{"s":1}']),
    "invalid_utf8_in_string": (
        b'{"timestamp": "2026-01-15T10:00:00Z", "message": "caf\xe9"}',
        ["invalid UTF-8", "0xe9", "column 54"],
    ),
    "binary_junk": (b"\x00\xff\xfe\x80 junk \xc3\x28", ["invalid UTF-8", "0xff", "column 2"]),
    "two_objects": (
        b'{"timestamp": "2026-01-15T10:00:00Z"}{"timestamp": "2026-01-15T10:00:01Z"}',
        ["more than one JSON value"],
    ),
    "two_objects_with_space": (
        b'{"timestamp": "2026-01-15T10:00:00Z"} {"timestamp": "2026-01-15T10:00:01Z"}',
        ["more than one JSON value"],
    ),
    "nested_5000_objects": (
        b'{"timestamp": "2026-01-15T10:00:00Z", "d": '
        + b'{"a": ' * DEEP
        + b"1"
        + b"}" * DEEP
        + b"}",
        ["nested too deeply"],
    ),
    "nested_5000_arrays": (
        b'{"timestamp": "2026-01-15T10:00:00Z", "d": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        ["nested too deeply"],
    ),
    "schema_year_1900": (
        b'{"timestamp": "1900-01-01T00:00:00Z", "event": "x"}',
        ["failed check", "greater_than_or_equal_to", "event_time", "1900-01-01"],
    ),
    "schema_year_2150": (
        b'{"timestamp": "2150-06-01T00:00:00Z", "event": "x"}',
        ["failed check", "less_than", "event_time"],
    ),
}


@pytest.mark.parametrize("bad, reasons", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_a_bad_line_is_quarantined_with_its_reason(
    settings: IngestSettings, bad: bytes, reasons: list[str]
):
    good = [_line(TS, event="before"), _line("2026-01-15T10:00:01Z", event="after")]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [good[0], bad, good[1], _line()])
    report = ingest(settings)

    row = _only_quarantined(settings)
    assert row["raw_line"] == bad  # byte for byte
    assert (row["source_file"], row["line_number"], row["byte_offset"]) == (
        rel,
        2,
        len(good[0]) + 1,
    )
    for reason in reasons:
        assert reason in row["reason"]
    assert report.quarantined == 1
    assert report.events_stored == 3
    assert_accounted(settings, rel, report=report)


# --------------------------------------------------------------------------------------------
# Large and odd lines that are fine
# --------------------------------------------------------------------------------------------


def test_a_10_mb_line_is_stored_whole(settings: IngestSettings):
    blob = "x" * (10 << 20)
    big = _line(TS, event_type="tool_call", blob=blob)
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [_line(), big, _line(event_type="b")])
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    stored = events.filter(pl.col("line_number") == 2).row(0, named=True)
    assert len(stored["payload"]) == len(big)
    assert stored["payload"].encode() == big
    assert len(json.loads(stored["payload"])["blob"]) == 10 << 20
    assert report.events_stored == 3
    assert_accounted(settings, rel, report=report)


def test_100_levels_of_nesting_are_stored(settings: IngestSettings):
    deep = b'{"timestamp": "2026-01-15T10:00:00Z", "d": ' + b'{"a": ' * 100 + b"1" + b"}" * 101
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [deep])
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    assert events.get_column("payload").to_list() == [deep.decode()]
    assert_accounted(settings, rel, report=report)


def test_unknown_event_kinds_are_stored_as_written(settings: IngestSettings):
    kinds = {
        "audit_20260115.jsonl": ("event_type", "quantum_tool_call"),
        "realtime_20260115_100000.jsonl": ("type", "brand_new_server_event"),
        "agent_events_20260115.jsonl": ("event_type", "planning_reconsidered"),
        "conversations_20260115_100000.jsonl": ("event", "MCP tool 'frob' returned failure"),
        "seneca_events_20260115.jsonl": ("type", "événement_spécial"),
    }
    for name, (key, kind) in kinds.items():
        _write(settings.log_dir, name, [_line(TS, **{key: kind}), _line(TS, **{key: kind + "2"})])
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    stored = {(r["source_file"], r["kind"]) for r in events.iter_rows(named=True)}
    expected = {(name, kind + tail) for name, (_, kind) in kinds.items() for tail in ("", "2")}
    assert stored == expected
    for name in kinds:
        assert_accounted(settings, name)
    assert report.events_stored == 10


def test_bad_lines_in_a_decisions_copy_are_quarantined_and_copies_skipped(
    settings: IngestSettings,
):
    lines = [_line(_seconds(i), event="worker_communication", n=i) for i in range(3)]
    convo = _write(settings.log_dir, "conversations_20260115_100000.jsonl", [*lines, b"oops"])
    copy = _write(
        settings.log_dir, "decisions_20260115_100000.jsonl", [lines[0], b"", b"{", lines[2]]
    )
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert set(events.get_column("source_file")) == {convo}
    assert sorted(quarantine.select("source_file", "line_number").rows()) == [(convo, 4), (copy, 3)]
    assert "cut off" in quarantine.filter(pl.col("source_file") == copy)["reason"][0]
    assert (report.events_stored, report.duplicates_skipped, report.blank_lines) == (3, 2, 1)
    assert_accounted(settings, convo)
    assert_accounted(settings, copy, copies=2, report=report)


# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _assert_times(settings: IngestSettings, rel: str, report, shapes: dict) -> None:
    """Every line stored, none quarantined, each timestamp text read as the expected instant."""
    events, quarantine = _tables(settings)
    assert quarantine.is_empty(), quarantine.get_column("reason").to_list()
    got = {
        json.loads(r["payload"])["timestamp"]: (r["event_time"], r["time_zone_assumed"])
        for r in events.iter_rows(named=True)
    }
    assert got == shapes
    assert_accounted(settings, rel, report=report)


def test_mixed_timestamp_shapes_in_one_file(settings: IngestSettings):
    shapes = {
        "2026-01-15T10:00:00Z": (_utc(2026, 1, 15, 10), False),
        "2026-01-15T10:00:00.123456Z": (_utc(2026, 1, 15, 10, 0, 0, 123456), False),
        "2026-01-15T10:00:00.123456789Z": (_utc(2026, 1, 15, 10, 0, 0, 123456), False),
        "2026-01-15T10:00:01+00:00": (_utc(2026, 1, 15, 10, 0, 1), False),
        "2026-01-15T15:30:02+05:30": (_utc(2026, 1, 15, 10, 0, 2), False),
        "2026-01-15T02:00:03-0800": (_utc(2026, 1, 15, 10, 0, 3), False),
        "2026-01-15 10:00:04+00:00": (_utc(2026, 1, 15, 10, 0, 4), False),
        "2026-01-15T10:00:05": (_utc(2026, 1, 15, 10, 0, 5), True),
        "2026-01-15 10:00:06.5": (_utc(2026, 1, 15, 10, 0, 6, 500000), True),
    }
    lines = [_line(ts, event_type="tool_call", n=i) for i, ts in enumerate(shapes)]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", lines)
    report = ingest(settings)

    _assert_times(settings, rel, report, shapes)


def test_naive_timestamps_are_read_in_the_configured_zone(logs: Path, lake_dir: Path):
    settings = IngestSettings(log_dir=logs, lake_dir=lake_dir, naive_tz="America/New_York")
    shapes = {
        "2026-01-15T10:00:00": (_utc(2026, 1, 15, 15), True),  # EST, UTC-5
        "2026-07-15T10:00:00": (_utc(2026, 7, 15, 14), True),  # EDT, UTC-4
        "2026-03-08T03:30:00": (_utc(2026, 3, 8, 7, 30), True),  # just after the spring gap
        "2026-11-01T01:30:00": (_utc(2026, 11, 1, 5, 30), True),  # ambiguous: the earlier one
        "2026-07-15T10:00:00Z": (_utc(2026, 7, 15, 10), False),  # aware times are not moved
        "2026-07-15T10:00:00+02:00": (_utc(2026, 7, 15, 8), False),
    }
    lines = [_line(ts, type="ping_request") for ts in shapes]
    rel = _write(logs, "realtime_20260115_100000.jsonl", lines)
    report = ingest(settings)

    _assert_times(settings, rel, report, shapes)


# --------------------------------------------------------------------------------------------
# Line endings, blank lines, empty files
# --------------------------------------------------------------------------------------------

BLANKS = {
    "empty": b"",
    "spaces": b"   ",
    "tab": b"\t",
    "carriage_return": b"\r",
    "15_spaces": b" " * 15,
    "16_spaces": b" " * 16,
    "200_spaces": b" " * 200,
    "long_mixed_whitespace": b" \t \t \r" * 8,
}


@pytest.mark.parametrize("blank", list(BLANKS.values()), ids=list(BLANKS))
def test_blank_lines_are_neither_records_nor_quarantined(settings: IngestSettings, blank: bytes):
    lines = [blank, _line(event_type="a"), blank, blank, _line(event_type="b"), blank]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", lines)
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty(), quarantine.get_column("reason").to_list()
    assert events.get_column("line_number").sort().to_list() == [2, 5]
    assert (report.lines_read, report.blank_lines, report.events_stored) == (6, 4, 2)
    assert_accounted(settings, rel, report=report)


def test_crlf_line_endings(settings: IngestSettings):
    lines = [_line(event_type="a"), b"not json", _line("2026-01-15T10:00:01Z", event_type="b")]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", lines, eol=b"\r\n")
    report = ingest(settings)

    events, _ = _tables(settings)
    assert events.sort("line_number").get_column("payload").to_list() == [
        lines[0].decode(),
        lines[2].decode(),
    ]
    assert events.get_column("byte_offset").sort().to_list() == [0, len(lines[0]) + 12]
    for payload in events.get_column("payload"):
        json.loads(payload)
    row = _only_quarantined(settings)
    assert row["raw_line"] == b"not json"  # the terminator, CR included, is not part of the line
    assert row["byte_offset"] == len(lines[0]) + 2
    assert_accounted(settings, rel, report=report)
    assert ingest(settings).bytes_read == 0


def test_empty_files_are_recorded_without_error(settings: IngestSettings):
    names = ["audit_20260115.jsonl", "conversations_20260115_100000.jsonl"]
    for name in names:
        (settings.log_dir / name).write_bytes(b"")
    report = ingest(settings)

    assert (report.files_seen, report.events_stored, report.quarantined) == (2, 0, 0)
    files = Lake(settings.lake_dir).read(INGEST_FILES).sort("path")
    assert files.get_column("path").to_list() == names
    assert files.get_column("size").to_list() == [0, 0]
    assert files.get_column("offset").to_list() == [0, 0]
    second = ingest(settings)
    assert (second.files_read, second.bytes_read, second.batches) == (0, 0, 0)


# --------------------------------------------------------------------------------------------
# Rewritten files and unterminated last lines
# --------------------------------------------------------------------------------------------


def _bump_mtime(path: Path) -> None:
    """Make sure a rewrite is seen as a change even on a coarse clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _seconds(n: int) -> str:
    return f"2026-01-15T10:00:{n:02d}Z"


def test_a_file_truncated_and_rewritten_is_read_again_from_the_start(settings: IngestSettings):
    first = [_line(_seconds(i), event_type="tool_call", n=i) for i in range(5)]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", first)
    assert ingest(settings).events_stored == 5

    second = [*first[:2], _line(_seconds(9), event_type="tool_call", n=9)]
    _write(settings.log_dir, rel, second)
    _bump_mtime(settings.log_dir / rel)
    report = ingest(settings)

    assert report.files_rewritten == 1
    assert (report.events_stored, report.duplicates_skipped, report.quarantined) == (1, 2, 0)
    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    payloads = events.get_column("payload").to_list()
    assert sorted(payloads) == sorted(line.decode() for line in [*first, second[2]])
    assert events.get_column("event_id").is_unique().all()
    state = Lake(settings.lake_dir).read(INGEST_FILES).row(0, named=True)
    assert (state["offset"], state["rewrites"]) == ((settings.log_dir / rel).stat().st_size, 1)


@pytest.mark.parametrize("grow", [0, 40], ids=["same_size", "larger"])
def test_a_file_rewritten_with_new_first_bytes_is_detected(settings: IngestSettings, grow: int):
    first = [_line(_seconds(i), event_type="tool_call", client_id="agent-1") for i in range(4)]
    rel = _write(settings.log_dir, "audit_20260115.jsonl", first)
    ingest(settings)

    changed = _line(_seconds(0), event_type="tool_call", client_id="agent-2")
    assert len(changed) == len(first[0])
    second = [changed, *first[1:]] + ([_line(_seconds(30), pad="y" * grow)] if grow else [])
    _write(settings.log_dir, rel, second)
    _bump_mtime(settings.log_dir / rel)
    report = ingest(settings)

    assert report.files_rewritten == 1
    assert (report.events_stored, report.duplicates_skipped) == (1 + bool(grow), 3)
    events, _ = _tables(settings)
    assert set(events.get_column("payload")) == {line.decode() for line in first + second}
    assert events.height == 4 + 1 + bool(grow)


def _tail_file(settings: IngestSettings, tail: bytes) -> tuple[str, list[bytes]]:
    complete = [_line(_seconds(i), event_type="tool_call", n=i) for i in range(3)]
    rel = "audit_20260115.jsonl"
    (settings.log_dir / rel).write_bytes(b"".join(line + b"\n" for line in complete) + tail)
    return rel, complete


def test_an_unterminated_last_line_waits_for_the_grace_period(settings: IngestSettings):
    tail = _line(_seconds(9), event_type="tool_call", n=9)
    rel, _ = _tail_file(settings, tail)
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert (events.height, quarantine.height, report.events_stored) == (3, 0, 3)
    state = Lake(settings.lake_dir).read(INGEST_FILES).row(0, named=True)
    assert state["pending_tail_bytes"] == len(tail)
    assert state["offset"] == (settings.log_dir / rel).stat().st_size - len(tail)
    assert_accounted(settings, rel, report=report)  # the tail is not a line yet

    assert ingest(settings).events_stored == 0  # still within the grace period
    with (settings.log_dir / rel).open("ab") as handle:  # the writer finishes the line
        handle.write(b"\n")
    assert ingest(settings).events_stored == 1
    events, _ = _tables(settings)
    assert tail.decode() in events.get_column("payload").to_list()
    assert_accounted(settings, rel)


@pytest.mark.parametrize("how", ["grace_0", "file_still_for_2h"])
def test_an_unterminated_last_line_is_taken_after_the_grace_period(
    logs: Path, lake_dir: Path, how: str
):
    grace = 0.0 if how == "grace_0" else 3600.0
    settings = IngestSettings(log_dir=logs, lake_dir=lake_dir, tail_grace_s=grace)
    tail = _line(_seconds(9), event_type="tool_call", n=9)
    rel, _ = _tail_file(settings, tail)
    if how == "file_still_for_2h":
        old = time.time() - 7200
        os.utime(logs / rel, (old, old))
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    assert events.height == 4 == report.events_stored
    assert tail.decode() in events.get_column("payload").to_list()
    assert Lake(lake_dir).read(INGEST_FILES).row(0, named=True)["pending_tail_bytes"] == 0
    assert_accounted(settings, rel, tail=True, report=report)
    assert ingest(settings).bytes_read == 0


def test_a_half_written_last_line_taken_after_the_grace_period_is_quarantined(
    logs: Path, lake_dir: Path
):
    settings = IngestSettings(log_dir=logs, lake_dir=lake_dir, tail_grace_s=0.0)
    tail = b'{"timestamp": "2026-01-15T10:00:09Z", "event_type": "tool_ca'
    rel, _ = _tail_file(settings, tail)
    report = ingest(settings)

    row = _only_quarantined(settings)
    assert row["raw_line"] == tail
    assert row["line_number"] == 4
    assert "cut off" in row["reason"]
    assert report.events_stored == 3
    assert_accounted(settings, rel, tail=True, report=report)


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ\n"
    "Yx2bQGJk1cVmRqZ8pK0ZWe9nQ0aH8s3k\n-----END RSA PRIVATE KEY-----"
)
SECRETS = {
    "openai_api_key": (
        "openai_api_key",
        ("details", "arguments", "api_key"),
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7cD",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7cD",
    ),
    "github_token": (
        "github_token",
        ("details", "arguments", "token"),
        "clone with ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 please",
        "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    ),
    "bearer_token": (
        "bearer_token",
        ("details", "arguments", "headers", "Authorization"),
        "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ),
    "bearer_token_with_underscore": (  # RFC 6750 tokens may hold "_" (Google's ya29.a0A..._...)
        "bearer_token",
        ("details", "arguments", "headers", "Authorization"),
        "Bearer ya29.a0AfH6SMBx_3kq9ZPLmN0pQrStUvWxYz",
        "ya29.a0AfH6SMBx_3kq9ZPLmN0pQrStUvWxYz",
    ),
    "private_key": ("private_key", ("context", "deploy_key"), f"key:\n{PEM}\nend", PEM),
    "url_password": (
        "url_password",
        ("data", "dsn"),
        "postgres://seneca:Hunter2Secret@db.internal/prod",
        "Hunter2Secret",
    ),
    "email": ("email", ("recipients", 1), "alice.smith@example.com", "alice.smith@example.com"),
}


def _nest(path: tuple[str | int, ...], value: object) -> object:
    """A JSON value holding `value` at `path` (an int is a list index)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        return ["someone@else"] * head + [_nest(rest, value)]
    return {head: _nest(rest, value)}


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@pytest.mark.parametrize("case", list(SECRETS))
def test_secrets_are_redacted_and_recorded_without_the_secret(settings: IngestSettings, case: str):
    kind, path, value, secret = SECRETS[case]
    record = {"timestamp": TS, "event_type": "tool_call", "client_id": "agent-1"}
    record |= _nest(path, value)  # type: ignore[arg-type]
    line = json.dumps(record).encode()
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [_line(event_type="a"), line])
    report = ingest(settings)

    events, quarantine = _tables(settings)
    assert quarantine.is_empty()
    stored = events.filter(pl.col("line_number") == 2).row(0, named=True)
    payload = stored["payload"]
    escaped = json.dumps(secret)[1:-1]  # as the secret is written inside a JSON string
    assert secret not in payload
    assert escaped not in payload
    assert f"[REDACTED:{kind}]" in payload
    decoded = json.loads(payload)
    expected = json.loads(line.decode().replace(json.dumps(secret)[1:-1], f"[REDACTED:{kind}]"))
    assert decoded == expected
    redactions = Lake(settings.lake_dir).read(REDACTIONS)
    assert redactions.select("table", "row_id", "field_path", "kind").rows() == [
        ("bronze/events", stored["event_id"], _path_text(path), kind)
    ]
    for column in redactions.columns:
        for cell in redactions.get_column(column).cast(pl.String).to_list():
            assert secret not in cell
            assert escaped not in cell
    assert report.redactions == 1
    assert all(escaped not in p for p in events.get_column("payload"))
    assert_accounted(settings, rel, report=report)


def test_a_secret_in_a_quarantined_line_is_redacted(settings: IngestSettings):
    token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    bad = f"export GITHUB_TOKEN={token} # not JSON".encode()
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [_line(), bad])
    report = ingest(settings)

    row = _only_quarantined(settings)
    assert row["raw_line"] == b"export GITHUB_TOKEN=[REDACTED:github_token] # not JSON"
    assert "invalid JSON" in row["reason"]
    redactions = Lake(settings.lake_dir).read(REDACTIONS)
    assert redactions.select("table", "row_id", "field_path", "kind").rows() == [
        ("bronze/quarantine", row["quarantine_id"], "$", "github_token")
    ]
    assert_accounted(settings, rel, report=report)


# --------------------------------------------------------------------------------------------
# Quarantine replay
# --------------------------------------------------------------------------------------------


def test_replay_moves_lines_that_now_pass_exactly_once(logs: Path, lake_dir: Path):
    new_york = IngestSettings(log_dir=logs, lake_dir=lake_dir, naive_tz="America/New_York")
    gap = _line("2026-03-08T02:30:00", event_type="tool_call")  # no such time in New York
    lines = [_line(event_type="a"), gap, b"still not JSON", _line(event_type="b")]
    rel = _write(logs, "audit_20260308.jsonl", lines)
    ingest(new_york)
    _, quarantine = _tables(new_york)
    reasons = dict(zip(quarantine["line_number"], quarantine["reason"], strict=True))
    assert "does not exist in America/New_York" in reasons[2]
    assert "invalid JSON" in reasons[3]

    assert replay(new_york).moved == 0  # the same settings: nothing passes, nothing is lost
    assert _tables(new_york)[1].height == 2

    utc = IngestSettings(log_dir=logs, lake_dir=lake_dir, naive_tz="UTC")
    first, second = replay(utc), replay(utc)
    assert (first.moved, first.stored, first.still_quarantined) == (1, 1, 1)
    assert (second.moved, second.stored, second.still_quarantined) == (0, 0, 1)
    events, quarantine = _tables(utc)
    assert quarantine.get_column("raw_line").to_list() == [b"still not JSON"]
    moved = events.filter(pl.col("line_number") == 2).row(0, named=True)
    assert moved["payload"] == gap.decode()
    assert (moved["source_file"], moved["byte_offset"]) == (rel, len(lines[0]) + 1)
    assert moved["event_time"] == _utc(2026, 3, 8, 2, 30)
    assert events.height == 3
    assert events.get_column("event_id").is_unique().all()
    assert_accounted(utc, rel)
    assert ingest(utc).events_stored == 0  # the moved line is not read again


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def _seneca(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENECA_", "DAGSTER_HOME"))}
    return subprocess.run(
        [sys.executable, "-m", "seneca_assets.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _assert_config_error(result: subprocess.CompletedProcess[str], mentions: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error:")
    assert mentions in lines[0]


def test_cli_missing_log_folder_is_a_configuration_error(tmp_path: Path):
    lake = tmp_path / "lake"
    result = _seneca("ingest", "--logs", str(tmp_path / "missing"), "--lake", str(lake))

    _assert_config_error(result, "log folder")
    assert not lake.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_unwritable_lake_is_a_configuration_error(tmp_path: Path, logs: Path):
    _write(logs, "audit_20260115.jsonl", [_line()])
    blocker = tmp_path / "file.txt"
    blocker.write_text("a regular file\n")
    result = _seneca("ingest", "--logs", str(logs), "--lake", str(blocker / "lake"))

    _assert_config_error(result, "not writable")
    assert blocker.read_text() == "a regular file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "logs"]
    assert [p.name for p in logs.iterdir()] == ["audit_20260115.jsonl"]


def test_cli_exits_0_with_quarantined_lines(settings: IngestSettings):
    rel = _write(settings.log_dir, "audit_20260115.jsonl", [_line(), b"not json", b"[1]"])
    result = _seneca("ingest", "--logs", str(settings.log_dir), "--lake", str(settings.lake_dir))

    assert result.returncode == 0, result.stderr
    assert "quarantined 2 lines" in result.stdout
    events, quarantine = _tables(settings)
    assert (events.height, quarantine.height) == (1, 2)
    assert_accounted(settings, rel)
