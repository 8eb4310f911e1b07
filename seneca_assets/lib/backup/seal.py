"""Sealing a file for a backup: zstd compression, then AES-256-GCM encryption, in chunks.

The key comes from the passphrase in SENECA_BACKUP_KEY through scrypt with the repository's
salt; it is never written or logged.

A sealed blob (format 2, MAGIC `SNCB2`) is MAGIC followed by one or more chunks, so that a file
of any size is sealed and opened in bounded memory. Each chunk holds up to `chunk_bytes` of the
file (4 MiB by default), compressed on its own, and is written as a header (a 12-byte random
nonce, the sealed length, a final-chunk flag) and the ciphertext with its tag. A chunk's
associated data is the file's SHA-256, the chunk's index and the final flag, so a chunk taken
from another file, moved, dropped, or a blob cut after any chunk but its last, fails
authentication; so does every changed byte and a wrong key. Opening computes the SHA-256 of what
comes out as it streams and checks it at the end. Blobs of format 1 (MAGIC `SNCB1`, one nonce and
one ciphertext for the whole file, sealed in memory) are still read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.storage import Readable

KEY_VARIABLE = "SENECA_BACKUP_KEY"
MAGIC = b"SNCB2"
MAGIC_V1 = b"SNCB1"
CHUNK_BYTES = 4 * 2**20
"""Plaintext bytes per sealed chunk: what sealing or opening one file holds in memory."""
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
ZSTD_LEVEL = 3
NONCE_BYTES = 12
_HEADER = struct.Struct(">12sIB")
"""A chunk's header: its nonce, the length of its ciphertext with the tag, its final flag."""
_POSITION = struct.Struct(">QB")
"""What a chunk's associated data adds to the file's SHA-256: its index and final flag."""
_CHECK = b"seneca backup repository"


class BackupError(RuntimeError):
    """A backup that cannot be read as it should: the message says which and why."""


class WrongKeyError(BackupError):
    """The key does not open this backup repository."""


@dataclass(frozen=True)
class Sealer:
    """Seals and opens blobs with one repository's key, `chunk_bytes` of plaintext a chunk."""

    key: bytes = field(repr=False)
    chunk_bytes: int = CHUNK_BYTES

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.key)

    def seal_to(self, source: Readable, sha256: str, out: BinaryIO) -> None:
        """Seal all that `source` holds into `out`, bound to `sha256` (the caller's hash of it).

        Holds at most two chunks in memory: the one sealed and the next, read ahead to know
        whether this one is the last.
        """
        packer = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        out.write(MAGIC)
        index, chunk = 0, source.read(self.chunk_bytes)
        while True:
            following = source.read(self.chunk_bytes)
            final = not following
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._aead.encrypt(
                nonce, packer.compress(chunk), _associated(sha256, index, final)
            )
            out.write(_HEADER.pack(nonce, len(sealed), final))
            out.write(sealed)
            if final:
                return
            index, chunk = index + 1, following

    def open_to(self, blob: BinaryIO, sha256: str, name: str, out: BinaryIO) -> int:
        """Write the file sealed in `blob` to `out`, checked against `sha256`; its size.

        BackupError names `name` when the blob is not sealed, corrupted, cut short, or holds
        another file; what was written to `out` by then must be thrown away.
        """
        magic = blob.read(len(MAGIC))
        if magic == MAGIC_V1:
            data = self._open_v1(blob.read(), sha256, name)
            out.write(data)
            return len(data)
        if magic != MAGIC:
            raise BackupError(f"{name} is not a sealed backup file")
        digest, size = hashlib.sha256(), 0
        unpacker = zstandard.ZstdDecompressor()
        index, final = 0, False
        while not final:
            nonce, length, final = self._header(blob, name, index)
            sealed = blob.read(length)
            if len(sealed) < length:
                raise BackupError(f"{name} is corrupted: it is cut short in chunk {index}")
            try:
                packed = self._aead.decrypt(nonce, sealed, _associated(sha256, index, final))
            except InvalidTag as exc:
                raise BackupError(
                    f"{name} is corrupted: chunk {index} fails its authentication tag"
                ) from exc
            data = unpacker.decompress(packed)
            digest.update(data)
            out.write(data)
            size += len(data)
            index += 1
        if blob.read(1):
            raise BackupError(f"{name} is corrupted: it goes on after its last chunk")
        if digest.hexdigest() != sha256:
            raise BackupError(f"{name} does not hold the file its SHA-256 names")
        return size

    def seal(self, data: bytes, sha256: str) -> bytes:
        """`data` sealed in memory (`seal_to`), for small things: a manifest, a check value."""
        out = io.BytesIO()
        self.seal_to(io.BytesIO(data), sha256, out)
        return out.getvalue()

    def open(self, blob: bytes, sha256: str, name: str) -> bytes:
        """The data sealed in `blob`, opened in memory (`open_to`)."""
        out = io.BytesIO()
        self.open_to(io.BytesIO(blob), sha256, name, out)
        return out.getvalue()

    def _header(self, blob: BinaryIO, name: str, index: int) -> tuple[bytes, int, bool]:
        """The next chunk's nonce, sealed length and final flag; BackupError if there is none."""
        header = blob.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise BackupError(
                f"{name} is corrupted: it ends before its last chunk (after {index} chunks)"
            )
        nonce, length, final = _HEADER.unpack(header)
        return nonce, length, bool(final)

    def _open_v1(self, rest: bytes, sha256: str, name: str) -> bytes:
        """A format-1 blob after its MAGIC: a nonce and one ciphertext of the whole file."""
        nonce, sealed = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        try:
            packed = self._aead.decrypt(nonce, sealed, sha256.encode())
        except InvalidTag as exc:
            raise BackupError(f"{name} is corrupted: its authentication tag fails") from exc
        data = zstandard.ZstdDecompressor().decompress(packed)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BackupError(f"{name} does not hold the file its SHA-256 names")
        return data


