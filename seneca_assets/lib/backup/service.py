"""What the `seneca backup` command and the backup assets do, over the repository.

The repository is at SENECA_BACKUP_DIR (default `data/backups`); restores go to a folder under
SENECA_RESTORE_DIR (default `data/restores`), never outside it, and never into a folder that
holds anything unless forced. Verification restores into a fresh scratch folder beside the
repository and removes it afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup.seal import BackupError, Sealer, passphrase, repository_sealer
from seneca_assets.lib.export import confined
from seneca_assets.lib.lake import Lake

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


def create(lake: Lake, kind: str, root: Path | None = None) -> repo.Backup:
    """A new backup of `kind`; unfinished ones a crash left behind are removed first."""
    root = root or backup_root()
    seal = sealer(root)
    repo.remove_partials(root)
    return repo.create(lake, root, seal, kind, datetime.now(UTC))


def newest(root: Path) -> str:
    """The id of the newest finished backup; BackupError when there is none."""
    done = repo.listed(root)
    if done.is_empty():
        raise BackupError(
            f"there is no finished backup in {root}: `seneca backup create` makes one"
        )
    return str(done.item(-1, "id"))


def verify(backup_id: str | None = None, root: Path | None = None) -> repo.Verified:
    """Restore a backup (the newest by default) into a scratch folder and check it."""
    root = root or backup_root()
    seal = sealer(root)
    backup = repo.load(root, seal, backup_id or newest(root))
    scratch = Path(tempfile.mkdtemp(prefix="verify-", dir=root))
    try:
        return repo.verify(root, seal, backup, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def restore(
    to: str, backup_id: str | None = None, force: bool = False, root: Path | None = None
) -> tuple[Path, repo.Verified]:
    """Restore a backup (the newest by default) into `to` under the restore root, verified.

    BackupError when `to` holds anything and `force` is not given, or when the key or a file
    fails; nothing is written then.
    """
    root = root or backup_root()
    target = confined(restore_root(), to)
    if target.exists() and any(target.iterdir()) and not force:
        raise BackupError(
            f"{target} is not empty: restore into an empty folder, or give --force to write over it"
        )
    seal = sealer(root)  # a wrong key stops here, before anything is written
    backup = repo.load(root, seal, backup_id or newest(root))
    checked = verify(backup.id, root)
    if not checked.ok:
        raise BackupError(f"backup {backup.id} does not verify: {checked.problems[0]}")
    if force and target.exists():
        shutil.rmtree(target)
    for _ in repo.restore(root, seal, backup, target):
        pass
    return target, checked


def prune(root: Path | None = None, now: datetime | None = None) -> tuple[list[str], int]:
    """Apply grandfather-father-son retention to the repository (`repository.prune`)."""
    root = root or backup_root()
    return repo.prune(root, sealer(root), now or datetime.now(UTC))
