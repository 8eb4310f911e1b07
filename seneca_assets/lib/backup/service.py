"""What the `seneca backup` command and the backup assets do, over the repository.

The repository is at SENECA_BACKUP_DIR (default `data/backups`); when SENECA_OFFSITE_URL is set,
every backup is also copied there (`offsite.py`), and retention applies there too. Restores go
to a folder under SENECA_RESTORE_DIR (default `data/restores`), never outside it, and never into
a folder that holds anything unless forced; or, in place, over the live lake, with a snapshot
of it taken first. Every restore verifies the backup first, by a restore into a fresh scratch
folder beside the repository (removed afterwards), and writes nothing unless it verifies.
Verifying and restoring read the local repository or, asked to, the off-site copy; the backup
is the newest, a named one, or the newest made at or before a given time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from seneca_assets.lib.backup import offsite as copies
from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup.inplace import InPlace
from seneca_assets.lib.backup.inplace import restore_in_place as return_lake
from seneca_assets.lib.backup.seal import (
    BackupError,
    Sealer,
    opened_sealer,
    passphrase,
    repository_sealer,
)
from seneca_assets.lib.backup.store import (
    OFFSITE_VARIABLE,
    Store,
    hidden,
    local_store,
    offsite_store,
    offsite_url,
)
from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.export import confined
from seneca_assets.lib.lake import Lake

LOCK_NAME = "backup"
DEFAULT_BACKUP_DIR = "data/backups"
DEFAULT_RESTORE_DIR = "data/restores"


def backup_root() -> Path:
    """The repository's folder: SENECA_BACKUP_DIR, or data/backups."""
    return Path(os.environ.get("SENECA_BACKUP_DIR") or DEFAULT_BACKUP_DIR)


def restore_root() -> Path:
    """The folder restores go under: SENECA_RESTORE_DIR, or data/restores."""
    return Path(os.environ.get("SENECA_RESTORE_DIR") or DEFAULT_RESTORE_DIR)


def sealer(root: Path | None = None) -> Sealer:
    """The repository's sealer from SENECA_BACKUP_KEY (ConfigurationError without it)."""
    return repository_sealer(root or backup_root(), passphrase())


def offsite() -> Store | None:
    """The off-site copy at SENECA_OFFSITE_URL, or None when it is not set."""
    url = offsite_url()
    return offsite_store(url) if url else None


def create(lake: Lake, kind: str, root: Path | None = None) -> repo.Backup:
    """A new backup of `kind`, copied off-site when SENECA_OFFSITE_URL is set.

    One backup at a time (the lake's `backup` lock); what one killed mid-way left is removed
    first. A backup whose off-site copy fails is finished locally all the same (BackupError
    says so); the next backup copies it.
    """
    root = root or backup_root()
    seal = sealer(root)
    url = offsite_url()
    target = offsite_store(url) if url else None  # an unusable URL stops here, before any work
    with lake.lock(LOCK_NAME):
        repo.remove_partials(root)
        made = repo.create(lake, root, seal, kind, datetime.now(UTC))
    if url and target:
        try:
            copies.push(root, seal, target)
        except (OSError, BackupError) as exc:
            raise BackupError(
                f"backup {made.id} is finished in {root}, but copying it to {target.label} "
                f"failed ({type(exc).__name__}: {hidden(str(exc), url)}); the next backup "
                "copies it"
            ) from exc
    return made