def _associated(sha256: str, index: int, final: bool) -> bytes:
    """A chunk's associated data: the file's SHA-256, the chunk's index and its final flag."""
    return sha256.encode() + _POSITION.pack(index, final)


def passphrase() -> bytes:
    """The passphrase from SENECA_BACKUP_KEY; ConfigurationError without it."""
    text = os.environ.get(KEY_VARIABLE, "")
    if not text:
        raise ConfigurationError(
            f"encrypted backups need a passphrase: set {KEY_VARIABLE} (it is never written or "
            "logged; keep it safe, a backup cannot be read without it)"
        )
    return text.encode()


def repository_sealer(root: Path, secret: bytes) -> Sealer:
    """The sealer of the backup repository at `root`, created with a new salt if it is new.

    WrongKeyError when `secret` does not open it: checked before anything is read or written.
    """
    path = root / "repository.json"
    if path.exists():
        return opened_sealer(path.read_bytes(), secret, str(root))
    salt = os.urandom(16)
    sealer = Sealer(_derive(secret, salt))
    check = sealer.seal(_CHECK, hashlib.sha256(_CHECK).hexdigest())
    root.mkdir(parents=True, exist_ok=True)
    meta = {"format": 1, "kdf": "scrypt", **SCRYPT, "salt": salt.hex(), "check": check.hex()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(meta), encoding="utf-8")
    temporary.replace(path)
    return sealer


def opened_sealer(meta: bytes, secret: bytes, where: str) -> Sealer:
    """The sealer a repository's `repository.json` (its bytes) and `secret` make.

    WrongKeyError, naming `where`, when the secret does not open the sealed check value.
    """
    fields = json.loads(meta)
    sealer = Sealer(_derive(secret, bytes.fromhex(fields["salt"])))
    try:
        sealer.open(bytes.fromhex(fields["check"]), hashlib.sha256(_CHECK).hexdigest(), "key")
    except BackupError as exc:
        raise WrongKeyError(
            f"the key in {KEY_VARIABLE} does not open the backups in {where}: nothing was "
            "read or restored"
        ) from exc
    return sealer


def _derive(secret: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, **SCRYPT).derive(secret)
