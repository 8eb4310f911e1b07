"""Shared fixtures: temporary log folders and lakes, and the shared Marcus samples."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from seneca_assets.lib.config import IngestSettings

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "marcus-samples"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def settings(logs: Path, lake_dir: Path) -> IngestSettings:
    return IngestSettings(log_dir=logs, lake_dir=str(lake_dir), tail_grace_s=3600.0)


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"the shared Marcus samples are not at {SAMPLES}")
    return SAMPLES


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a sample folder, making the copies writable (the shared samples are read-only)."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    for path in dst.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


SILVER_START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def silver_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with the silver tables of two days (from SILVER_START) of three agents, no rollups.

    One per test module; tests that write to it work on a copy.
    """
    from seneca_assets.lib.ingest import ingest
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.build import build_silver
    from seneca_assets.lib.simulate import simulate_deployment

    root = tmp_path_factory.mktemp("silver_lake")
    simulate_deployment(root / "logs", days=2, agents=3, seed=8, start=SILVER_START)
    ingest(IngestSettings(log_dir=root / "logs", lake_dir=str(root / "lake"), tail_grace_s=0))
    build_silver(Lake(root / "lake"))
    return root / "lake"
