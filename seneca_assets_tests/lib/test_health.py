"""Storage health: every measure taken, each judged against the design's range."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.health import measure, status
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query import Lake as QueryLake
from seneca_assets.lib.schemas import STORAGE_HEALTH
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


@pytest.mark.parametrize(
    ("measure_name", "value", "expected"),
    [
        ("monthly_growth", 0.05, "healthy"),
        ("monthly_growth", 0.10, "warning"),
        ("monthly_growth", 0.25, "warning"),
        ("monthly_growth", 0.30, "action"),
        ("query_p95_ms", 99.0, "healthy"),
        ("query_p95_ms", 500.0, "warning"),
        ("query_p95_ms", 1500.0, "action"),
        ("cache_hit_rate", 0.95, "healthy"),
        ("cache_hit_rate", 0.80, "warning"),
        ("cache_hit_rate", 0.50, "action"),
        ("backup_success_rate", 1.0, "healthy"),
        ("backup_success_rate", 0.96, "warning"),
        ("backup_success_rate", 0.90, "action"),
        ("bytes", 10.0, "unranged"),
        ("query_p95_ms", None, "unranged"),
    ],
)
def test_each_measure_is_judged_by_the_design_range(measure_name, value, expected):
    assert status(measure_name, value)[0] == expected


def test_a_check_measures_every_table_queries_and_backups(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    now = datetime.now(UTC)
    log = pl.DataFrame(
        [
            {"backup_id": f"b{k}", "kind": "incremental", "parent": None,
             "created_at": now - timedelta(hours=k), "tables": 1, "files": 1, "bytes": 1,
             "seconds": 0.1, "verified": k != 3, "problems": None,
             "verified_at": now - timedelta(hours=k)}
            for k in range(1, 21)
        ],
        schema=BACKUP_LOG.schema,
    )  # fmt: skip
    lake.write(BACKUP_LOG, log)
    # Queries in this process and in another one report their cache's hits and misses.
    asked = QueryLake(lake.root)
    for _ in range(3):
        asked.sql("SELECT count(*) AS n FROM silver_messages")
    assert asked.cache.traffic is not None
    asked.cache.traffic.flush()
    script = (
        "import sys; from seneca_assets.lib.query import Lake; q = Lake(sys.argv[1]); "
        "[q.sql('SELECT count(*) AS n FROM silver_messages') for _ in range(2)]"
    )
    subprocess.run([sys.executable, "-c", script, str(lake.root)], check=True, timeout=120)
    rows = measure(lake, now)
    STORAGE_HEALTH.model.validate(rows)
    tables = set(rows.filter(pl.col("measure") == "bytes").get_column("subject"))
    assert tables == {t.name for t in TABLES if lake.exists(t)} | {"(lake)"}
    by = {r["measure"]: r for r in rows.filter(pl.col("subject") == "(lake)").iter_rows(named=True)}
    assert by["query_p95_ms"]["value"] >= by["query_p50_ms"]["value"] > 0
    assert by["backup_success_rate"]["value"] == 19 / 20
    assert by["backup_success_rate"]["status"] == "warning"
    assert by["last_verified_restore_age_h"]["value"] == pytest.approx(1.0)
    # 1 miss and 2 hits here, 1 and 1 there; the probe's own queries are not counted.
    assert by["cache_lookups_24h"]["value"] == 5
    assert by["cache_hit_rate"]["value"] == pytest.approx(3 / 5)
    assert by["cache_hit_rate"]["status"] == "action"
