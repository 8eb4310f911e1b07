"""The monthly compliance report: materialized for a month, it writes that month's report under
the export root and shows its answers; its schedule asks for the month before on the 1st."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from seneca_assets.defs.lifecycle.compliance import (
    ANSWERED,
    CLEAR,
    compliance_monthly,
    compliance_report,
)
from seneca_assets.defs.resources import LakeResource, shared
from seneca_assets.lib import audit_chain
from seneca_assets.lib.compliance import month_before
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.lib.model.pipeline import run_pipeline


def test_the_asset_writes_the_report_of_its_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    month = month_before(datetime.now(UTC))  # the latest closed month: a partition that exists
    simulate_deployment(tmp_path / "logs", days=1, agents=2, seed=3, start=month.start)
    audit_chain.extend(run_pipeline(tmp_path / "logs", tmp_path / "lake"))
    monkeypatch.setenv("SENECA_EXPORT_DIR", str(tmp_path / "exports"))
    resource = LakeResource(log_dir=str(tmp_path / "logs"), lake_dir=str(tmp_path / "lake"))
    key = f"{month.start:%Y-%m-%d}"
    result = dg.materialize([compliance_report], resources=shared(resource), partition_key=key)
    assert result.success
    path = tmp_path / "exports" / "compliance" / f"{month.stem}.md"
    assert path.is_file() and path.with_suffix(".json").is_file()
    (materialization,) = result.asset_materializations_for_node(compliance_report.node_def.name)
    summary = materialization.metadata["summary"].value
    assert summary.startswith("1. **Audit trail: actions taken and when** (answered)")
    assert "The audit chain is intact" in summary
    assert materialization.metadata["dagster/uri"].value == str(path)
    twin = json.loads(path.with_suffix(".json").read_text())
    assert twin["period"]["from"] == month.start.isoformat()
    assert twin["sections"][0]["status"] == "answered"
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {ANSWERED: True, CLEAR: True}


def test_the_schedule_asks_for_the_month_before_on_the_first_at_six():
    definitions = dg.Definitions(
        assets=[compliance_report], schedules=[compliance_monthly], resources=shared()
    )
    schedule = definitions.resolve_schedule_def("compliance_monthly")
    assert schedule.cron_schedule == "0 6 1 * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = datetime(2026, 12, 1, 6, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-01" == f"{month_before(tick).start:%Y-%m-%d}"
