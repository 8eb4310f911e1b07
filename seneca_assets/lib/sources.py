"""Tailing a folder of log files: what is new in each file, and reading it in bounded chunks.

A file is remembered by its size, modification time, how far it has been consumed (`offset`, always
just after a line terminator), and a fingerprint of its first bytes. An unchanged file costs one
`stat`. A file that shrank, or whose first bytes changed, was rewritten and is read again from the
start. The last line of a file without its newline is still being written: it waits, unless the file
has been still for the grace period, when it is taken as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import xxhash

from seneca_assets.lib.jsonl import NEWLINE
from seneca_assets.lib.marcus import SourceName, source_name

FINGERPRINT_BYTES = 1024


@dataclass(frozen=True)
class FileState:
    """What is known of one file after the last read (a row of bronze/ingest_files)."""

    path: str
    stream: str
    size: int
    mtime_ns: int
    offset: int
    fingerprint: str
    fingerprint_bytes: int
    lines: int
    rewrites: int
    pending_tail_bytes: int


@dataclass(frozen=True)
class ReadPlan:
    """The bytes to read from one file in this run."""

    path: str
    """Relative to the log folder, with `/` separators."""
    abs_path: Path
    source: SourceName
    start: int
    end: int
    """The file's size when planned: bytes appended later wait for the next run."""
    first_line: int
    """Line number of the line starting at `start`."""
    take_tail: bool
    """Take an unterminated last line as it is (the file has been still long enough)."""
    state: FileState
    """The state to store if the whole plan is read; `offset` and `lines` are set as it goes."""


@dataclass(frozen=True)
class Segment:
    """Complete lines of one file, held in a chunk's buffer at `buf_start`."""

    path: str
    stream: str
    start: int
    """Offset in the file of the segment's first byte."""
    buf_start: int
    length: int
    """Bytes in the buffer, ending with a newline (one is added after a taken tail)."""
    first_line: int
    lines: int
    consumed: int
    """File bytes this segment accounts for (a tail fragment has no newline of its own)."""


@dataclass
class Chunk:
    """Complete lines of several files in one buffer, and the file states they reach."""

    buf: bytearray
    used: int = 0
    segments: list[Segment] = field(default_factory=list)
    reached: dict[str, FileState] = field(default_factory=dict)

    @property
    def data(self) -> memoryview:
        """The filled part of the buffer."""
        return memoryview(self.buf)[: self.used]

    @classmethod
    def of_lines(cls, lines: list[tuple[str, str, int, int, bytes]]) -> Chunk:
        """A chunk of single lines given as (path, stream, byte offset, line number, bytes)."""
        chunk = cls(bytearray(sum(len(raw) + 1 for *_, raw in lines)))
        for path, stream, offset, number, raw in lines:
            chunk.buf[chunk.used : chunk.used + len(raw) + 1] = raw + b"\n"
            chunk.segments.append(
                Segment(path, stream, offset, chunk.used, len(raw) + 1, number, 1, len(raw))
            )
            chunk.used += len(raw) + 1
        return chunk


@dataclass(frozen=True)
class ScanResult:
    """The files of a log folder and what to read from them."""

    plans: list[ReadPlan]
    states: dict[str, FileState]
    """The state of every known file, updated for files whose change needed no read."""
    files_seen: int
    files_rewritten: int
    unreadable: list[str]
    """Files that could not be read (permissions, removed while scanned); retried next run."""


def fingerprint(head: bytes) -> str:
    """The fingerprint of a file's first bytes."""
    return xxhash.xxh3_64_hexdigest(head)


def _walk(root: Path) -> Iterator[tuple[str, os.DirEntry[str], SourceName]]:
    """Every Marcus or Seneca log file under `root`, with its path relative to `root`."""
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((f"{prefix}{entry.name}/", entry.path))
                    continue
                name = source_name(entry.name)
                if name is not None and entry.is_file():
                    yield f"{prefix}{entry.name}", entry, name


def _read_head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(min(size, FINGERPRINT_BYTES))


