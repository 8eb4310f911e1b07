"""The search index asset follows silver and checks that it holds exactly what silver gives."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from seneca_assets.defs.ingest.assets import bronze_ingestion
from seneca_assets.defs.model.assets import silver_model
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.search.assets import SEARCH_KEY, full_text, search_automation
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


def test_the_index_asset_adds_what_is_new_and_checks_itself(lake_copy: Path):  # noqa: F811
    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    first = dg.materialize([full_text], resources={"lake": resource})
    assert first.success
    (materialization,) = first.asset_materializations_for_node("search__full_text")
    assert materialization.metadata["added"].value > 0
    (check,) = first.get_asset_check_evaluations()
    assert check.passed and check.metadata["documents"].value == check.metadata["expected"].value
    again = dg.materialize([full_text], resources={"lake": resource})
    (materialization,) = again.asset_materializations_for_node("search__full_text")
    assert materialization.metadata["added"].value == 0


def test_the_index_follows_silver_through_automation(tmp_path: Path):
    simulate_deployment(tmp_path / "logs", days=1, agents=2, seed=6)
    resource = LakeResource(log_dir=str(tmp_path / "logs"), lake_dir=str(tmp_path / "lake"))
    defs = dg.Definitions(
        assets=[bronze_ingestion, silver_model, full_text],
        sensors=[search_automation],
        resources={"lake": resource},
    )
    instance = dg.DagsterInstance.ephemeral()
    idle = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert idle.get_num_requested(SEARCH_KEY) == 0
    dg.materialize(
        [bronze_ingestion, silver_model], resources={"lake": resource}, instance=instance
    )
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=idle.cursor)
    assert after.get_num_requested(SEARCH_KEY) == 1, "new silver rows request the index"
    dg.materialize([full_text], resources={"lake": resource}, instance=instance)
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert settled.get_num_requested(SEARCH_KEY) == 0
    assert search_automation.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_semantic_model_asset_builds_the_model_into_the_lake(lake_copy: Path):  # noqa: F811
    from seneca_assets.defs.search.assets import semantic, semantic_daily
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.search.semantic import meaning

    resource = LakeResource(log_dir=str(lake_copy / "logs"), lake_dir=str(lake_copy / "lake"))
    result = dg.materialize([semantic], resources={"lake": resource})
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["vectors"].value > 0
    assert meaning(Lake(lake_copy / "lake"), "progress update").height == 10
    assert semantic_daily.default_status == dg.DefaultScheduleStatus.RUNNING
