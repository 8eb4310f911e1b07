"""Sealing a file for a backup: zstd compression, then AES-256-GCM encryption.

The key comes from the passphrase in SENECA_BACKUP_KEY through scrypt with the repository's
salt; it is never written or logged. A sealed blob is MAGIC, a 12-byte random nonce, and the
ciphertext with its tag; the associated data is the file's SHA-256, so a blob cannot be passed
off as another file's. Opening checks the tag (a wrong key or a changed byte fails) and the
SHA-256 of what comes out.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from seneca_assets.lib.config import ConfigurationError

KEY_VARIABLE = "SENECA_BACKUP_KEY"
MAGIC = b"SNCB1"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
ZSTD_LEVEL = 3
_CHECK = b"seneca backup repository"


class BackupError(RuntimeError):
    """A backup that cannot be read as it should: the message says which and why."""


class WrongKeyError(BackupError):
    """The key does not open this backup repository."""


@dataclass(frozen=True)
class Sealer:
    """Seals and opens blobs with one repository's key."""

    key: bytes

    def seal(self, data: bytes, sha256: str) -> bytes:
        """`data` compressed and encrypted, bound to its SHA-256."""
        nonce = os.urandom(12)
        packed = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
        return MAGIC + nonce + AESGCM(self.key).encrypt(nonce, packed, sha256.encode())

    def open(self, blob: bytes, sha256: str, name: str) -> bytes:
        """The data sealed in `blob`, checked against `sha256`; BackupError names `name`."""
        if not blob.startswith(MAGIC):
            raise BackupError(f"{name} is not a sealed backup file")
        nonce, sealed = blob[len(MAGIC) : len(MAGIC) + 12], blob[len(MAGIC) + 12 :]
        try:
            packed = AESGCM(self.key).decrypt(nonce, sealed, sha256.encode())
        except InvalidTag as exc:
            raise BackupError(f"{name} is corrupted: its authentication tag fails") from exc
        data = zstandard.ZstdDecompressor().decompress(packed)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BackupError(f"{name} does not hold the file its SHA-256 names")
        return data


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
        meta = json.loads(path.read_text(encoding="utf-8"))
        sealer = Sealer(_derive(secret, bytes.fromhex(meta["salt"])))
        try:
            sealer.open(bytes.fromhex(meta["check"]), hashlib.sha256(_CHECK).hexdigest(), "key")
        except BackupError as exc:
            raise WrongKeyError(
                f"the key in {KEY_VARIABLE} does not open the backups in {root}: nothing was "
                "read or restored"
            ) from exc
        return sealer
    salt = os.urandom(16)
    sealer = Sealer(_derive(secret, salt))
    check = sealer.seal(_CHECK, hashlib.sha256(_CHECK).hexdigest())
    root.mkdir(parents=True, exist_ok=True)
    meta = {"format": 1, "kdf": "scrypt", **SCRYPT, "salt": salt.hex(), "check": check.hex()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(meta), encoding="utf-8")
    temporary.replace(path)
    return sealer


def _derive(secret: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, **SCRYPT).derive(secret)
