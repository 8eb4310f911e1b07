"""The real dagster-webserver loads the code location: every asset, check, sensor, schedule."""

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
from pathlib import Path

import pytest

from seneca_assets.definitions import defs

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


@pytest.fixture
def webserver(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "SENECA_LOG_DIR": str(tmp_path / "logs"),
        "SENECA_LAKE_DIR": str(tmp_path / "lake"),
    }
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "logs").mkdir()
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
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert sensors == {
        "marcus_log_sensor": "RUNNING",
        "silver_automation": "RUNNING",
        "rollup_sensor": "RUNNING",
        "gold_automation": "RUNNING",
    }
    assert schedules == {"ingest_hourly": "RUNNING"}


@pytest.mark.slow
def test_dg_check_defs_passes():
    dg_bin = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg_bin), "check", "defs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr
