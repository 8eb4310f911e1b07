"""Tailing files: chunk boundaries, long lines, tails, and files that vanish mid-run."""

from __future__ import annotations

import os
from pathlib import Path

from seneca_assets.lib import sources
from seneca_assets.lib.sources import read_chunks, scan


def _plans(root: Path, grace_s: float = 3600.0):
    return scan(root, {}, now_s=2e9, tail_grace_s=grace_s)


def test_lines_are_never_split_across_chunks(tmp_path: Path):
    lines = [f'{{"n": {i}, "pad": "{"x" * (i % 50)}"}}\n'.encode() for i in range(2000)]
    (tmp_path / "audit_1.jsonl").write_bytes(b"".join(lines))
    chunks = list(read_chunks(_plans(tmp_path).plans, chunk_bytes=4096))

    assert len(chunks) > 10
    data = b"".join(bytes(c.data) for c in chunks)
    assert data == b"".join(lines)
    assert all(bytes(c.data).endswith(b"\n") for c in chunks)
    last = chunks[-1].reached["audit_1.jsonl"]
    assert (last.offset, last.lines, last.pending_tail_bytes) == (len(data), 2000, 0)


def test_a_line_longer_than_a_chunk_gets_a_buffer_of_its_own(tmp_path: Path):
    long_line = b'{"big": "' + b"y" * 100_000 + b'"}\n'
    (tmp_path / "audit_1.jsonl").write_bytes(b'{"a": 1}\n' + long_line + b'{"b": 2}\n')
    chunks = list(read_chunks(_plans(tmp_path).plans, chunk_bytes=1024))

    assert b"".join(bytes(c.data) for c in chunks) == b'{"a": 1}\n' + long_line + b'{"b": 2}\n'
    (grown,) = [c for c in chunks if len(c.buf) > 1024]
    assert long_line in bytes(grown.data)  # whole, in one buffer


def test_an_unterminated_tail_waits_then_is_taken_after_the_grace(tmp_path: Path):
    (tmp_path / "audit_1.jsonl").write_bytes(b'{"a": 1}\n{"b": 2')
    waiting = list(read_chunks(scan(tmp_path, {}, now_s=0, tail_grace_s=3600).plans, 1 << 20))
    assert bytes(waiting[0].data) == b'{"a": 1}\n'
    assert waiting[0].reached["audit_1.jsonl"].pending_tail_bytes == 7

    taken = list(read_chunks(_plans(tmp_path, grace_s=0).plans, 1 << 20))
    assert bytes(taken[0].data) == b'{"a": 1}\n{"b": 2\n'  # a newline is added for parsing
    assert taken[0].reached["audit_1.jsonl"].offset == 16


def test_a_file_removed_between_scan_and_read_is_skipped_and_kept_for_later(tmp_path: Path):
    (tmp_path / "audit_1.jsonl").write_bytes(b'{"a": 1}\n')
    (tmp_path / "audit_2.jsonl").write_bytes(b'{"b": 2}\n')
    plans = _plans(tmp_path).plans
    (tmp_path / "audit_1.jsonl").unlink()

    chunks = list(read_chunks(plans, 1 << 20))
    assert b"".join(bytes(c.data) for c in chunks) == b'{"b": 2}\n'
    assert "audit_1.jsonl" not in {path for c in chunks for path in c.reached}


def test_only_marcus_and_seneca_streams_are_read(tmp_path: Path):
    for name in ("audit_1.jsonl", "notes.jsonl", "audit_2.json", "decisions_1_2.jsonl"):
        (tmp_path / name).write_bytes(b'{"a": 1}\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "realtime_1_2.jsonl").write_bytes(b'{"a": 1}\n')
    result = _plans(tmp_path)
    assert sorted(p.path for p in result.plans) == [
        "audit_1.jsonl",
        "decisions_1_2.jsonl",
        "sub/realtime_1_2.jsonl",
    ]


def test_an_unchanged_file_costs_a_stat_not_a_read(tmp_path: Path, monkeypatch):
    path = tmp_path / "audit_1.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    (chunk,) = read_chunks(_plans(tmp_path).plans, 1 << 20)
    known = chunk.reached
    heads: list[Path] = []
    real_read_head = sources._read_head
    monkeypatch.setattr(
        sources, "_read_head", lambda p, size: heads.append(p) or real_read_head(p, size)
    )
    # Same size and modification time, different bytes: only a read could tell.
    stat = path.stat()
    path.write_bytes(b'{"b": 2}\n')
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    again = scan(tmp_path, known, now_s=2e9, tail_grace_s=3600)
    assert again.plans == [] and again.files_rewritten == 0
    assert heads == []  # not opened
    # Once the modification time moves, the new first bytes are noticed as a rewrite.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = scan(tmp_path, known, now_s=2e9, tail_grace_s=3600)
    assert changed.files_rewritten == 1 and changed.plans[0].start == 0
    assert heads == [path]
