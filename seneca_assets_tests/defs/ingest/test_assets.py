"""The bronze ingestion asset, its checks, the log sensor and the `seneca` command, for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from seneca_assets.defs.ingest.assets import EVENTS_KEY, QUARANTINE_KEY, bronze_ingestion
from seneca_assets.defs.ingest.automation import marcus_log_sensor
from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.config import IngestSettings

AUDIT_LINE = (
    '{"timestamp": "2026-11-27T10:00:0%d+00:00", "event_type": "tool_call", "client_id": "a1", '
    '"client_type": "agent", "tool_name": "ping", "success": true, "details": {}}\n'
)


def _write(logs: Path, name: str, good: int, bad: int = 0) -> None:
    with open(logs / name, "a", encoding="utf-8") as handle:
        handle.writelines(AUDIT_LINE % i for i in range(good))
        handle.writelines("this is not json\n" for _ in range(bad))


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_asset_materializes_bronze_and_reports_checks(settings: IngestSettings):
    _write(settings.log_dir, "audit_20261127.jsonl", good=5, bad=1)
    resource = LakeResource(log_dir=str(settings.log_dir), lake_dir=str(settings.lake_dir))

    result = dg.materialize([bronze_ingestion], resources={"lake": resource})

    assert result.success
    materializations = {
        m.asset_key: m.metadata for m in result.asset_materializations_for_node("bronze_ingestion")
    }
    assert materializations[EVENTS_KEY]["dagster/row_count"].value == 5
    assert materializations[QUARANTINE_KEY]["dagster/row_count"].value == 1
    checks = _checks(result)
    assert checks["no_duplicate_event_ids"].passed
    # 1 of 6 lines quarantined is far above 1%: the check warns without failing the run.
    assert not checks["quarantine_share_below_1pct"].passed
    assert checks["quarantine_share_below_1pct"].severity == dg.AssetCheckSeverity.WARN


def test_sensor_requests_a_run_only_when_logs_change(settings: IngestSettings):
    resource = LakeResource(log_dir=str(settings.log_dir), lake_dir=str(settings.lake_dir))
    _write(settings.log_dir, "audit_20261127.jsonl", good=1)

    first = marcus_log_sensor(dg.build_sensor_context(resources={"lake": resource}))
    assert isinstance(first, dg.RunRequest)
    cursor = first.run_key

    idle = marcus_log_sensor(dg.build_sensor_context(cursor=cursor, resources={"lake": resource}))
    assert isinstance(idle, dg.SkipReason)

    _write(settings.log_dir, "audit_20261127.jsonl", good=1)
    changed = marcus_log_sensor(
        dg.build_sensor_context(cursor=cursor, resources={"lake": resource})
    )
    assert isinstance(changed, dg.RunRequest)
    assert changed.run_key != cursor


def _seneca(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seneca_assets.cli", *args],
        capture_output=True,
        text=True,
        env=(env or os.environ) | {"DAGSTER_HOME": ""},
        check=False,
        timeout=300,
    )


def test_cli_ingest_prints_what_was_stored_and_exits_zero_with_quarantine(
    settings: IngestSettings,
):
    _write(settings.log_dir, "audit_20261127.jsonl", good=3, bad=2)
    run = _seneca("ingest", "--logs", str(settings.log_dir), "--lake", str(settings.lake_dir))
    assert run.returncode == 0, run.stderr
    assert "stored 3 events, quarantined 2 lines" in run.stdout

    listing = _seneca("quarantine", "list", "--lake", str(settings.lake_dir))
    assert listing.returncode == 0
    assert listing.stdout.count("audit_20261127.jsonl:") == 2
    assert "this is not json" in listing.stdout


def test_cli_lists_lines_that_are_not_utf8(settings: IngestSettings):
    (settings.log_dir / "audit_20261127.jsonl").write_bytes(
        b'{"timestamp": "2026-11-27T10:00:00Z", "message": "caf\xe9"}\n'
    )
    run = _seneca("ingest", "--logs", str(settings.log_dir), "--lake", str(settings.lake_dir))
    assert run.returncode == 0, run.stderr
    listing = _seneca("quarantine", "list", "--lake", str(settings.lake_dir))
    assert listing.returncode == 0, listing.stderr
    assert "invalid UTF-8: byte 0xe9" in listing.stdout
    assert "caf\\xe9" in listing.stdout


def test_cli_reads_folders_from_the_environment(settings: IngestSettings):
    _write(settings.log_dir, "audit_20261127.jsonl", good=2)
    env = os.environ | {
        "SENECA_LOG_DIR": str(settings.log_dir),
        "SENECA_LAKE_DIR": str(settings.lake_dir),
    }
    run = _seneca("run", env=env)
    assert run.returncode == 0, run.stderr
    assert "stored 2 events" in run.stdout
    assert "silver built up to batch 1" in run.stdout, "seneca run builds silver after bronze"
    assert "rollups built: 1 hourly range(s)" in run.stdout
    assert (Path(settings.lake_dir) / "bronze" / "events" / "_delta_log").is_dir()
    assert (Path(settings.lake_dir) / "silver" / "system_events" / "_delta_log").is_dir()


def test_cli_configuration_error_is_one_line_and_nonzero(tmp_path: Path):
    run = _seneca("ingest", "--logs", str(tmp_path / "missing"), "--lake", str(tmp_path / "lake"))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: log folder")
    assert not (tmp_path / "lake").exists()


def test_cli_rejects_a_bad_time_zone_grace_period_or_abandonment(settings: IngestSettings):
    folders = ["--logs", str(settings.log_dir), "--lake", str(settings.lake_dir)]
    for variable, value, expected in (
        ("SENECA_NAIVE_TZ", "Mars/Olympus", "is not an IANA time zone"),
        ("SENECA_TAIL_GRACE_S", "an hour", "is not a number of seconds"),
        ("SENECA_ABANDON_AFTER_H", "a day", "is not a number of hours"),
        ("SENECA_ABANDON_AFTER_H", "0", "must be a positive number of hours"),
    ):
        run = _seneca("ingest", *folders, env=os.environ | {variable: value})
        assert run.returncode == 2
        assert run.stderr.startswith("configuration error:")
        assert expected in run.stderr
    assert not Path(settings.lake_dir).exists()
