"""Off-site copies of the backup repository, at SENECA_OFFSITE_URL (any fsspec URL).

After every finished backup, each finished local backup that the off-site copy does not list
yet is copied there, oldest first: `repository.json` (once: the salt, so the copy opens with
the same key on its own), then the blobs the backup holds that are not there yet, then its
manifest, and its index last. Every file is written under a temporary name and moved into place
(`Store.put`), so an interrupted copy is never listed off-site, and the next push completes it.
The copy is read, verified, restored from and pruned like the local folder (`repository`
functions take a `Store`).
"""

from __future__ import annotations

import json
from pathlib import Path

from seneca_assets.lib.backup.repository import INDEX, MANIFEST, listed, load
from seneca_assets.lib.backup.seal import BackupError, Sealer
from seneca_assets.lib.backup.store import Store

REPOSITORY = "repository.json"


def push(root: Path, sealer: Sealer, target: Store) -> list[str]:
    """Copy every finished backup at `root` that `target` does not list; the ids copied."""
    _same_repository(root, target)
    there = set(listed(target).get_column("id").to_list())
    missing = [i for i in listed(root).get_column("id").to_list() if i not in there]
    if not missing:
        return []
    present = {name.rsplit("/", 1)[-1] for name in target.names("blobs/*/*")}
    for backup_id in missing:
        needed = {f.sha256 for f in load(root, sealer, backup_id).files} - present
        for sha in sorted(needed):
            target.put(root / "blobs" / sha[:2] / sha, "blobs", sha[:2], sha)
        present |= needed
        for name in (MANIFEST, INDEX):  # the index last: only then is the copy listed
            target.put(root / "backups" / backup_id / name, "backups", backup_id, name)
    return missing


def _same_repository(root: Path, target: Store) -> None:
    """Put `repository.json` off-site if it is not there; BackupError if another one is."""
    if not target.exists(REPOSITORY):
        target.put(root / REPOSITORY, REPOSITORY)
        return
    here = json.loads((root / REPOSITORY).read_bytes())["salt"]
    if json.loads(target.read(REPOSITORY))["salt"] != here:
        raise BackupError(
            f"the off-site copy at {target.label} belongs to another backup repository (its "
            "salt differs): point SENECA_OFFSITE_URL at a folder of this repository's own"
        )
