"""Backups: a full and an incremental backup round-trip through `seneca backup` and verify;
a wrong key, a corrupted or missing file, an unfinished backup and a restore into a non-empty
folder each fail clearly, and nothing is restored or lost."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.cli import main
from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup import service
from seneca_assets.lib.backup.seal import BackupError, WrongKeyError
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.backup.conftest import KEY, built_lake, setup  # noqa: F401
from seneca_assets_tests.lib.backup.conftest import rows as _rows


def test_a_backup_restores_the_lake_as_it_was(setup: Path, capsys):  # noqa: F811
    assert main(["backup", "create"]) == 0
    assert main(["backup", "create", "--kind", "incremental"]) == 0
    assert main(["backup", "list", "--json"]) == 0
    out = capsys.readouterr().out
    listed = repo.listed(setup / "backups")
    assert listed.get_column("kind").to_list() == ["full", "incremental"]
    assert listed.item(1, "parent") == listed.item(0, "id")
    assert listed.item(0, "id") in out
    # The incremental backup wrote no blob the full one had: the lake did not change.
    blobs = list((setup / "backups" / "blobs").rglob("*"))
    assert len([b for b in blobs if b.is_file()]) == listed.item(0, "files")
    assert main(["backup", "verify"]) == 0
    assert main(["backup", "restore", "--to", "copy"]) == 0
    assert _rows(setup / "restores" / "copy") == _rows(setup / "lake")
    # Nothing in the repository is readable without the key.
    secret = (setup / "lake" / "silver" / "messages").rglob("*.parquet")
    sample = next(iter(secret)).read_bytes()[:64]
    for blob in (b for b in blobs if b.is_file()):
        assert sample not in blob.read_bytes()
    assert KEY.encode() not in (setup / "backups" / "repository.json").read_bytes()


def test_a_wrong_key_restores_nothing(setup: Path, monkeypatch, capsys):  # noqa: F811
    assert main(["backup", "create"]) == 0
    monkeypatch.setenv("SENECA_BACKUP_KEY", "not the key")
    capsys.readouterr()
    assert main(["backup", "restore", "--to", "copy"]) == 2
    assert "does not open the backups" in capsys.readouterr().err
    assert not (setup / "restores" / "copy").exists()
    with pytest.raises(WrongKeyError):
        service.verify()
    monkeypatch.delenv("SENECA_BACKUP_KEY")
    assert main(["backup", "create"]) == 2  # no key: no backup at all
    assert "SENECA_BACKUP_KEY" in capsys.readouterr().err


def test_a_corrupted_or_missing_file_is_named_by_verify(setup: Path, capsys):  # noqa: F811
    made = service.create(Lake(setup / "lake"), "full")
    first, second = made.files[0], made.files[1]
    blob = setup / "backups" / "blobs" / first.sha256[:2] / first.sha256
    damaged = bytearray(blob.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    blob.write_bytes(bytes(damaged))
    (setup / "backups" / "blobs" / second.sha256[:2] / second.sha256).unlink()
    capsys.readouterr()
    assert main(["backup", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"{first.path} is corrupted" in err and f"{second.path}: its sealed copy" in err
    # A backup that does not verify is not restored.
    assert main(["backup", "restore", "--to", "copy"]) == 2
    assert not (setup / "restores" / "copy").exists()


def test_an_unfinished_backup_is_never_listed_and_the_next_one_completes(setup: Path):  # noqa: F811
    made = service.create(Lake(setup / "lake"), "full")
    # What a backup killed before its rename leaves: a .partial folder with part of its files.
    partial = setup / "backups" / "backups" / f"{made.id}-later.partial"
    partial.mkdir()
    (partial / "index.json").write_text('{"id": "later"}')
    assert repo.listed(setup / "backups").get_column("id").to_list() == [made.id]
    with pytest.raises(BackupError, match="no finished backup"):
        repo.load(setup / "backups", service.sealer(), partial.name)
    after = service.create(Lake(setup / "lake"), "incremental")
    assert not partial.exists()
    assert repo.listed(setup / "backups").get_column("id").to_list() == [made.id, after.id]
    assert service.verify(after.id).ok


def test_a_restore_into_a_non_empty_folder_needs_force(setup: Path, capsys):  # noqa: F811
    assert main(["backup", "create"]) == 0
    (setup / "restores" / "busy").mkdir(parents=True)
    (setup / "restores" / "busy" / "keep.txt").write_text("mine")
    capsys.readouterr()
    assert main(["backup", "restore", "--to", "busy"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (setup / "restores" / "busy" / "keep.txt").read_text() == "mine"
    assert main(["backup", "restore", "--to", "busy", "--force"]) == 0
    assert _rows(setup / "restores" / "busy") == _rows(setup / "lake")
    assert main(["backup", "restore", "--to", "../outside"]) == 2
    assert not (setup / "outside").exists()


def test_a_backup_is_a_consistent_cut_of_every_table(setup: Path):  # noqa: F811
    made = service.create(Lake(setup / "lake"), "full")
    lake = Lake(setup / "lake")
    assert made.versions == {t.name: lake.table(t).version() for t in TABLES if lake.exists(t)}
    assert made.rows == _rows(setup / "lake")
    assert all(os.sep not in f.sha256 and len(f.sha256) == 64 for f in made.files)
    assert pl.Series([f.path for f in made.files]).is_unique().all()


def test_grandfather_father_son_keeps_its_backups_and_every_blob_they_need(setup: Path):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    lake = Lake(setup / "lake")
    root, seal = setup / "backups", service.sealer()
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    # A backup every 2 days for 200 days, and four in the last day.
    times = [now - timedelta(days=2 * k) for k in range(1, 101)]
    times += [now - timedelta(hours=h) for h in (1, 5, 9, 20)]
    for at in sorted(times):
        repo.create(lake, root, seal, "incremental", at)
    listed = repo.listed(root)
    keep = repo.kept(listed, now)
    gone, _ = service.prune(root, now)
    remaining = set(repo.listed(root).get_column("id"))
    assert remaining == keep and not remaining & set(gone)
    ids = dict(zip(listed.get_column("created_at"), listed.get_column("id"), strict=True))
    recent = {ids[at.isoformat()] for at in times if at >= now - timedelta(hours=24)}
    assert recent <= remaining  # the last day, whole
    days = {(now - at).days for at in times if ids[at.isoformat()] in remaining}
    assert max(days) > 150  # a monthly one from over five months ago
    assert len(remaining) < len(times)
    # Every kept backup still verifies: no blob it needs was swept.
    for backup_id in sorted(remaining)[:3] + sorted(remaining)[-2:]:
        assert service.verify(backup_id, root).ok
    assert service.prune(root, now) == ([], 0)  # a second run deletes nothing
