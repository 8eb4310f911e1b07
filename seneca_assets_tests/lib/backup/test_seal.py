"""Sealing in chunks: a file larger than a chunk round-trips in bounded memory, through real
files; a blob cut short, with chunks swapped, dropped or added, or presented as another file, is
named as corrupted; blobs of the first format still open; and a lake backed up with small chunks
restores, while its damaged multi-chunk blobs are named by verify."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup import service
from seneca_assets.lib.backup.seal import CHUNK_BYTES, MAGIC, MAGIC_V1, BackupError, Sealer
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.backup.conftest import contents

HEADER = struct.Struct(">12sIB")  # a chunk's nonce, sealed length and final flag


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunks(blob: bytes) -> list[bytes]:
    """A format-2 blob's chunks, each with its header."""
    spans, at = [], len(MAGIC)
    while at < len(blob):
        _, length, _ = HEADER.unpack_from(blob, at)
        spans.append(blob[at : at + HEADER.size + length])
        at += HEADER.size + length
    return spans


def test_a_file_larger_than_a_chunk_round_trips_in_bounded_memory(tmp_path: Path):
    sealer = Sealer(os.urandom(32), chunk_bytes=1 << 20)
    data = os.urandom(3 << 20) + bytes(13 << 20) + b"tail"  # 16 MiB, 17 chunks
    source, blob, back = tmp_path / "file", tmp_path / "blob", tmp_path / "back"
    source.write_bytes(data)
    digest = _sha(data)
    del data
    tracemalloc.start()
    with open(source, "rb") as inp, open(blob, "wb") as out:
        sealer.seal_to(inp, digest, out)
    sealed_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    with open(blob, "rb") as inp, open(back, "wb") as out:
        size = sealer.open_to(inp, digest, "file", out)
    opened_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert size == source.stat().st_size and back.read_bytes() == source.read_bytes()
    assert len(_chunks(blob.read_bytes())) == 17
    # A chunk, the next one read ahead, their compressed and sealed forms: never the 16 MiB.
    assert sealed_peak < 6 << 20 and opened_peak < 6 << 20, (sealed_peak, opened_peak)


def test_the_default_chunk_is_4_mib_and_a_larger_file_round_trips():
    sealer = Sealer(os.urandom(32))
    data = os.urandom(CHUNK_BYTES * 2 + 1)
    blob = sealer.seal(data, _sha(data))
    assert CHUNK_BYTES == 4 << 20 and len(_chunks(blob)) == 3
    assert sealer.open(blob, _sha(data), "f") == data


def test_a_blob_cut_short_or_with_chunks_moved_is_named_as_corrupted():
    sealer = Sealer(os.urandom(32), chunk_bytes=1000)
    data = os.urandom(3500)
    digest = _sha(data)
    blob = sealer.seal(data, digest)
    first, second, third, last = _chunks(blob)
    damaged = {
        "its last chunk dropped": MAGIC + first + second + third,
        "cut inside a chunk": blob[:-10],
        "two chunks swapped": MAGIC + second + first + third + last,
        "a middle chunk dropped": MAGIC + first + third + last,
        "a chunk added after the last": blob + first,
        "the last chunk flagged as not last": MAGIC + first + second + third
        + last[:16] + b"\x00" + last[17:],
    }  # fmt: skip
    for bad in damaged.values():
        with pytest.raises(BackupError, match="f is corrupted"):
            sealer.open(bad, digest, "f")
    other = os.urandom(3500)  # a whole, valid blob of another file
    with pytest.raises(BackupError, match="f is corrupted"):
        sealer.open(sealer.seal(other, _sha(other)), digest, "f")
    with pytest.raises(BackupError, match="is corrupted"):
        Sealer(os.urandom(32)).open(blob, digest, "f")  # another key


def test_a_blob_of_the_first_format_still_opens():
    key, data = os.urandom(32), b"a file sealed before chunks" * 100
    nonce, packed = os.urandom(12), zstandard.ZstdCompressor(level=3).compress(data)
    old = MAGIC_V1 + nonce + AESGCM(key).encrypt(nonce, packed, _sha(data).encode())
    assert Sealer(key).open(old, _sha(data), "old") == data
    with pytest.raises(BackupError, match="old is corrupted"):
        Sealer(key).open(old[:-1] + bytes([old[-1] ^ 1]), _sha(data), "old")


def test_a_lake_sealed_in_small_chunks_restores_and_its_damage_is_named(setup: Path):
    root = setup / "backups"
    small = dataclasses.replace(service.sealer(root), chunk_bytes=16 << 10)
    made = repo.create(Lake(setup / "lake"), root, small, "full", datetime.now(UTC))
    large = sorted((f for f in made.files if f.size > 3 * small.chunk_bytes), key=lambda f: f.size)
    assert len(large) >= 2
    checked = service.verify(made.id)
    assert checked.ok and checked.files == len(made.files)
    assert service.restore("copy")[1].ok
    assert contents(setup / "restores" / "copy") == contents(setup / "lake")
    cut, swapped = large[-1], large[-2]
    cut_blob = root / "blobs" / cut.sha256[:2] / cut.sha256
    cut_blob.write_bytes(MAGIC + b"".join(_chunks(cut_blob.read_bytes())[:-1]))
    swap_blob = root / "blobs" / swapped.sha256[:2] / swapped.sha256
    one, two, *rest = _chunks(swap_blob.read_bytes())
    swap_blob.write_bytes(MAGIC + two + one + b"".join(rest))
    problems = service.verify(made.id).problems
    assert any(p.startswith(f"{cut.path} is corrupted") for p in problems)
    assert any(p.startswith(f"{swapped.path} is corrupted") for p in problems)
    assert len(problems) == 2
