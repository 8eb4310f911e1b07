"""Maintenance compacts small files and vacuums without taking a file a snapshot needs; a
table, or the whole lake, is restored to a snapshot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from seneca_assets.lib import snapshots
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.maintenance import SMALL_FILES, maintain
from seneca_assets.lib.model.tables import METRICS
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


def _grow(lake: Lake, commits: int) -> None:
    """`commits` small appends of copies of ten metric points, each under new ids."""
    sample = lake.read(METRICS).head(10)
    for k in range(commits):
        copies = sample.with_columns(
            metric_id=pl.col("metric_id").str.slice(0, 28) + pl.lit(f"{k:04x}")
        )
        lake.write(METRICS, copies)


def test_vacuum_keeps_what_a_snapshot_needs_and_restore_returns_to_it(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    before = lake.read(METRICS)
    taken = snapshots.take(lake, "before-growth")
    _grow(lake, SMALL_FILES + 2)
    done = {m.table: m for m in maintain(lake, retention=timedelta(0))}
    metrics = done[METRICS.name]
    assert metrics.small_files >= SMALL_FILES and metrics.compacted > 0 and metrics.vacuumed > 0
    # The snapshot's version is still readable after the vacuum removed the compacted files.
    old = DeltaTable(lake.uri(METRICS), version=taken[METRICS.name]).to_pyarrow_table()
    assert old.num_rows == before.height
    restored = snapshots.restore(lake, "before-growth", [METRICS.name])
    assert restored[METRICS.name][1] == taken[METRICS.name]
    now = lake.read(METRICS)
    assert now.height == before.height
    assert set(now.get_column("metric_id")) == set(before.get_column("metric_id"))
    # Restoring again changes nothing; the whole lake restores too.
    assert snapshots.restore(lake, "before-growth", [METRICS.name]) == {}
    assert METRICS.name not in snapshots.restore(lake, "before-growth")


def test_restoring_an_unknown_snapshot_or_table_is_a_clear_error(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    with pytest.raises(ValueError, match="no snapshot named 'nope'"):
        snapshots.restore(lake, "nope")
    snapshots.take(lake, "s")
    with pytest.raises(ValueError, match="holds no table gold/nothing"):
        snapshots.restore(lake, "s", ["gold/nothing"])


def test_seneca_snapshot_takes_lists_and_restores(lake_copy: Path, capsys):  # noqa: F811
    from seneca_assets.cli import main

    folder = str(lake_copy / "lake")
    assert main(["snapshot", "take", "v1", "--lake", folder]) == 0
    lake = Lake(lake_copy / "lake")
    before = lake.read(METRICS).height
    _grow(lake, 2)
    assert main(["snapshot", "list", "--lake", folder, "--json"]) == 0
    assert '"v1"' in capsys.readouterr().out
    assert main(["snapshot", "restore", "v1", "--table", METRICS.name, "--lake", folder]) == 0
    assert "1 table(s) restored" in capsys.readouterr().out
    assert Lake(lake_copy / "lake").read(METRICS).height == before
    assert main(["snapshot", "restore", "missing", "--lake", folder]) == 2
    assert "no snapshot named 'missing'" in capsys.readouterr().err
