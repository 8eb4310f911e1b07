"""The findings asset, the checks that surface them on the tables, and `seneca quality`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from seneca_assets.cli import main
from seneca_assets.defs.quality.assets import (
    dq_findings,
    quality_automation,
    quality_checks,
    quality_job,
)
from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets.lib.simulate_faults import inject
from seneca_assets_tests.lib.model.pipeline import run_pipeline

START = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dq")
    simulate_deployment(root / "logs", days=5, agents=4, seed=11, start=START)
    inject(root / "logs", START)
    run_pipeline(root / "logs", root / "lake")
    return root


def test_findings_are_surfaced_on_the_tables_they_concern(damaged: Path):
    resource = LakeResource(log_dir=str(damaged / "logs"), lake_dir=str(damaged / "lake"))
    # The quality job, as `seneca run` and the UI run it: the findings, then the checks.
    job = dg.Definitions(
        assets=[dq_findings],
        asset_checks=[quality_checks],
        jobs=[quality_job],
        resources={"lake": resource},
    ).resolve_job_def("quality")
    result = job.execute_in_process()
    assert result.success  # a failed check is a finding, not a failed run
    written = {
        m.asset_key.path[-1]: m for m in result.asset_materializations_for_node("dq_findings")
    }
    materialization = written["dq_findings"]
    assert "placeholder field(s)" in written["dq_placeholders"].metadata["summary"].value
    assert "stream-days scored" in written["dq_scores"].metadata["summary"].value
    assert "timeliness.silent_stream" in materialization.metadata["summary"].value
    assert materialization.metadata["errors"].value >= 3
    evaluations = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    bronze, silver = evaluations["bronze/events"], evaluations["silver/task_events"]
    assert not bronze.passed and bronze.severity == dg.AssetCheckSeverity.ERROR
    assert not silver.passed and silver.metadata["checks"].value == (
        "consistency.missing_twin, consistency.task_in_two_projects"
    )
    assert quality_automation.default_status == dg.DefaultSensorStatus.RUNNING


def test_seneca_quality_prints_findings_for_people_and_programs(damaged: Path, capsys):
    resource = LakeResource(log_dir=str(damaged / "logs"), lake_dir=str(damaged / "lake"))
    assert dg.materialize([dq_findings], resources={"lake": resource}).success
    capsys.readouterr()
    assert main(["quality", "--lake", str(damaged / "lake")]) == 0
    text = capsys.readouterr().out
    assert "error   timeliness.silent_stream (audit): audit" in text
    assert "observed:" in text and "first evidence: event " in text
    assert main(["quality", "--lake", str(damaged / "lake"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["check"] for row in rows} >= {"schema.type", "timeliness.future_time"}
    # --since keeps what reaches past it (the future-stamped lines, a month ahead) and what is
    # about the files as they are now (no window).
    assert (
        main(["quality", "--lake", str(damaged / "lake"), "--json", "--since", "2026-11-20"]) == 0
    )
    later = json.loads(capsys.readouterr().out)
    assert {row["check"] for row in later} == {
        "timeliness.future_time",
        "reliability.quarantined_lines",
        "reliability.abandoned_tail",
    }


def test_seneca_quality_on_a_lake_never_checked_says_so(tmp_path: Path, capsys):
    (tmp_path / "lake").mkdir()
    assert main(["quality", "--lake", str(tmp_path / "lake")]) == 2
    assert "seneca run" in capsys.readouterr().err


def test_the_main_assets_carry_freshness_policies():
    from seneca_assets.definitions import defs

    graph = defs().resolve_asset_graph()
    windows = {
        key: graph.get(dg.AssetKey.from_user_string(key)).freshness_policy
        for key in ("bronze/events", "silver/messages", "silver/tasks", "ops/dq_findings")
    }
    assert all(windows.values()), windows
    assert windows["bronze/events"].fail_window.to_timedelta().total_seconds() == 2 * 3600
