"""Concurrent rollup builds into one table lose no commit and duplicate no row.

Several processes (spawned: delta-rs must not run in a forked child) build the hourly rollups of
disjoint ranges of the same two tables at once, as the chunks of a parallel backfill do. Each
waits at a barrier just before its first commit, so that all of them write against the same
table version. The tables must come out as one sequential build of the whole range makes them:
first into empty tables (delta-rs's conflict check lets the disjoint overwrites commit one after
the other), then over a build of the whole range, whose files hold every hour, so that every
writer rewrites the same files: all but one lose the race, and `Lake.write` writes them again
against the new version. And writers that create the same table at once make one creation
(version 0), not one commit each or a failure. On a folder, and on SeaweedFS S3.
"""

from __future__ import annotations

import multiprocessing
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seneca_assets.lib.gold_tables import GOLD_TABLES, TIERS
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.rollup_build import build_range
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.storage import Location
from seneca_assets_tests.conftest import SILVER_START
from seneca_assets_tests.seaweed import s3_env, s3_lake, seaweed_server  # noqa: F401

START = SILVER_START
HOURS = 48
WRITERS = 4
CREATORS = 8
KEYS = {"gold/metrics_hourly": ["bucket", "name", "tags"], "gold/activity_hourly": None}
"""The columns that identify a row (all of them for the activity tables)."""


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.slow)])
def where(request: pytest.FixtureRequest, silver_lake: Path, tmp_path: Path) -> str:
    """A copy of the silver lake, in a folder or under a fresh prefix on the S3 server."""
    if request.param == "folder":
        shutil.copytree(silver_lake, tmp_path / "lake")
        return str(tmp_path / "lake")
    url: str = request.getfixturevalue("s3_lake")
    _upload(silver_lake, url)
    return url


def _upload(folder: Path, url: str) -> None:
    """Copy a local lake to an object store, file by file (a Delta table's paths are relative)."""
    import obstore

    store = Location.of(url).store
    for path in folder.rglob("*"):
        if path.is_file() and "_seneca" not in path.parts:
            obstore.put(store, path.relative_to(folder).as_posix(), path.read_bytes())


def _build(where: str, start: datetime, end: datetime, barrier: Any) -> int:
    """One writer process: the hourly rollups of [start, end), racing to its first commit.

    Returns how many writes it attempted (its commits, plus one for every race it lost).
    """
    import seneca_assets.lib.lake as lake_module

    real = lake_module.write_deltalake
    attempts = 0

    def racing(*args: Any, **kwargs: Any) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            barrier.wait(timeout=120)  # every writer has read the same version by now
        real(*args, **kwargs)

    lake_module.write_deltalake = racing  # type: ignore[assignment]
    build_range(Lake(where), "hourly", start, end)
    return attempts


def _create(where: str, barrier: Any) -> list[int]:
    """One writer process: open every rollup table (creating it) at once with the others."""
    lake = Lake(where)
    barrier.wait(timeout=120)
    return [lake.table(table).version() for table in GOLD_TABLES]


def test_writers_creating_the_same_tables_at_once_make_one_creation_each(where: str):
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(CREATORS)
        with context.Pool(CREATORS) as pool:
            seen = pool.starmap(_create, [(where, barrier)] * CREATORS)
    assert seen == [[0] * len(GOLD_TABLES)] * CREATORS, "each found the table at version 0"
    lake = Lake(where)
    assert [lake.table(table).version() for table in GOLD_TABLES] == [0] * len(GOLD_TABLES)


def _concurrently(where: str) -> int:
    """Build WRITERS disjoint slices of the range at once, each in its own process."""
    step = timedelta(hours=HOURS // WRITERS)
    slices = [(START + i * step, START + (i + 1) * step) for i in range(WRITERS)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(WRITERS)
        with context.Pool(WRITERS) as pool:
            attempts = pool.starmap(_build, [(where, a, b, barrier) for a, b in slices])
    return sum(attempts)


def _rows(lake: Lake, table: TableSpec) -> pl.DataFrame:
    rows = lake.read(table)
    key = KEYS[table.name] or rows.columns
    assert rows.select(key).is_unique().all(), f"a row of {table.name} is there twice"
    return rows.sort(key)


def _versions(lake: Lake) -> list[int]:
    return [lake.table(table).version() for table in TIERS["hourly"]]


def test_concurrent_builds_of_one_grain_equal_a_sequential_build(where: str):
    tables = TIERS["hourly"]
    _concurrently(where)  # into empty tables: delta-rs sees the ranges are disjoint
    lake = Lake(where)
    built = [_rows(lake, table) for table in tables]
    assert all(rows.height > 0 for rows in built)
    created = _versions(lake)
    assert created == [WRITERS, WRITERS], "created at version 0, then one commit per writer"

    build_range(Lake(where), "hourly", START, START + timedelta(hours=HOURS))
    lake = Lake(where)
    sequential = [_rows(lake, table) for table in tables]
    assert _versions(lake) == [v + 1 for v in created]
    for table, ours, theirs in zip(tables, built, sequential, strict=True):
        assert ours.equals(theirs), f"{table.name}: concurrent first build != sequential build"

    # The sequential build wrote every hour into the same files: each writer now rewrites them.
    attempts = _concurrently(where)
    assert attempts >= 2 * WRITERS + WRITERS - 1, "every writer but one lost a race and wrote again"
    lake = Lake(where)
    assert _versions(lake) == [v + 1 + WRITERS for v in created], "one commit per writer, none lost"
    rebuilt = [_rows(lake, table) for table in tables]
    for table, ours, theirs in zip(tables, sequential, rebuilt, strict=True):
        assert theirs.equals(ours), f"{table.name}: concurrent rebuild lost or duplicated rows"
