"""`seneca backup restore --in-place`: after rows are added, deleted, a table dropped and made
anew, and a vacuum, every table returns to the backup's rows as a new version (history kept), an
untouched table is left alone, and the snapshot taken first brings the newer rows back; a wrong
key or a backup that does not verify restores nothing and takes no snapshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from seneca_assets.cli import main
from seneca_assets.lib import snapshots
from seneca_assets.lib.backup import service
from seneca_assets.lib.backup.inplace import LOGS_KEPT
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.backup.conftest import contents, frame_of, versions

SPECS = {t.name: t for t in TABLES}


def _change(lake_dir: Path) -> None:
    """Rows added to one table, deleted from another, a third dropped and made anew."""
    lake = Lake(lake_dir)
    messages = frame_of(lake_dir, "silver/messages")
    lake.write(SPECS["silver/messages"], messages.head(50).with_columns(pl.col("message_id") + "x"))
    task = frame_of(lake_dir, "silver/task_events").item(0, "task_id")
    assert lake.delete(SPECS["silver/task_events"], f"task_id = '{task}'") > 0
    agents = frame_of(lake_dir, "silver/agents")
    shutil.rmtree(lake_dir / "silver" / "agents")
    Lake(lake_dir).write(SPECS["silver/agents"], agents.head(1))


def _vacuum(lake_dir: Path) -> None:
    """Remove every file no current version needs, at once."""
    for name in versions(lake_dir):
        DeltaTable(str(lake_dir / name)).vacuum(
            retention_hours=0, enforce_retention_duration=False, dry_run=False
        )


def test_in_place_restore_returns_every_table_and_its_snapshot_undoes_it(setup: Path, capsys):
    lake_dir = setup / "lake"
    made = service.create(Lake(lake_dir), "full")
    backed = contents(lake_dir, LOGS_KEPT)
    _change(lake_dir)
    _vacuum(lake_dir)
    changed, before = contents(lake_dir, LOGS_KEPT), versions(lake_dir)
    assert changed != backed
    gone = [
        f.path for f in made.files
        if f.path.startswith("silver/task_events/") and not (lake_dir / f.path).exists()
    ]  # fmt: skip
    assert gone  # the vacuum took files the backup version needs
    capsys.readouterr()

    assert main(["backup", "restore", "--in-place"]) == 0
    out = capsys.readouterr().out
    snapshot = f"before-restore-{made.id}"
    assert f"seneca snapshot restore {snapshot}" in out
    assert contents(lake_dir, LOGS_KEPT) == backed
    after = versions(lake_dir)
    assert after["bronze/events"] == before["bronze/events"]  # already as backed up: left alone
    assert "bronze/events" in out.split("already as in the backup:")[1]
    for name in ("silver/messages", "silver/task_events", "silver/agents"):
        assert after[name] == before[name] + 1, name  # one new version each, history kept
        assert len(DeltaTable(str(lake_dir / name)).history()) == after[name] + 1
    assert all((lake_dir / path).exists() for path in gone)
    assert snapshots.versions(Lake(lake_dir), snapshot) == before

    assert main(["snapshot", "restore", snapshot]) == 0
    assert contents(lake_dir, LOGS_KEPT) == changed  # the newer rows are back


def test_a_second_in_place_restore_changes_nothing_and_names_its_own_snapshot(setup: Path, capsys):
    lake_dir = setup / "lake"
    made = service.create(Lake(lake_dir), "full")
    _change(lake_dir)
    first = service.restore_in_place(Lake(lake_dir))
    again = service.restore_in_place(Lake(lake_dir), made.id)
    assert first.snapshot == f"before-restore-{made.id}"
    assert again.snapshot == f"before-restore-{made.id}-2"
    assert again.restored == {} and set(again.unchanged) == set(made.versions) - LOGS_KEPT


def test_a_wrong_key_or_a_backup_that_does_not_verify_restores_nothing(
    setup: Path, monkeypatch, capsys
):
    lake_dir = setup / "lake"
    made = service.create(Lake(lake_dir), "full")
    _change(lake_dir)
    changed, before = contents(lake_dir), versions(lake_dir)
    monkeypatch.setenv("SENECA_BACKUP_KEY", "not the key")
    assert main(["backup", "restore", "--in-place"]) == 2
    assert "does not open the backups" in capsys.readouterr().err
    monkeypatch.setenv("SENECA_BACKUP_KEY", "correct horse battery staple")
    data = next(f for f in made.files if f.path.startswith("silver/messages/part-"))
    (setup / "backups" / "blobs" / data.sha256[:2] / data.sha256).unlink()
    assert main(["backup", "restore", "--in-place"]) == 2
    assert "does not verify" in capsys.readouterr().err
    assert contents(lake_dir) == changed and versions(lake_dir) == before
    assert snapshots.versions(Lake(lake_dir), f"before-restore-{made.id}") is None


def test_a_table_whose_log_no_longer_reads_the_backup_version_gets_its_rows(setup: Path):
    lake_dir = setup / "lake"
    made = service.create(Lake(lake_dir), "full")
    backed = contents(lake_dir, LOGS_KEPT)
    decisions = frame_of(lake_dir, "silver/decisions")
    Lake(lake_dir).write(
        SPECS["silver/decisions"], decisions.with_columns(pl.col("decision_id") + "x")
    )
    table = DeltaTable(str(lake_dir / "silver" / "decisions"))
    table.create_checkpoint()
    log = lake_dir / "silver" / "decisions" / "_delta_log"
    for commit in sorted(log.glob("*.json"))[:-1]:  # what log cleanup does past its retention
        commit.unlink()
    _vacuum(lake_dir)
    done = service.restore_in_place(Lake(lake_dir), made.id)
    assert set(done.restored) == {"silver/decisions"}
    assert contents(lake_dir, LOGS_KEPT) == backed
