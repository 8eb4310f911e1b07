"""The silver asset: it follows bronze by itself, reports its checks, and they catch damage."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from seneca_assets.defs.ingest.assets import bronze_ingestion
from seneca_assets.defs.model.assets import MESSAGES_KEY, silver_model
from seneca_assets.defs.model.automation import silver_automation
from seneca_assets.defs.resources import LakeResource
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import MESSAGES, SILVER_TABLES
from seneca_assets.lib.simulate import simulate_deployment


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LakeResource]:
    root = tmp_path_factory.mktemp("demo")
    simulate_deployment(root / "logs", days=1, agents=3, seed=4)
    return root, LakeResource(log_dir=str(root / "logs"), lake_dir=str(root / "lake"))


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }


def test_silver_follows_bronze_through_declarative_automation(demo):
    _, resource = demo
    defs = dg.Definitions(
        assets=[bronze_ingestion, silver_model],
        sensors=[silver_automation],
        resources={"lake": resource},
    )
    instance = dg.DagsterInstance.ephemeral()
    silver_keys = {dg.AssetKey(t.name.split("/")) for t in SILVER_TABLES}

    idle = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    dg.materialize([bronze_ingestion], resources={"lake": resource}, instance=instance)
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=idle.cursor)
    requested = {key for key in silver_keys if first.get_num_requested(key)}
    assert requested == silver_keys, "new bronze rows request every silver table"

    result = dg.materialize(
        [silver_model], resources={"lake": resource}, instance=instance, selection=list(silver_keys)
    )
    assert result.success
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.total_requested == 0, "nothing new in bronze, nothing to do"
    assert silver_automation.default_status == dg.DefaultSensorStatus.RUNNING


def test_materialization_reports_rows_and_passing_checks(demo):
    _, resource = demo
    result = dg.materialize([bronze_ingestion, silver_model], resources={"lake": resource})
    assert result.success
    metadata = {
        m.asset_key: m.metadata for m in result.asset_materializations_for_node("silver_model")
    }
    assert metadata[MESSAGES_KEY]["dagster/row_count"].value > 100
    checks = _checks(result)
    assert len([c for c in checks if c[0].startswith("silver/")]) >= 2 * 8 + 2
    assert all(checks.values()), [c for c, passed in checks.items() if not passed]


def test_checks_fail_when_a_message_is_duplicated(demo, tmp_path: Path):
    root, _ = demo
    resource = LakeResource(log_dir=str(root / "logs"), lake_dir=str(tmp_path / "lake"))
    dg.materialize([bronze_ingestion, silver_model], resources={"lake": resource})
    lake = Lake(tmp_path / "lake")
    lake.write(MESSAGES, lake.read(MESSAGES).head(1))

    result = dg.materialize([silver_model], resources={"lake": resource})

    checks = _checks(result)
    assert not checks[("silver/messages", "keys_unique_and_present")]
    assert not checks[("silver/messages", "every_conversation_event_once")]
    assert checks[("silver/messages", "every_message_from_bronze")]
    assert checks[("silver/tasks", "keys_unique_and_present")]