def scan(
    root: Path, known: dict[str, FileState], *, now_s: float, tail_grace_s: float
) -> ScanResult:
    """Compare the folder with what is known; plan a read for every file with something new."""
    plans: list[ReadPlan] = []
    states = dict(known)
    unreadable: list[str] = []
    seen = rewritten_count = 0
    for rel, entry, name in _walk(root):
        seen += 1
        try:
            stat = entry.stat()
        except OSError:
            unreadable.append(rel)  # its state stays as it was: the next run tries again
            continue
        prev = known.get(rel)
        still_long_enough = now_s - stat.st_mtime >= tail_grace_s
        if prev is not None and (stat.st_size, stat.st_mtime_ns) == (prev.size, prev.mtime_ns):
            waiting_tail = prev.pending_tail_bytes > 0 and not still_long_enough
            if prev.offset == prev.size or waiting_tail:
                continue  # nothing new, or only a last line still being written
        try:
            head = _read_head(Path(entry.path), stat.st_size)
        except OSError:
            unreadable.append(rel)
            continue
        rewritten = prev is not None and (
            stat.st_size < prev.offset
            or fingerprint(head[: prev.fingerprint_bytes]) != prev.fingerprint
        )
        offset, lines = (prev.offset, prev.lines) if prev and not rewritten else (0, 0)
        state = FileState(
            path=rel,
            stream=name.stream,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            offset=offset,
            fingerprint=fingerprint(head),
            fingerprint_bytes=len(head),
            lines=lines,
            rewrites=(prev.rewrites if prev else 0) + int(rewritten),
            pending_tail_bytes=stat.st_size - offset,
        )
        rewritten_count += int(rewritten)
        if state.offset == stat.st_size:
            states[rel] = state
            continue
        plans.append(
            ReadPlan(
                path=rel,
                abs_path=Path(entry.path),
                source=name,
                start=state.offset,
                end=stat.st_size,
                first_line=state.lines + 1,
                take_tail=still_long_enough,
                state=state,
            )
        )
    plans.sort(key=lambda p: (p.source.sort_key, p.path))
    return ScanResult(plans, states, seen, rewritten_count, unreadable)


def read_chunks(plans: list[ReadPlan], chunk_bytes: int) -> Iterator[Chunk]:
    """Read the plans' complete lines, in order, straight into buffers of about `chunk_bytes`.

    Each chunk comes with the state every file reaches once the chunk is stored. A line longer
    than a buffer gets a buffer of its own. Bytes after the last newline that fits are read again
    for the next chunk rather than copied.
    """
    chunk = Chunk(bytearray(chunk_bytes))
    for plan in plans:
        state, position, line = plan.state, plan.start, plan.first_line
        try:
            handle = open(plan.abs_path, "rb", buffering=0)  # noqa: SIM115
        except OSError:
            continue  # gone or unreadable since the scan: its state stays, the next run retries
        with handle:
            while position < plan.end:
                room = len(chunk.buf) - chunk.used - 1  # one byte kept for a tail's newline
                want = min(room, plan.end - position)
                handle.seek(position)
                got = handle.readinto(memoryview(chunk.buf)[chunk.used : chunk.used + want])
                if not got:
                    break  # the file shrank while we read: the next run sees it rewritten
                at_end = got < want or position + got >= plan.end
                cut = chunk.buf.rfind(b"\n", chunk.used, chunk.used + got) + 1 - chunk.used
                if cut > 0:
                    window = np.frombuffer(chunk.buf, np.uint8, count=cut, offset=chunk.used)
                    lines = int(np.count_nonzero(window == NEWLINE))
                    segment = Segment(
                        plan.path, plan.source.stream, position, chunk.used, cut, line, lines, cut
                    )
                elif at_end and plan.take_tail:
                    chunk.buf[chunk.used + got] = NEWLINE
                    segment = Segment(
                        plan.path, plan.source.stream, position, chunk.used, got + 1, line, 1, got
                    )
                elif at_end:
                    break  # an unterminated last line, still being written
                else:
                    # The line does not fit: start a new buffer, big enough for it.
                    if chunk.segments or chunk.reached:
                        yield chunk
                    size = chunk_bytes if chunk.used else 2 * len(chunk.buf)
                    chunk = Chunk(bytearray(size))
                    continue
                chunk.segments.append(segment)
                chunk.used += segment.length
                position += segment.consumed
                line += segment.lines
                state = chunk.reached[plan.path] = advance(plan, segment)
                if chunk.used >= len(chunk.buf) - 1:
                    yield chunk
                    chunk = Chunk(bytearray(chunk_bytes))
        chunk.reached[plan.path] = finish(plan, state)
    if chunk.segments or chunk.reached:
        yield chunk


def advance(plan: ReadPlan, segment: Segment) -> FileState:
    """The file's state once `segment`, and everything of `plan` before it, is stored.

    Whether unread bytes after it are a half-written last line is known only at the end of the
    plan (`finish`); until then the remainder is just not read yet, and a run that stops here
    leaves it for the next run to read.
    """
    return replace(
        plan.state,
        offset=segment.start + segment.consumed,
        lines=segment.first_line - 1 + segment.lines,
        pending_tail_bytes=0,
    )


def finish(plan: ReadPlan, state: FileState) -> FileState:
    """The file's state once all of `plan` is read: what is left is an unterminated last line."""
    return replace(state, pending_tail_bytes=plan.end - state.offset)


def folder_signature(root: Path) -> str:
    """A digest of every log file's path, size and modification time: changes when any does."""
    digest = xxhash.xxh3_128()
    for rel, entry, _ in sorted(_walk(root), key=lambda item: item[0]):
        stat = entry.stat()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
