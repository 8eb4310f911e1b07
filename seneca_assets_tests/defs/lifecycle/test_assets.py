"""The backup asset makes, verifies and logs a backup; its schedules skip without a key."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from seneca_assets.defs.lifecycle.assets import (
    backup_differential_daily,
    backup_full_weekly,
    backup_incremental_hourly,
    backups,
)
from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.lake import Lake
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


def test_a_scheduled_backup_is_made_verified_and_logged(
    lake_copy: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SENECA_BACKUP_KEY", "a passphrase")
    monkeypatch.setenv("SENECA_BACKUP_DIR", str(lake_copy / "backups"))
    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    for kind in ("full", "incremental"):
        config = dg.RunConfig(ops={"backups": {"config": {"kind": kind}}})
        result = dg.materialize([backups], resources={"lake": resource}, run_config=config)
        assert result.success
    log = Lake(lake_copy / "lake").read(BACKUP_LOG).sort("created_at")
    assert log.get_column("kind").to_list() == ["full", "incremental"]
    assert log.get_column("verified").all() and log.item(1, "parent") == log.item(0, "backup_id")
    (materialization,) = result.asset_materializations_for_node("backups")
    assert "2 of 2 logged backups verified" in materialization.metadata["summary"].value


def test_the_schedules_ask_for_their_kind_and_skip_without_a_key(monkeypatch):
    monkeypatch.setenv("SENECA_BACKUP_KEY", "a passphrase")
    for schedule, kind in (
        (backup_full_weekly, "full"),
        (backup_differential_daily, "differential"),
        (backup_incremental_hourly, "incremental"),
    ):
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        (request,) = schedule.evaluate_tick(dg.build_schedule_context()).run_requests
        assert request.run_config["ops"]["backups"]["config"]["kind"] == kind
    monkeypatch.delenv("SENECA_BACKUP_KEY")
    skipped = backup_incremental_hourly.evaluate_tick(dg.build_schedule_context())
    assert not skipped.run_requests and "SENECA_BACKUP_KEY" in skipped.skip_message


def test_the_audit_chain_asset_checks_the_chain_and_backups_record_its_head(
    lake_copy: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    from seneca_assets.defs.lifecycle.assets import audit_chain
    from seneca_assets.lib.audit_chain import head
    from seneca_assets.lib.backup import repository, service

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([audit_chain], resources={"lake": resource})
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.check_name == "chain_intact"
    monkeypatch.setenv("SENECA_BACKUP_KEY", "a passphrase")
    monkeypatch.setenv("SENECA_BACKUP_DIR", str(lake_copy / "backups"))
    made = service.create(Lake(lake_copy / "lake"), "full")
    loaded = repository.load(lake_copy / "backups", service.sealer(), made.id)
    assert loaded.audit_head == head(Lake(lake_copy / "lake")) is not None


def test_the_retention_asset_runs_on_its_schedule_and_says_what_it_did(
    lake_copy: Path,  # noqa: F811
):
    from datetime import UTC, datetime, timedelta

    from seneca_assets.defs.lifecycle.assets import retention, retention_daily
    from seneca_assets.lib.model.tables import METRICS
    from seneca_assets.lib.retention import RAW_DAYS, rows_deleted
    from seneca_assets.lib.retention_log import RETENTION_LOG

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    cutoff = datetime.now(UTC) - timedelta(days=RAW_DAYS)
    past = Lake(lake_copy / "lake").read(METRICS).filter(pl.col("timestamp") < cutoff).height
    result = dg.materialize([retention], resources={"lake": resource})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("retention")
    # The simulated points are from November 2026: past their keep or not, by today's clock.
    log = Lake(lake_copy / "lake").read(RETENTION_LOG)
    assert log.filter(pl.col("table") == METRICS.name).get_column("rows").sum() == past
    assert materialization.metadata["rows_deleted"].value == rows_deleted(log) > 0
    text = materialization.metadata["summary"].value
    assert "| silver/system_events |" in text  # debug events live 7 days
    assert ("| silver/metrics |" in text) == (past > 0)
    assert retention_daily.default_status == dg.DefaultScheduleStatus.RUNNING
    assert retention_daily.cron_schedule == "30 4 * * *"


def test_the_small_file_sensor_asks_for_maintenance_and_the_asset_logs_it(
    lake_copy: Path,  # noqa: F811
):
    from seneca_assets.defs.lifecycle.assets import maintenance, small_files_sensor
    from seneca_assets.lib.maintenance import SMALL_FILES
    from seneca_assets.lib.model.tables import METRICS
    from seneca_assets.lib.schemas import MAINTENANCE

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    context = dg.build_sensor_context(resources={"lake": resource})
    lake = Lake(lake_copy / "lake")
    sample = lake.read(METRICS).head(5)
    for k in range(SMALL_FILES):
        lake.write(METRICS, sample.with_columns(metric_id=pl.lit(f"{k:032x}")))
    request = small_files_sensor(context)
    assert isinstance(request, dg.RunRequest) and "silver/metrics" in str(request.run_key)
    assert dg.materialize([maintenance], resources={"lake": resource}).success
    log = Lake(lake_copy / "lake").read(MAINTENANCE)
    assert log.filter(pl.col("table") == METRICS.name).item(0, "compacted") > 0
    skipped = small_files_sensor(dg.build_sensor_context(resources={"lake": resource}))
    assert isinstance(skipped, dg.SkipReason)


def test_storage_health_is_measured_and_checked(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.lifecycle.assets import HEALTH_CHECKS, storage_health
    from seneca_assets.lib.schemas import STORAGE_HEALTH

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([storage_health], resources={"lake": resource})
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == set(HEALTH_CHECKS)
    # No backup has been made: nothing to judge, so the backup check passes, saying so.
    assert evaluations["backup_success_in_range"].metadata["value"].value == "not measured"
    assert Lake(lake_copy / "lake").read(STORAGE_HEALTH).height > 0
