"""The real dagster-webserver loads the code location (every asset, check, sensor, schedule) and
shows the rollup partitions that `seneca run` built."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.definitions import defs
from seneca_assets.lib.analytics.tables import ANALYTICS_TABLES
from seneca_assets.lib.export import table_named
from seneca_assets.lib.gold_tables import ACTIVITY_HOURLY, METRICS_HOURLY
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.quality.tables import QUALITY_TABLES
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120

QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories {
              assetNodes {
                assetKey { path }
                assetChecksOrError { ... on AssetChecks { checks { name } } }
              }
              sensors { name sensorState { status } }
              schedules { name scheduleState { status } }
            }
          }
        }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _restore_signals() -> None:
    # Dagster copies its SIGINT handler onto SIGTERM; a child with default handlers stops on TERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _environment(root: Path) -> dict[str, str]:
    """A Dagster home, log folder and lake under `root`; partitions from October 2026."""
    (root / "dagster_home").mkdir(exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    return os.environ | {
        "DAGSTER_HOME": str(root / "dagster_home"),
        "SENECA_LOG_DIR": str(root / "logs"),
        "SENECA_LAKE_DIR": str(root / "lake"),
        "SENECA_PARTITIONS_START": "2026-10-01",
    }


@pytest.fixture
def webserver(tmp_path: Path) -> Iterator[int]:
    with _serve(_environment(tmp_path)) as port:
        yield port


@contextmanager
def _serve(env: dict[str, str]) -> Iterator[int]:
    """A real dagster-webserver on the code location, on a free local port."""
    port = _free_port()
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    process = subprocess.Popen(
        [
            str(webserver_bin),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workspace",
            str(ROOT / "workspace.yaml"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_restore_signals,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dagster-webserver did not start") from None
                time.sleep(0.5)
        yield port
    finally:
        stop_group(process, 20)


@pytest.mark.slow
def test_code_location_loads_every_definition(webserver: int):
    data = _graphql(webserver, QUERY)["data"]["workspaceOrError"]
    assert data["__typename"] == "Workspace"
    (entry,) = data["locationEntries"]
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]

    expected = defs()
    assets = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    assert assets == {key.to_user_string() for key in expected.resolve_all_asset_keys()}
    checks = {
        ("/".join(node["assetKey"]["path"]), check["name"])
        for node in repository["assetNodes"]
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    graph = expected.resolve_asset_graph()
    assert checks == {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert {"bronze/events", "bronze/quarantine", "bronze/ingest_files", "ops/redactions"} <= assets
    assert {"silver/messages", "silver/conversations", "silver/tasks", "ops/data_quality"} <= assets
    assert ("bronze/events", "no_quality_findings") in checks
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert sensors == {
        "marcus_log_sensor": "RUNNING",
        "silver_automation": "RUNNING",
        "rollup_sensor": "RUNNING",
        "gold_automation": "RUNNING",
        "search_automation": "RUNNING",
        "analytics_automation": "RUNNING",
        "quality_automation": "RUNNING",
        "lifecycle_automation": "RUNNING",
        "small_files_sensor": "RUNNING",
    }
    assert schedules == {
        "ingest_hourly": "RUNNING",
        "semantic_daily": "RUNNING",
        "backup_full_weekly": "RUNNING",
        "backup_differential_daily": "RUNNING",
        "backup_incremental_hourly": "RUNNING",
        "retention_daily": "RUNNING",
        "maintenance_daily": "RUNNING",
        "storage_health_hourly": "RUNNING",
        "compliance_monthly": "RUNNING",
    }


def _command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root and capture what it says."""
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_dg_check_defs_passes():
    result = _command(str(Path(sys.executable).with_name("dg")), "check", "defs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


PARTITIONS = """
{
  assetNodes(group: {groupName: "gold", repositoryName: "__repository__",
                     repositoryLocationName: "seneca"}) {
    assetKey { path }
    partitionDefinition { type name }
    partitionStats { numMaterialized numPartitions numFailed }
  }
}
"""


SUMMARIES = """
{
  assetNodes(group: {groupName: "GROUP", repositoryName: "__repository__",
                     repositoryLocationName: "seneca"}) {
    assetKey { path }
    assetMaterializations(limit: 1) {
      metadataEntries {
        label
        ... on MarkdownMetadataEntry { mdStr }
        ... on IntMetadataEntry { intValue }
      }
    }
  }
}
"""


@pytest.mark.slow
def test_the_ui_shows_the_rollup_partitions_that_seneca_run_built(tmp_path: Path):
    now = datetime.now(UTC)
    start = (now - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    before = (start.replace(day=1) - timedelta(days=1)).replace(day=1)  # a closed month at least
    env = _environment(tmp_path) | {"SENECA_PARTITIONS_START": f"{before:%Y-%m-%d}"}
    simulate_deployment(tmp_path / "logs", days=2, agents=2, seed=4, start=start)
    run = _command(sys.executable, "-m", "seneca_assets.cli", "run", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lake = Lake(tmp_path / "lake")
    rolled = pl.concat(
        [lake.scan(table).select("bucket").collect() for table in (METRICS_HOURLY, ACTIVITY_HOURLY)]
    ).unique()
    metric_hours = lake.scan(METRICS).select(pl.col("timestamp").dt.truncate("1h")).collect()
    assert metric_hours.join(rolled, left_on="timestamp", right_on="bucket", how="anti").is_empty()
    hours = rolled.height
    assert hours >= 24, "seneca run built the hourly rollups of two days"
    days = rolled.select(pl.col("bucket").dt.truncate("1d").n_unique()).item()
    month_ends = rolled.select(pl.col("bucket").dt.month_end().dt.date().unique()).to_series()
    closed_months = sum(1 for end in month_ends if end < now.date())

    with _serve(env) as port:
        nodes = _graphql(port, PARTITIONS)["data"]["assetNodes"]
        analytics = _graphql(port, SUMMARIES.replace("GROUP", "analytics"))["data"]["assetNodes"]
        quality = _graphql(port, SUMMARIES.replace("GROUP", "quality"))["data"]["assetNodes"]
    # Every analytics and data-quality table was built by seneca run; its summary is in the UI.
    assert {"/".join(node["assetKey"]["path"]) for node in analytics} == {
        spec.name for spec in ANALYTICS_TABLES
    }
    assert {"/".join(node["assetKey"]["path"]) for node in quality} == {
        spec.name for spec in QUALITY_TABLES
    }
    for node in analytics + quality:
        (latest,) = node["assetMaterializations"]
        entries = {entry["label"]: entry for entry in latest["metadataEntries"]}
        assert entries["summary"]["mdStr"].strip(), node["assetKey"]
        rows = Lake(tmp_path / "lake").read(table_named("/".join(node["assetKey"]["path"])))
        assert entries["dagster/row_count"]["intValue"] == rows.height
    shown = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    assert set(shown) == {
        f"gold/{kind}_{grain}"
        for kind in ("metrics", "activity")
        for grain in ("hourly", "daily", "monthly")
    }
    materialized = {}
    for key, node in shown.items():
        assert node["partitionDefinition"]["type"] == "TIME_WINDOW", key
        stats = node["partitionStats"]
        assert stats["numFailed"] == 0, key
        assert stats["numPartitions"] > 0, key
        materialized[key] = stats["numMaterialized"]
    # Every hour and day with rollups is a materialized partition (all have closed), and every
    # hour with metric points has rollups; a month is built only once it has closed.
    assert materialized["gold/metrics_hourly"] == materialized["gold/activity_hourly"] == hours
    assert materialized["gold/metrics_daily"] == materialized["gold/activity_daily"] == days
    assert materialized["gold/metrics_monthly"] == closed_months
    assert materialized["gold/activity_monthly"] == closed_months
