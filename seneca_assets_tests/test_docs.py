"""Every query in docs/QUESTIONS.md runs on a simulated deployment and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import build_silver
from seneca_assets.lib.simulate import simulate_deployment

QUESTIONS = Path(__file__).resolve().parents[1] / "docs" / "QUESTIONS.md"


def test_every_query_in_the_questions_page_runs(tmp_path: Path, capsys: pytest.CaptureFixture):
    simulate_deployment(tmp_path / "logs", days=2, agents=3, seed=2)
    ingest(IngestSettings(tmp_path / "logs", tmp_path / "lake", tail_grace_s=0))
    build_silver(Lake(tmp_path / "lake"))
    blocks = re.findall(r"```python\n(.*?)```", QUESTIONS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"QUESTIONS.md block {i}", "exec"), namespace)
        if i == 0:
            namespace["LAKE"] = str(tmp_path / "lake")
    assert namespace["decisions"].height > 0
    assert namespace["actions"].height > 0
    assert namespace["weekly"].height > 0
    assert namespace["projects"].height > 0
    assert namespace["thread"].height == 1
    assert namespace["slow"], "the SQL answer has rows"
    assert "Requesting next task" in capsys.readouterr().out
