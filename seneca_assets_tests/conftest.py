"""Shared fixtures: temporary log folders and lakes, and the shared Marcus samples."""

from __future__ import annotations

import shutil
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
