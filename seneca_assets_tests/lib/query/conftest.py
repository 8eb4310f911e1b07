"""A small simulated deployment through ingestion, silver and every rollup tier."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.rollup_build import build_range
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.conftest import copy_tree
from seneca_assets_tests.lib.model.pipeline import run_pipeline

START = datetime(2026, 11, 1, tzinfo=UTC)
"""The simulated deployment runs from here for three days."""


@pytest.fixture(scope="session")
def built_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs, bronze, silver and hourly, daily and monthly rollups of three days of four agents."""
    root = tmp_path_factory.mktemp("query")
    simulate_deployment(root / "logs", days=3, agents=4, seed=21)
    lake = run_pipeline(root / "logs", root / "lake")
    build_rollups(lake)
    return root


def build_rollups(lake: StorageLake) -> None:
    """Every tier over November 2026."""
    for grain in ("hourly", "daily", "monthly"):
        build_range(lake, grain, START, datetime(2026, 12, 1, tzinfo=UTC))


@pytest.fixture
def lake_copy(built_lake: Path, tmp_path: Path) -> Path:
    """A copy of the built lake (and its logs) that a test may change."""
    copy_tree(built_lake, tmp_path / "copy")
    return tmp_path / "copy"
