"""The lake on a real S3-compatible server (SeaweedFS on loopback) behaves as on a local folder.

The same logs go through ingestion (twice: exactly once), the silver build, every rollup tier,
retention, the query API, full-text search and SQL, on a local folder and on `s3://`, and every
table comes out with the same rows. The lake's locks are lease objects on the store; concurrent
writers to one table lose no commit and duplicate no row; unsafe rename and bad credentials are
refused with clear errors.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib import storage
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.config import ConfigurationError, IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake, LockTimeoutError
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.query import Lake as QueryLake
from seneca_assets.lib.retention import apply as apply_retention
from seneca_assets.lib.rollup_build import build_range, stale_hours
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.search import index as full_text
from seneca_assets.lib.search.query import search
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.seaweed import BUCKET

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=2)
BOOKKEEPING = ("ingested_at", "updated_at", "computed_at", "at", "built_at", "checked_at")
"""Columns that say when a row was written, not what it holds."""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("s3logs")
    simulate_deployment(folder, days=2, agents=3, seed=5)
    return folder


def _pipeline(logs: Path, where: str) -> Lake:
    """Everything a deployment does to its lake, in order."""
    settings = IngestSettings(log_dir=logs, lake_dir=where, tail_grace_s=0)
    first = ingest(settings)
    again = ingest(settings)
    assert first.events_stored > 0 and again.events_stored == 0, "exactly once, anywhere"
    lake = Lake(where)
    build_silver(lake)
    for grain in ("hourly", "daily", "monthly"):
        build_range(lake, grain, START, START + timedelta(days=30))
    apply_retention(lake, END + timedelta(days=8))  # debug events go after 7 days
    full_text.update(lake)
    return lake


def _content(lake: Lake, spec: TableSpec) -> pl.DataFrame:
    rows = lake.read(spec)
    kept = [c for c, t in rows.schema.items() if c not in BOOKKEEPING and t != pl.Object]
    rows = rows.select(kept)
    hashable = [c for c, t in rows.schema.items() if not isinstance(t, pl.List | pl.Struct)]
    return rows.sort(hashable) if hashable else rows


def test_the_same_pipeline_gives_the_same_tables_on_a_folder_and_on_s3(
    logs: Path, tmp_path: Path, s3_lake: str
):
    local = _pipeline(logs, str(tmp_path / "lake"))
    remote = _pipeline(logs, s3_lake)
    assert remote.remote and remote.uri(TABLES[0]).startswith(f"s3://{BUCKET}/")
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*.parquet"))
    compared = 0
    for spec in TABLES:
        if spec.name.startswith("ops/") or not local.exists(spec):
            continue
        assert remote.exists(spec), spec.name
        ours, theirs = _content(local, spec), _content(remote, spec)
        assert ours.height == theirs.height, spec.name
        if "batch" not in " ".join(ours.columns):
            assert ours.equals(theirs), spec.name
        compared += 1
    assert compared >= 15
    assert stale_hours(remote, END) == []
    # Queries, SQL and full-text search read the remote lake like the local one.
    count = "SELECT kind, count(*) AS n FROM silver_messages GROUP BY kind ORDER BY kind"
    assert QueryLake(s3_lake).sql(count).equals(QueryLake(local.location).sql(count))
    word = "progress"
    there = search(remote.root, word, limit=20).get_column("id").sort()
    here = search(local.root, word, limit=20).get_column("id").sort()
    assert there.len() > 0 and there.equals(here)


def test_lease_locks_exclude_each_other_and_an_expired_one_is_taken_over(
    s3_lake: str, monkeypatch: pytest.MonkeyPatch
):
    lake = Lake(s3_lake)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with lake.lock("writer"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    with pytest.raises(LockTimeoutError, match="writer lock"), Lake(s3_lake).lock("writer", 1):
        pass
    release.set()
    thread.join()
    with Lake(s3_lake).lock("writer", timeout_s=5):  # released: taken at once
        pass
    # A holder that died leaves its lease; once it expires, the next writer takes it over.
    import obstore

    dead = b'{"owner": "crashed", "expires": %f}' % (time.time() - 1)
    obstore.put(lake.place.store, "_seneca/locks/writer.lock", dead)
    with Lake(s3_lake).lock("writer", timeout_s=5):
        found = obstore.get(lake.place.store, "_seneca/locks/writer.lock").bytes()
        assert b"crashed" not in bytes(found)


def _append(where: str, writer: int, commits: int) -> int:
    """One writer process: `commits` appends of one row each to the same table."""
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.retention_log import RETENTION_LOG

    lake = Lake(where)
    for n in range(commits):
        row = {"table": f"w{writer}", "predicate": str(n), "rows": n, "version_before": 0,
               "version_after": 0, "boundary": START, "at": START, "reason": "race"}  # fmt: skip
        lake.write(RETENTION_LOG, pl.DataFrame([row], schema=RETENTION_LOG.schema))
    return commits


def test_concurrent_writers_to_one_table_lose_no_commit_and_duplicate_no_row(s3_lake: str):
    from seneca_assets.lib.retention_log import RETENTION_LOG

    lake = Lake(s3_lake)
    lake.table(RETENTION_LOG)  # created once, before the writers race
    writers, commits = 6, 8
    context = multiprocessing.get_context("spawn")  # delta-rs must not run in a forked child
    with context.Pool(writers) as pool:
        done = sum(pool.starmap(_append, [(s3_lake, w, commits) for w in range(writers)]))
    rows = Lake(s3_lake).read(RETENTION_LOG)
    assert done == writers * commits == rows.height
    assert rows.unique(["table", "predicate"]).height == rows.height, "no row twice"
    assert Lake(s3_lake).table(RETENTION_LOG).version() == writers * commits, "no commit lost"


def test_unsafe_rename_and_bad_credentials_are_refused_clearly(
    s3_lake: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(storage.UNSAFE_RENAME, "true")
    with pytest.raises(ConfigurationError, match="lose commits"):
        Lake(s3_lake).ensure_writable()
    monkeypatch.delenv(storage.UNSAFE_RENAME)
    Lake(s3_lake).ensure_writable()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-at-all")
    with pytest.raises(ConfigurationError, match="cannot be written") as refused:
        Lake(s3_lake).ensure_writable()
    assert "not-the-secret-at-all" not in str(refused.value)
    with pytest.raises(ConfigurationError, match="not ftp://"):
        Lake("ftp://example.org/lake")


def test_a_remote_lake_backs_up_verifies_and_restores_into_a_folder(
    logs: Path, s3_lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from seneca_assets.lib.backup import service
    from seneca_assets.lib.backup.seal import BackupError

    settings = IngestSettings(log_dir=logs, lake_dir=s3_lake, tail_grace_s=0)
    ingest(settings)
    lake = Lake(s3_lake)
    build_silver(lake)
    monkeypatch.setenv("SENECA_BACKUP_KEY", "a passphrase for the test")
    monkeypatch.setenv("SENECA_RESTORE_DIR", str(tmp_path / "restores"))
    backups = tmp_path / "backups"
    full = service.create(lake, "full", backups)
    assert service.verify(full.id, backups).ok
    # A second backup after more rows takes only the new files.
    build_range(lake, "hourly", START, END)
    more = service.create(Lake(s3_lake), "incremental", backups)
    assert len(more.files) > len(full.files) and service.verify(more.id, backups).ok
    target, checked = service.restore("copy", more.id, root=backups)
    assert checked.ok
    restored = Lake(target)
    for spec in TABLES:
        if lake.exists(spec) and not spec.name.startswith("ops/"):
            assert _content(restored, spec).equals(_content(lake, spec)), spec.name
    # In place: rows deleted and files vacuumed since the backup come back, as new versions.
    from seneca_assets.lib.maintenance import maintain
    from seneca_assets.lib.model.tables import MESSAGES

    live = Lake(s3_lake)
    expected = _content(live, MESSAGES)
    live.delete(MESSAGES, "kind = 'pm_thinking'")
    maintain(live, retention=timedelta(0))  # the deleted rows' files are vacuumed
    assert _content(Lake(s3_lake), MESSAGES).height < expected.height
    done = service.restore_in_place(Lake(s3_lake), more.id, backups)
    assert MESSAGES.name in done.restored
    assert _content(Lake(s3_lake), MESSAGES).equals(expected)
    monkeypatch.setenv("SENECA_BACKUP_KEY", "not the passphrase")
    with pytest.raises(BackupError, match="does not open the backups"):
        service.restore_in_place(Lake(s3_lake), more.id, backups)


def test_the_command_line_works_on_an_s3_lake_with_nothing_but_the_aws_variables(
    logs: Path, s3_lake: str
):
    import json
    import os
    import subprocess
    import sys

    def seneca(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "seneca_assets.cli", *args, "--lake", s3_lake],
            capture_output=True, text=True, env=os.environ | {"DAGSTER_HOME": ""}, timeout=300,
            check=False,
        )  # fmt: skip

    stored = seneca("ingest", "--logs", str(logs))
    assert stored.returncode == 0, stored.stderr
    catalogue = seneca("tables", "--json")
    assert catalogue.returncode == 0, catalogue.stderr
    rows = {row["table"]: row for row in json.loads(catalogue.stdout)}
    assert rows["bronze/events"]["rows"] > 0
    counted = seneca("sql", "SELECT count(*) AS n FROM bronze_events", "--json")
    assert json.loads(counted.stdout) == [{"n": rows["bronze/events"]["rows"]}]


def test_backups_are_copied_off_site_to_s3_and_verify_from_there(
    logs: Path, tmp_path: Path, s3_lake: str, monkeypatch: pytest.MonkeyPatch
):
    import shutil

    from seneca_assets.lib.backup import service

    lake = _pipeline_bronze(logs, str(tmp_path / "lake"))
    offsite = s3_lake.rsplit("/", 1)[0] + "/offsite"
    monkeypatch.setenv("SENECA_BACKUP_KEY", "a passphrase for the test")
    monkeypatch.setenv("SENECA_OFFSITE_URL", offsite)
    backups = tmp_path / "backups"
    made = service.create(lake, "full", backups)
    there = service.listing(use_offsite=True, root=backups)
    assert there.get_column("id").to_list() == [made.id]
    shutil.rmtree(backups / "blobs")  # the local copy is lost: the off-site one still verifies
    assert not service.verify(made.id, backups).ok
    assert service.verify(made.id, backups, use_offsite=True).ok


def _pipeline_bronze(logs: Path, where: str) -> Lake:
    ingest(IngestSettings(log_dir=logs, lake_dir=where, tail_grace_s=0))
    return Lake(where)
