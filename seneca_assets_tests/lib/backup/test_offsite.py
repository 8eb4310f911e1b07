"""Off-site copies at SENECA_OFFSITE_URL: every finished backup is copied there (blobs, manifest,
index, repository.json), listed, verified and restored from the copy alone; a copy interrupted
before its index is never listed and the next backup completes it; retention prunes the copy
like the local folder; an unknown protocol or a missing backend stops a backup with a clear
error that never shows the URL's credentials."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seneca_assets.cli import main
from seneca_assets.lib.backup import offsite, service
from seneca_assets.lib.backup import repository as repo
from seneca_assets.lib.backup.store import hidden, offsite_store, shown
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.backup.conftest import contents


@pytest.fixture
def far(setup: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An off-site folder, reached by a file:// URL."""
    folder = setup / "far away"
    monkeypatch.setenv("SENECA_OFFSITE_URL", f"file://{folder}")
    return folder


def _blobs(root: Path) -> set[str]:
    return {p.name for p in (root / "blobs").glob("*/*")}


def test_every_backup_is_copied_off_site_and_restores_from_there_alone(
    setup: Path, far: Path, capsys
):
    assert main(["backup", "create"]) == 0
    assert f"copied to file://{far}" in capsys.readouterr().out
    assert main(["backup", "create", "--kind", "incremental"]) == 0
    local = repo.listed(setup / "backups")
    assert repo.listed(far).equals(local) and local.height == 2
    assert _blobs(far) == _blobs(setup / "backups")
    assert (far / "repository.json").read_bytes() == (
        setup / "backups/repository.json"
    ).read_bytes()
    capsys.readouterr()
    assert main(["backup", "list", "--offsite", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == local["id"].to_list()
    assert main(["backup", "verify", "--offsite"]) == 0
    assert f"backup {local.item(1, 'id')}:" in capsys.readouterr().out
    # The local repository is lost: the off-site copy alone restores the lake.
    shutil.rmtree(setup / "backups")
    assert main(["backup", "restore", "--offsite", "--to", "rescued"]) == 0
    assert contents(setup / "restores" / "rescued") == contents(setup / "lake")
    assert not (setup / "backups" / "backups").exists()  # nothing was made locally


def test_a_copy_interrupted_before_its_index_is_never_listed_and_the_next_completes_it(
    setup: Path, far: Path, capsys
):
    first = service.create(Lake(setup / "lake"), "full")
    second = service.create(Lake(setup / "lake"), "incremental")
    # What a copy stopped just before its last step leaves: blobs and manifest, no index.
    (far / "backups" / second.id / "index.json").unlink()
    assert repo.listed(far)["id"].to_list() == [first.id]
    capsys.readouterr()
    assert main(["backup", "verify", second.id, "--offsite"]) == 2
    assert "no finished backup" in capsys.readouterr().err
    third = service.create(Lake(setup / "lake"), "incremental")
    assert repo.listed(far)["id"].to_list() == [first.id, second.id, third.id]
    assert service.verify(second.id, use_offsite=True).ok


def test_retention_prunes_the_off_site_copy_too(setup: Path, far: Path):
    lake, root = Lake(setup / "lake"), setup / "backups"
    seal, target = service.sealer(root), service.offsite()
    assert target is not None
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    for days in range(10, 0, -1):  # two a day, over a day old: the older of each goes
        for hours in (6, 1):
            repo.create(lake, root, seal, "incremental", now - timedelta(days=days, hours=hours))
    assert len(offsite.push(root, seal, target)) == 20
    gone, _ = service.prune(root, now)
    assert len(gone) == 10 and repo.listed(far).equals(repo.listed(root))
    assert _blobs(far) == _blobs(root)
    assert service.verify(repo.listed(far).item(0, "id"), use_offsite=True).ok


def test_any_fsspec_url_serves_for_example_memory(setup: Path, monkeypatch, capsys):
    monkeypatch.setenv("SENECA_OFFSITE_URL", f"memory://seneca-{uuid.uuid4().hex}/copies")
    made = service.create(Lake(setup / "lake"), "full")
    assert service.listing(use_offsite=True)["id"].to_list() == [made.id]
    assert service.verify(use_offsite=True).ok


def test_an_unusable_url_stops_the_backup_clearly_without_its_credentials(
    setup: Path, monkeypatch, capsys
):
    monkeypatch.setenv("SENECA_OFFSITE_URL", "nosuch://host/copies")
    assert main(["backup", "create"]) == 2
    assert "'nosuch' is not a protocol fsspec knows" in capsys.readouterr().err
    secret = "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/seneca?token=t0ps3cret"
    monkeypatch.setenv("SENECA_OFFSITE_URL", secret)
    assert main(["backup", "create"]) == 2
    err = capsys.readouterr().err
    assert "credentials in the URL are not accepted" in err
    assert "AKIAEXAMPLE" not in err and "wJalrXUtnFEMI" not in err and "t0ps3cret" not in err
    assert "s3://bucket/seneca" in err
    monkeypatch.setenv("SENECA_OFFSITE_URL", "gcs://bucket/seneca")  # gcsfs is not installed
    assert main(["backup", "create"]) == 2
    err = capsys.readouterr().err
    assert "'gcs' protocol needs a package that is not installed" in err
    assert repo.listed(setup / "backups").is_empty()  # no backup was made
    assert shown("s3://user:pw@bucket:9000/p?x=1#f") == "s3://bucket:9000/p"
    said = hidden(f"denied: {secret}, key AKIAEXAMPLE, token=t0ps3cret", secret)
    assert said == "denied: s3://bucket/seneca, key ***, ***"
    monkeypatch.delenv("SENECA_OFFSITE_URL")
    assert main(["backup", "list", "--offsite"]) == 2
    assert "SENECA_OFFSITE_URL" in capsys.readouterr().err
    assert offsite_store("file:///tmp").label == "file:///tmp"
