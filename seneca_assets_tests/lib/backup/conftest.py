"""Backup tests: a copy of the simulated lake, with backup, restore and lake roots of its own."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.conftest import copy_tree
from seneca_assets_tests.lib.query.conftest import built_lake  # noqa: F401

KEY = "correct horse battery staple"


@pytest.fixture
def setup(built_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """A copy of the simulated lake, and backup and restore roots of its own (no off-site)."""
    copy_tree(built_lake / "lake", tmp_path / "lake")
    monkeypatch.setenv("SENECA_BACKUP_KEY", KEY)
    monkeypatch.setenv("SENECA_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("SENECA_RESTORE_DIR", str(tmp_path / "restores"))
    monkeypatch.setenv("SENECA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.delenv("SENECA_OFFSITE_URL", raising=False)
    return tmp_path


def rows(lake_dir: Path) -> dict[str, int]:
    """Each table's row count."""
    lake = Lake(lake_dir)
    return {t.name: lake.read(t).height for t in TABLES if lake.exists(t)}


def contents(lake_dir: Path, skip: frozenset[str] = frozenset()) -> dict[str, list[int]]:
    """Each table's rows, as the sorted hashes of every row: equal when the rows are."""
    lake = Lake(lake_dir)
    return {
        t.name: sorted(lake.read(t).hash_rows(seed=1).to_list())
        for t in TABLES
        if lake.exists(t) and t.name not in skip
    }


def versions(lake_dir: Path) -> dict[str, int]:
    """Each table's current Delta version."""
    lake = Lake(lake_dir)
    return {t.name: lake.table(t).version() for t in TABLES if lake.exists(t)}


def frame_of(lake_dir: Path, name: str) -> pl.DataFrame:
    """One table's rows."""
    spec = next(t for t in TABLES if t.name == name)
    return Lake(lake_dir).read(spec)
