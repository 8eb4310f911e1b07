"""Dagster's instance on a real PostgreSQL server, configured by deploy/postgres/dagster.yaml:
the configuration validates, the `seneca` command's runs, materializations and checks land in
PostgreSQL's tables, and the daemon keeps sensor ticks and schedule state there."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.instance.config import dagster_instance_config
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.sensor import execute_sensor_iteration
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from seneca_assets.defs.ingest.assets import EVENTS_KEY
from seneca_assets.lib.sources import folder_signature
from seneca_assets_tests.deploy.conftest import POSTGRES_HOME, ROOT, PostgresServer

PG_VARIABLES = {
    "hostname": "DAGSTER_PG_HOST",
    "port": "DAGSTER_PG_PORT",
    "username": "DAGSTER_PG_USER",
    "password": "DAGSTER_PG_PASSWORD",
    "db_name": "DAGSTER_PG_DB",
}

AUDIT_LINE = (
    '{"timestamp": "2026-11-27T10:00:0%d+00:00", "event_type": "tool_call", "client_id": "a1", '
    '"client_type": "agent", "tool_name": "ping", "success": true, "details": {}}\n'
)


def _write_logs(folder: Path, good: int, bad: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "audit_20261127.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(AUDIT_LINE % i for i in range(good))
        handle.writelines("this is not json\n" for _ in range(bad))


def _query(server: PostgresServer, database: str, sql: str, *params: object) -> list[tuple]:
    connection = server.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def test_the_postgres_instance_validates_and_differs_from_the_embedded_one_only_in_storage():
    config, _ = dagster_instance_config(str(POSTGRES_HOME))
    assert set(config["storage"]) == {"postgres"}
    postgres_db = config["storage"]["postgres"]["postgres_db"]
    # Every connection setting, the password above all, comes from the environment.
    for field, variable in PG_VARIABLES.items():
        assert postgres_db[field] == {"env": variable}, field
    assert postgres_db["scheme"] == "postgresql+psycopg2"  # the driver dagster-postgres brings
    # The rest is the embedded instance's configuration (pools, run limits, paths), so the two
    # cannot drift apart.
    variant = yaml.safe_load((POSTGRES_HOME / "dagster.yaml").read_text(encoding="utf-8"))
    embedded = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    assert set(embedded["storage"]) == {"sqlite"}
    assert {k: v for k, v in variant.items() if k != "storage"} == {
        k: v for k, v in embedded.items() if k != "storage"
    }


def test_dagster_loads_the_instance_from_postgres_and_never_shows_the_password(
    postgres_server: PostgresServer, pg_env: str, tmp_path: Path
):
    before = sorted(POSTGRES_HOME.iterdir())
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "instance", "info"],
        cwd=tmp_path,
        env=os.environ | {"DAGSTER_HOME": str(POSTGRES_HOME)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for storage in ("PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"):
        assert storage in output
    assert postgres_server.password not in output
    # Loading the instance wrote nothing into the repository's deploy/postgres folder.
    assert sorted(POSTGRES_HOME.iterdir()) == before


@pytest.mark.slow
def test_seneca_ingest_on_the_postgres_instance_keeps_its_run_and_events_in_postgres(
    postgres_server: PostgresServer, pg_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    logs, lake = tmp_path / "logs", tmp_path / "lake"
    _write_logs(logs, good=5, bad=1)
    # What `make run INSTANCE=postgres` does: the `seneca` command with DAGSTER_HOME on the
    # variant, from the folder that relative paths (local artifacts, compute logs) start at.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seneca_assets.cli",
            "ingest",
            "--logs",
            str(logs),
            "--lake",
            str(lake),
        ],
        cwd=tmp_path,
        env=os.environ | {"DAGSTER_HOME": str(POSTGRES_HOME)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert postgres_server.password not in result.stdout + result.stderr

    # Another process (the webserver, the daemon) sees the run through the same configuration.
    monkeypatch.chdir(tmp_path)
    with dg.DagsterInstance.from_config(str(POSTGRES_HOME)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        (record,) = instance.get_run_records()
        run = record.dagster_run
        assert run.job_name == "ingest"
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["seneca/writer"] == "ingest"
        event = instance.get_latest_materialization_event(EVENTS_KEY)
        assert event is not None and event.run_id == run.run_id
        assert event.asset_materialization is not None
        assert event.asset_materialization.metadata["dagster/row_count"].value == 5

    # ...because it is in PostgreSQL's own tables.
    assert _query(
        postgres_server,
        pg_env,
        "SELECT pipeline_name, status FROM runs WHERE run_id = %s",
        run.run_id,
    ) == [("ingest", "SUCCESS")]
    kinds = dict(
        _query(
            postgres_server,
            pg_env,
            "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s "
            "AND dagster_event_type IS NOT NULL GROUP BY 1",
            run.run_id,
        )
    )
    # events, quarantine, ingest files and redactions
    assert kinds[dg.DagsterEventType.ASSET_MATERIALIZATION.value] == 4
    assert kinds[dg.DagsterEventType.RUN_SUCCESS.value] == 1
    checks = _query(
        postgres_server,
        pg_env,
        "SELECT check_name, execution_status FROM asset_check_executions WHERE run_id = %s",
        run.run_id,
    )
    assert kinds[dg.DagsterEventType.ASSET_CHECK_EVALUATION.value] == len(checks)
    assert {
        ("no_duplicate_event_ids", "SUCCEEDED"),
        ("quarantine_share_below_1pct", "FAILED"),
    } <= set(checks)  # 1 bad line in 6 is far above 1%: the check warns
    keys = {
        tuple(json.loads(key))
        for (key,) in _query(postgres_server, pg_env, "SELECT asset_key FROM asset_keys")
    }
    assert {("bronze", "events"), ("bronze", "quarantine")} <= keys


def test_the_daemon_keeps_sensor_ticks_and_schedule_state_in_postgres(
    postgres_server: PostgresServer, pg_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    logs = tmp_path / "logs"
    _write_logs(logs, good=2, bad=0)
    monkeypatch.setenv("SENECA_LOG_DIR", str(logs))
    monkeypatch.setenv("SENECA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.chdir(tmp_path)
    code_location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name="seneca_assets.definitions",
            attribute="defs",
            working_directory=str(ROOT),
        ),
        location_name="seneca",
    )
    with (
        dg.DagsterInstance.from_config(str(POSTGRES_HOME)) as instance,
        WorkspaceProcessContext(
            instance, InProcessWorkspaceLoadTarget([code_location])
        ) as workspace,
    ):
        # One iteration of the daemon's sensor loop over the real code location: the log sensor
        # sees the new file, records its cursor and a tick, and queues an ingestion run.
        list(execute_sensor_iteration(workspace, logging.getLogger("test"), None, None))
        # The UI turns a schedule off.
        repository = (
            workspace.create_request_context()
            .get_code_location("seneca")
            .get_repository("__repository__")
        )
        schedule = repository.get_schedule("ingest_hourly")
        instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)

    with dg.DagsterInstance.from_config(str(POSTGRES_HOME)) as instance:
        states = {s.name: s for s in instance.all_instigator_state()}
        sensor = states["marcus_log_sensor"]
        assert sensor.instigator_type == InstigatorType.SENSOR
        assert sensor.instigator_data.cursor == folder_signature(logs)
        (tick,) = instance.get_ticks(sensor.instigator_origin_id, sensor.selector_id)
        assert tick.status == TickStatus.SUCCESS
        (run_id,) = tick.run_ids
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.job_name == "ingest"
        assert run.status == dg.DagsterRunStatus.QUEUED  # the run queue is the daemon's next step
        assert states["ingest_hourly"].status == InstigatorStatus.STOPPED

    rows = dict(_query(postgres_server, pg_env, "SELECT selector_id, status FROM instigators"))
    assert rows[states["ingest_hourly"].selector_id] == "STOPPED"
    assert sensor.selector_id in rows
    ticks = _query(
        postgres_server,
        pg_env,
        "SELECT status FROM job_ticks WHERE selector_id = %s",
        sensor.selector_id,
    )
    assert ticks == [("SUCCESS",)]
    assert _query(postgres_server, pg_env, "SELECT status FROM runs WHERE run_id = %s", run_id) == [
        ("QUEUED",)
    ]
