"""The parallel rollup backfill: chunks of a range of partitions built on several processes.

The job runs for real, on an instance with the embedded `dagster.yaml`'s pool settings, over two
days of hourly partitions: with 1 process (every step in the run's process), with 2 processes
(the multiprocess executor: steps in spawned processes) and the gold pool raised to 2, and with 2
processes and the pool left at 1. Every way gives the same tables, records every partition as
materialized and passes the grain's check; the pool at 1 runs the chunks one after the other.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import yaml

from seneca_assets.defs.rollups.assets import CHECKS, GOLD_POOL
from seneca_assets.defs.rollups.backfill import (
    PROCESSES_VARIABLE,
    partition_chunks,
    processes_from_env,
    run_config,
)
from seneca_assets.defs.tables import table_key
from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.conftest import SILVER_START

ROOT = Path(__file__).resolve().parents[3]
START = SILVER_START
FIRST, LAST = "2026-11-01-00:00", "2026-11-02-23:00"
HOURS = 48


def backfill_job() -> dg.JobDefinition:
    """The job as the code location defines it, with its resources (rebuilt in each step)."""
    from seneca_assets.definitions import defs

    return defs().resolve_job_def("rollups_backfill")


def _backfill(
    lake: Path, processes: int, pool_limit: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Run the hourly backfill of FIRST..LAST on `lake`; what its steps and the instance say."""
    monkeypatch.setenv("SENECA_LAKE_DIR", str(lake))  # inherited by the step processes
    embedded = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    with dg.instance_for_test(overrides={"concurrency": embedded["concurrency"]}) as instance:
        if pool_limit != embedded["concurrency"]["pools"]["default_limit"]:
            instance.event_log_storage.set_concurrency_slots(GOLD_POOL, pool_limit)
        with dg.execute_job(
            dg.reconstructable(backfill_job),
            instance=instance,
            run_config=run_config("hourly", FIRST, LAST, processes),
        ) as result:
            assert result.success
            steps: dict[str, dict[str, Any]] = {}
            for record in instance.all_logs(result.run_id):
                event = record.dagster_event
                if event and event.step_key and event.step_key.startswith("rollup_chunk["):
                    step = steps.setdefault(event.step_key, {})
                    step[event.event_type_value] = record.timestamp
                    if event.event_type_value == "STEP_START":
                        step["pid"] = event.pid
            checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
            return {
                "steps": steps,
                "checks": checks,
                "materialized": {
                    table.name: instance.get_materialized_partitions(table_key(table))
                    for table in TIERS["hourly"]
                },
            }


def _tables(lake: Path) -> list[pl.DataFrame]:
    return [Lake(lake).read(t).sort(t.schema.names()[:3]) for t in TIERS["hourly"]]


@pytest.mark.slow
def test_a_backfill_on_two_processes_builds_the_same_tables_as_on_one(
    silver_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    lakes = {name: tmp_path / name for name in ("one", "two", "two_pool_one")}
    for lake in lakes.values():
        shutil.copytree(silver_lake, lake)
    one = _backfill(lakes["one"], processes=1, pool_limit=1, monkeypatch=monkeypatch)
    two = _backfill(lakes["two"], processes=2, pool_limit=2, monkeypatch=monkeypatch)
    serial = _backfill(lakes["two_pool_one"], processes=2, pool_limit=1, monkeypatch=monkeypatch)

    reference = _tables(lakes["one"])
    assert all(rows.height > 0 for rows in reference)
    for name in ("two", "two_pool_one"):
        tables = zip(TIERS["hourly"], reference, _tables(lakes[name]), strict=True)
        for table, ours, theirs in tables:
            assert theirs.equals(ours), f"{table.name} on {name} differs from one process"
    hours = {(START + timedelta(hours=h)).strftime("%Y-%m-%d-%H:%M") for h in range(HOURS)}
    for run in (one, two, serial):
        assert run["checks"] == {CHECKS["hourly"]: True}
        assert all(keys == hours for keys in run["materialized"].values())

    assert len(one["steps"]) == 1, "one process: one chunk"
    assert one["steps"]["rollup_chunk[chunk_000]"]["pid"] == os.getpid(), "in the run's process"
    assert len(two["steps"]) == len(serial["steps"]) == 2, "two processes: two chunks"
    pids = {step["pid"] for step in two["steps"].values()}
    assert len(pids) == 2 and os.getpid() not in pids, "each chunk in a process of its own"
    first, second = sorted(serial["steps"].values(), key=lambda step: step["STEP_START"])
    assert first["STEP_SUCCESS"] <= second["STEP_START"], "the pool at 1 ran the chunks in turn"


def test_a_range_is_cut_into_even_consecutive_chunks():
    cut = partition_chunks("daily", "2026-11-01", "2026-11-30", 4)
    assert [len(keys) for keys in cut] == [8, 8, 7, 7]
    assert [k for keys in cut for k in keys][::29] == ["2026-11-01", "2026-11-30"]
    assert partition_chunks("daily", "2026-11-01", "2026-11-02", 4) == [
        ["2026-11-01"],
        ["2026-11-02"],
    ]
    assert len(partition_chunks("hourly", FIRST, LAST, 1)) == 1
    with pytest.raises(ConfigurationError, match="grain 'weekly'"):
        partition_chunks("weekly", "2026-11-01", "2026-11-02", 2)


def test_the_process_count_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(PROCESSES_VARIABLE, raising=False)
    assert processes_from_env() == 1
    monkeypatch.setenv(PROCESSES_VARIABLE, "4")
    assert processes_from_env() == 4
    for wrong in ("0", "two", "-1", "1000"):
        monkeypatch.setenv(PROCESSES_VARIABLE, wrong)
        with pytest.raises(ConfigurationError, match=PROCESSES_VARIABLE):
            processes_from_env()
