"""Fast, strict reading of JSON Lines buffers: line boundaries, UTF-8, JSON objects, fields.

Checking is strict (RFC 8259: no NaN, no trailing commas, one value a line) and done for a whole
buffer in one C call: msgspec skims every value as `msgspec.Raw`, and each value's length must equal
its line's, which proves that every line holds exactly one value. When that fails, the lines are
halved until every bad line stands alone, so one bad line costs a few extra passes, not a slow
decode of every line. Fields are then lifted from the valid lines by DuckDB's JSON functions,
which read many paths of every line in one parse, in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import numpy as np
import polars as pl
import pyarrow as pa

from seneca_assets.lib.duck import cursor

NEWLINE = 0x0A
CARRIAGE_RETURN = 0x0D
OPEN_BRACE = 0x7B
CLOSE_BRACE = 0x7D

_RAW_LINES = msgspec.json.Decoder(msgspec.Raw)
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ANY = msgspec.json.Decoder()
_SMALL_BATCH = 8
"""Below this many lines a failing batch is checked line by line rather than halved again."""
_WHITESPACE = b" \t\r\n"
_INLINE_BYTES = 12
"""Arrow string views hold strings of up to 12 bytes inline."""


@dataclass(frozen=True)
class LineSpans:
    """Where each line of a buffer starts and ends (the end excludes LF and a CR before it)."""

    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def split_lines(buf: bytes | memoryview) -> LineSpans:
    """Find the lines of `buf`, which ends with a newline."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == NEWLINE)
    starts = np.empty(len(newlines), dtype=np.int64)
    starts[:1] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    nonempty = ends > starts
    has_cr = np.zeros(len(ends), dtype=bool)
    has_cr[nonempty] = arr[ends[nonempty] - 1] == CARRIAGE_RETURN
    return LineSpans(starts, ends - has_cr)


def utf8_errors(buf: memoryview, spans: LineSpans) -> dict[int, str]:
    """Map the index of every line that is not valid UTF-8 to a reason naming the bad byte."""
    whole = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, len(buf)])), pa.py_buffer(buf)]
    )
    try:
        whole.cast(pa.large_string())  # validates without copying
    except pa.ArrowInvalid:
        pass
    else:
        return {}
    errors: dict[int, str] = {}
    for i, (start, end) in enumerate(zip(spans.starts.tolist(), spans.ends.tolist(), strict=True)):
        line = bytes(buf[start:end])
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors[i] = f"invalid UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1}"
    return errors