def moment(text: str) -> datetime:
    """An ISO-8601 time, in UTC when it names no zone; BackupError if it is not one."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BackupError(
            f"a backup time is ISO-8601, e.g. 2026-11-27T02:00 (UTC unless it names a zone), "
            f"not {text!r}"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def listing(use_offsite: bool = False, root: Path | None = None) -> pl.DataFrame:
    """The finished backups, oldest first, in the repository or its off-site copy."""
    return repo.listed(_store(root, use_offsite))


def chosen(store: Store, backup_id: str | None = None, at: datetime | None = None) -> str:
    """The backup named, else the newest made at or before `at`, else the newest.

    BackupError when there is none, or when both an id and a time are given.
    """
    if backup_id and at:
        raise BackupError("name a backup or give a time (--at), not both")
    if backup_id:
        return backup_id
    done = repo.listed(store)
    if done.is_empty():
        raise BackupError(
            f"there is no finished backup in {store.label}: `seneca backup create` makes one"
        )
    if at is None:
        return str(done.item(-1, "id"))
    timed = done.with_columns(at=pl.col("created_at").str.to_datetime(time_zone="UTC")).sort("at")
    before = timed.filter(pl.col("at") <= at)
    if before.is_empty():
        raise BackupError(
            f"no finished backup in {store.label} was made at or before {at.isoformat()}: the "
            f"oldest, {timed.item(0, 'id')}, was made at {timed.item(0, 'created_at')}"
        )
    return str(before.item(-1, "id"))


def verify(
    backup_id: str | None = None,
    root: Path | None = None,
    *,
    at: datetime | None = None,
    use_offsite: bool = False,
) -> repo.Verified:
    """Restore a backup (the newest by default) into a scratch folder and check it."""
    root = root or backup_root()
    store, seal = _reader(root, use_offsite)
    backup = repo.load(store, seal, chosen(store, backup_id, at))
    with _verified(store, seal, backup, root) as (_, checked):
        return checked


def restore(
    to: str,
    backup_id: str | None = None,
    force: bool = False,
    root: Path | None = None,
    *,
    at: datetime | None = None,
    use_offsite: bool = False,
) -> tuple[Path, repo.Verified]:
    """Restore a backup (the newest by default) into `to` under the restore root, verified.

    BackupError when `to` holds anything and `force` is not given, or when the key or a file
    fails; nothing is written then. The verified scratch copy is what is moved into `to`.
    """
    root = root or backup_root()
    target = confined(restore_root(), to)
    if target.exists() and any(target.iterdir()) and not force:
        raise BackupError(
            f"{target} is not empty: restore into an empty folder, or give --force to write over it"
        )
    store, seal = _reader(root, use_offsite)  # a wrong key stops here, before anything is written
    backup = repo.load(store, seal, chosen(store, backup_id, at))
    with _verified(store, seal, backup, root) as (scratch, checked):
        if not checked.ok:
            raise BackupError(f"backup {backup.id} does not verify: {checked.problems[0]}")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(scratch, target)
    return target, checked


def restore_in_place(
    lake: Lake,
    backup_id: str | None = None,
    root: Path | None = None,
    *,
    at: datetime | None = None,
    use_offsite: bool = False,
) -> InPlace:
    """Return the live lake to a backup (`inplace.py`), a snapshot of it taken first.

    The backup is verified first: a wrong key or a backup that does not verify restores
    nothing, and takes no snapshot.
    """
    root = root or backup_root()
    store, seal = _reader(root, use_offsite)
    backup = repo.load(store, seal, chosen(store, backup_id, at))
    with _verified(store, seal, backup, root) as (scratch, checked):
        if not checked.ok:
            raise BackupError(f"backup {backup.id} does not verify: {checked.problems[0]}")
        return return_lake(lake, backup, scratch)


def prune(
    root: Path | None = None, now: datetime | None = None, with_offsite: bool = True
) -> tuple[list[str], int]:
    """Apply grandfather-father-son retention to the repository (`repository.prune`).

    And to the off-site copy when SENECA_OFFSITE_URL is set, unless `with_offsite` is False.
    Returns the local repository's ids deleted and count of blobs deleted.
    """
    root = root or backup_root()
    now = now or datetime.now(UTC)
    done = repo.prune(root, sealer(root), now)
    if with_offsite:
        prune_offsite(root, now)
    return done


def prune_offsite(
    root: Path | None = None, now: datetime | None = None
) -> tuple[list[str], int] | None:
    """Apply retention to the off-site copy; None when SENECA_OFFSITE_URL is not set."""
    if offsite_url() is None:
        return None
    target, seal = _reader(root or backup_root(), use_offsite=True)
    return repo.prune(target, seal, now or datetime.now(UTC))


def _store(root: Path | None, use_offsite: bool) -> Store:
    """The local repository, or its off-site copy (ConfigurationError if none is set)."""
    if not use_offsite:
        return local_store(root or backup_root())
    target = offsite()
    if target is None:
        raise ConfigurationError(f"--offsite reads the copy at {OFFSITE_VARIABLE}: set it")
    return target


def _reader(root: Path, use_offsite: bool) -> tuple[Store, Sealer]:
    """The repository (or its off-site copy) to read, and its sealer; WrongKeyError first."""
    store = _store(root, use_offsite)
    if not store.exists(copies.REPOSITORY):
        raise BackupError(f"there is no backup repository in {store.label}")
    return store, opened_sealer(store.read(copies.REPOSITORY), passphrase(), store.label)


@contextmanager
def _verified(
    store: Store, seal: Sealer, backup: repo.Backup, root: Path
) -> Iterator[tuple[Path, repo.Verified]]:
    """`backup` restored into a fresh scratch folder under `root` and checked; removed after."""
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="verify-", dir=root))
    try:
        yield scratch, repo.verify(store, seal, backup, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
