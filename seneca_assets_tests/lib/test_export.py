"""Exports: every format with a manifest that proves the file, time ranges, incremental exports
of only what changed, and output paths confined to the export root."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.export import ExportPathError, export
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import CONVERSATIONS, MESSAGES
from seneca_assets.lib.query import BadTimeRange, QueryError, UnknownName
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


@pytest.fixture
def lake(lake_copy: Path) -> Lake:  # noqa: F811
    return Lake(lake_copy / "lake")


def _read(path: Path, fmt: str) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "jsonl":
        return pl.read_ndjson(path)
    return pl.read_csv(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_whole_table_in_each_format_with_its_manifest(lake: Lake, tmp_path: Path, fmt: str):
    root = tmp_path / "exports"
    manifest = export(lake.root, "silver/messages", fmt, "all", root=root)
    path = root / "all" / manifest.file
    table = lake.read(MESSAGES)
    assert manifest.rows == table.height == _read(path, fmt).height
    assert manifest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest.bytes == path.stat().st_size
    assert [c["name"] for c in manifest.schema] == table.columns
    on_disk = json.loads((root / "all" / f"{manifest.file}.manifest.json").read_text())
    assert (
        on_disk["sha256"] == manifest.sha256 and on_disk["delta_version"] == manifest.delta_version
    )
    if fmt == "parquet":
        assert _read(path, fmt).sort("message_id").equals(table.sort("message_id"))


def test_nested_columns_become_json_text_in_csv(lake: Lake, tmp_path: Path):
    manifest = export(lake.root, "silver_conversations", "csv", "c", root=tmp_path)
    rows = pl.read_csv(tmp_path / "c" / manifest.file)
    first = json.loads(rows.item(0, "messages"))
    assert isinstance(first, list) and "text" in first[0]
    assert rows.height == lake.read(CONVERSATIONS).height


def test_a_time_range_exports_only_its_rows(lake: Lake, tmp_path: Path):
    manifest = export(
        lake.root, "silver/messages", "parquet", "range", root=tmp_path,
        since="2026-11-02", until="2026-11-03",
    )  # fmt: skip
    times = pl.read_parquet(tmp_path / "range" / manifest.file).get_column("event_time")
    expected = lake.read(MESSAGES).filter(
        pl.col("event_time").dt.date().cast(pl.String) == "2026-11-02"
    )
    assert manifest.rows == expected.height == times.len() > 0
    assert manifest.since == "2026-11-02T00:00:00+00:00"


def test_incremental_exports_carry_only_what_changed(lake: Lake, tmp_path: Path):
    first = export(lake.root, "silver/messages", "jsonl", "feed", root=tmp_path, incremental=True)
    assert first.from_version is None and first.rows == lake.read(MESSAGES).height
    newer = (
        lake.read(MESSAGES)
        .head(3)
        .with_columns(
            message_id=pl.col("message_id").str.replace(r"^.", "f"),
            ingest_batch=pl.col("ingest_batch").max() + 1,
        )
    )
    lake.write(MESSAGES, newer)
    second = export(lake.root, "silver/messages", "jsonl", "feed", root=tmp_path, incremental=True)
    assert (second.from_version, second.rows) == (first.delta_version, 3)
    got = pl.read_ndjson(tmp_path / "feed" / second.file).get_column("message_id").sort()
    assert got.to_list() == newer.get_column("message_id").sort().to_list()
    third = export(lake.root, "silver/messages", "jsonl", "feed", root=tmp_path, incremental=True)
    assert third.rows == 0 and third.files_removed_since == 0
    lake.delete(MESSAGES, f"message_id = '{newer.item(0, 'message_id')}'")
    fourth = export(lake.root, "silver/messages", "jsonl", "feed", root=tmp_path, incremental=True)
    assert fourth.files_removed_since > 0, "the manifest says rows were rewritten or deleted"
    elsewhere = export(
        lake.root, "silver/messages", "jsonl", "other", root=tmp_path, incremental=True
    )
    assert elsewhere.from_version is None, "each folder keeps its own state"


@pytest.mark.parametrize("out", ["../outside", "/etc", "a/../../outside", "link/escape"])
def test_paths_outside_the_export_root_are_refused(lake: Lake, tmp_path: Path, out: str):
    root = tmp_path / "exports"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(ExportPathError, match="outside the export root"):
        export(lake.root, "silver/messages", "csv", out, root=root)
    written = [p for p in tmp_path.rglob("*.csv")]
    assert written == [], "nothing is written anywhere"


def test_bad_requests_say_what_to_do(lake: Lake, tmp_path: Path):
    with pytest.raises(UnknownName, match="no table 'silver/mesages'"):
        export(lake.root, "silver/mesages", "csv", "x", root=tmp_path)
    with pytest.raises(QueryError, match="unknown format 'xlsx'"):
        export(lake.root, "silver/messages", "xlsx", "x", root=tmp_path)
    with pytest.raises(BadTimeRange, match="before or when it starts"):
        export(
            lake.root,
            "silver/messages",
            "csv",
            "x",
            root=tmp_path,
            since="2026-11-03",
            until="2026-11-01",
        )
    with pytest.raises(QueryError, match="no time column"):
        export(lake.root, "bronze/ingest_files", "csv", "x", root=tmp_path, since="2026-11-01")


def test_the_export_command(lake: Lake, tmp_path: Path):
    env = os.environ | {"SENECA_EXPORT_DIR": str(tmp_path / "exports"), "DAGSTER_HOME": ""}
    command = [sys.executable, "-m", "seneca_assets.cli", "export", "--lake", str(lake.root)]
    done = subprocess.run(
        [*command, "silver/tasks", "--format", "parquet", "--out", "nightly", "--json"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert (tmp_path / "exports" / "nightly" / manifest["file"]).exists()
    refused = subprocess.run(
        [*command, "silver/tasks", "--format", "csv", "--out", "../../tmp"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "outside the export root" in refused.stderr
