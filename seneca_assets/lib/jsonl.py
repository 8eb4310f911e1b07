"""Fast, strict reading of JSON Lines buffers: line boundaries, UTF-8 and JSON object decoding.

A buffer is decoded in as few C calls as possible: all lines together as one JSON array, typed as
`list[marcus.Record]`, with a second pass over `msgspec.Raw` elements proving that each element is
exactly one line. When a batch fails, it is halved until every bad line stands alone, so one bad
line costs a few extra passes over its batch, not a slow decode of every line. Each bad line gets a
reason a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from seneca_assets.lib.marcus import Record

NEWLINE = 0x0A
CARRIAGE_RETURN = 0x0D

_RECORDS = msgspec.json.Decoder(list[Record])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_ONE_RECORD = msgspec.json.Decoder(Record)
_ANY = msgspec.json.Decoder()
_SMALL_BATCH = 8
"""Below this many lines a failing batch is decoded line by line rather than halved again."""


@dataclass(frozen=True)
class LineSpans:
    """Where each line of a buffer starts and ends (the end excludes LF and a CR before it)."""

    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def split_lines(buf: bytes, *, final_unterminated: bool = False) -> LineSpans:
    """Find the lines of `buf`; a trailing fragment without a newline counts only if asked."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == NEWLINE)
    starts = np.empty(len(newlines), dtype=np.int64)
    starts[:1] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    if final_unterminated and (
        len(buf) > 0 and (len(newlines) == 0 or newlines[-1] + 1 < len(buf))
    ):
        starts = np.append(starts, newlines[-1] + 1 if len(newlines) else 0)
        ends = np.append(ends, len(buf))
    if len(ends):
        has_cr = np.zeros(len(ends), dtype=bool)
        nonempty = ends > starts
        has_cr[nonempty] = arr[ends[nonempty] - 1] == CARRIAGE_RETURN
        ends = ends - has_cr
    return LineSpans(starts, ends)


def utf8_errors(buf: bytes, spans: LineSpans) -> dict[int, str]:
    """Map the index of every line that is not valid UTF-8 to a reason naming the bad byte."""
    try:
        buf.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return {}
    errors: dict[int, str] = {}
    for i, (start, end) in enumerate(zip(spans.starts.tolist(), spans.ends.tolist(), strict=True)):
        try:
            buf[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            errors[i] = (
                f"invalid UTF-8: byte 0x{buf[start + exc.start]:02x} at column {exc.start + 1}"
            )
    return errors


def line_array(buf: bytes, spans: LineSpans) -> pa.LargeBinaryArray:
    """All lines of `buf` as an Arrow binary array over the buffer itself (terminators included)."""
    offsets = np.append(spans.starts, len(buf)).astype(np.int64)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(spans), [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )


def _strip_len(line: bytes | memoryview) -> int:
    return len(bytes(line).strip(b" \t\r\n"))


def _reason(exc: Exception, line: bytes | memoryview) -> str:
    """Turn a decoder error on one line into a reason a person can act on."""
    message = str(exc)
    if isinstance(exc, RecursionError) or "recursion" in message:
        return "JSON nested too deeply to read safely (more than ~1,000 levels)"
    if "trailing characters" in message:
        return f"more than one JSON value on the line ({message})"
    if "truncated" in message:
        return f"JSON cut off before its end ({message})"
    if isinstance(exc, msgspec.ValidationError) or message.startswith("Expected"):
        try:
            value = _ANY.decode(line)
        except (msgspec.DecodeError, RecursionError):
            return f"invalid JSON ({message})"
        return f"not a JSON object: the line holds a JSON {type(value).__name__}"
    return f"invalid JSON ({message})"


def _decode_one(line: bytes | memoryview) -> Record | dict[str, Any] | str:
    """Decode one line: a Record, a dict when its nested values have unusual types, or a reason."""
    try:
        return _ONE_RECORD.decode(line)
    except msgspec.ValidationError as exc:
        try:
            value = _ANY.decode(line)
        except (msgspec.DecodeError, RecursionError) as inner:
            return _reason(inner, line)
        if isinstance(value, dict):
            return value
        return _reason(exc, line)
    except (msgspec.DecodeError, RecursionError) as exc:
        return _reason(exc, line)


def _decode_batch(lines: list[memoryview]) -> list[Record] | None:
    """Decode all lines in one pass, or None unless each line is exactly one valid record."""
    joined = b"[" + b",".join(lines) + b"]"
    try:
        records = _RECORDS.decode(joined)
        if len(records) != len(lines):
            return None
        raws = _RAWS.decode(joined)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    for raw, line in zip(raws, lines, strict=True):
        if len(raw) != len(line) and len(raw) != _strip_len(line):
            return None
    return records


def decode_records(lines: list[memoryview]) -> list[Record | dict[str, Any] | str]:
    """Decode each line as one JSON object; a failed line's slot holds the reason instead."""
    results: list[Record | dict[str, Any] | str] = [""] * len(lines)
    pending = [(0, len(lines))]
    while pending:
        lo, hi = pending.pop()
        if hi - lo <= _SMALL_BATCH:
            for i in range(lo, hi):
                results[i] = _decode_one(lines[i])
            continue
        records = _decode_batch(lines[lo:hi])
        if records is not None:
            results[lo:hi] = records
        else:
            mid = (lo + hi) // 2
            pending.extend(((lo, mid), (mid, hi)))
    return results