def string_views(buf: memoryview, spans: LineSpans, index: np.ndarray) -> pa.StringViewArray:
    """Lines `index` as an Arrow string-view array over the buffer itself, terminators excluded.

    No byte of text is copied: each element is a 16-byte view (length, prefix, offset) into the
    buffer, which must outlive the array. Only lines known to be valid UTF-8 may be read from it.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    line_starts, count = spans.starts[index], len(index)
    lengths = (spans.ends[index] - line_starts).astype(np.int32)
    views = np.zeros((count, 16), dtype=np.uint8)
    views[:, 0:4] = lengths.view(np.uint8).reshape(count, 4)
    long = lengths > _INLINE_BYTES
    starts = line_starts[long]
    views[long, 4:8] = arr[starts[:, None] + np.arange(4)]
    views[long, 12:16] = starts.astype(np.int32).view(np.uint8).reshape(-1, 4)
    short = np.flatnonzero(~long)
    if len(short):
        positions = line_starts[short, None] + np.arange(_INLINE_BYTES)
        inline = arr[np.minimum(positions, max(len(arr) - 1, 0))]
        inline[np.arange(_INLINE_BYTES) >= lengths[short, None]] = 0
        views[short, 4:16] = inline
    return pa.Array.from_buffers(
        pa.string_view(), count, [None, pa.py_buffer(views), pa.py_buffer(buf)]
    )


def _reason(exc: Exception) -> str:
    """Turn a decoder error on one line into a reason a person can act on."""
    message = str(exc)
    if isinstance(exc, RecursionError) or "recursion" in message:
        return "JSON nested too deeply to read safely (more than ~1,000 levels)"
    if "trailing characters" in message:
        return f"more than one JSON value on the line ({message})"
    if "truncated" in message:
        return f"JSON cut off before its end ({message})"
    return f"invalid JSON ({message})"


def _check_one(line: memoryview) -> str | None:
    """None if the line is one JSON object, else the reason it is not."""
    try:
        value = _ANY.decode(line)
    except (msgspec.DecodeError, RecursionError) as exc:
        return _reason(exc)
    if isinstance(value, dict):
        return None
    return f"not a JSON object: the line holds a JSON {type(value).__name__}"


def _batch_ok(lines: list[memoryview]) -> bool:
    """True if every line is exactly one JSON object, proven in one decode of all of them."""
    try:
        raws = _RAW_LIST.decode(b"[" + b",".join(lines) + b"]")
    except (msgspec.DecodeError, RecursionError):
        return False
    if len(raws) != len(lines):
        return False
    for raw, line in zip(raws, lines, strict=True):
        text = bytes(line).strip(_WHITESPACE) if len(raw) != len(line) else line
        if len(raw) != len(text) or text[0] != OPEN_BRACE:
            return False
    return True


def object_errors(
    buf: bytes | memoryview, spans: LineSpans, candidates: np.ndarray
) -> dict[int, str]:
    """Map each candidate line that is not exactly one strict JSON object to its reason.

    `candidates` are indexes of the non-blank, valid UTF-8 lines of `buf`; when they are all the
    lines that are not blank, the whole buffer is checked in a single call.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts, ends = spans.starts[candidates], spans.ends[candidates]
    if len(candidates) == 0:
        return {}
    braced = (arr[starts] == OPEN_BRACE) & (arr[ends - 1] == CLOSE_BRACE)
    if braced.all():
        try:
            raws = _RAW_LINES.decode_lines(buf)
        except (msgspec.DecodeError, RecursionError):
            raws = None
        if raws is not None and len(raws) == len(candidates):
            lengths = np.fromiter((len(r) for r in raws), dtype=np.int64, count=len(raws))
            if np.array_equal(lengths, ends - starts):
                return {}
    return _bisect(memoryview(buf), starts.tolist(), ends.tolist(), candidates.tolist())


def _bisect(
    view: memoryview, starts: list[int], ends: list[int], index: list[int]
) -> dict[int, str]:
    errors: dict[int, str] = {}
    pending = [(0, len(index))]
    while pending:
        lo, hi = pending.pop()
        if hi - lo <= _SMALL_BATCH:
            for k in range(lo, hi):
                reason = _check_one(view[starts[k] : ends[k]])
                if reason is not None:
                    errors[index[k]] = reason
        elif not _batch_ok([view[starts[k] : ends[k]] for k in range(lo, hi)]):
            mid = (lo + hi) // 2
            pending.extend(((lo, mid), (mid, hi)))
    return errors


def extract_fields(
    lines: pa.Array, paths: list[str], columns: dict[str, str], context: dict[str, pa.Array]
) -> pl.DataFrame:
    """Lift JSON paths from valid JSON lines and compute `columns` from them in one DuckDB pass.

    Each expression of `columns` is SQL over `v`, the list of the `paths` values in order
    (`v[1]` is the first; strings unquoted, numbers as written, objects and arrays as JSON text,
    absent or null values null), and over the `context` columns given beside the lines. The
    paths and expressions are the caller's constants, never user input.
    """
    path_list = ", ".join(f"'{path}'" for path in paths)
    select = ", ".join(f'{expression} AS "{name}"' for name, expression in columns.items())
    table = pa.table({"line": lines, **context})
    con = cursor()
    try:
        con.register("lines", table)
        result = con.sql(
            f"SELECT {select} FROM (SELECT *, json_extract_string(line, [{path_list}]) AS v "
            "FROM lines)"
        ).to_arrow_table()
    finally:
        con.close()
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    return frame
