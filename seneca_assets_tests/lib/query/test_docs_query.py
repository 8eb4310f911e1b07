"""Every block of docs/QUERY.md runs on a simulated deployment and gives rows."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[3] / "docs" / "QUERY.md"


def test_every_example_of_the_query_page_runs(built_lake: Path):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for i, block in enumerate(blocks):
        if i == 0:
            block = block.replace('LAKE = "data/lake"', f'LAKE = "{built_lake / "lake"}"')
        exec(compile(block, f"QUERY.md block {i}", "exec"), namespace)
    assert namespace["names"]
    assert namespace["durations"].height > 0
    assert namespace["per_agent"].get_column("tags").n_unique() > 1
    assert namespace["recent"].height == 20
    assert namespace["threads"].height == 5
    assert namespace["audit"].height > 0
    assert namespace["then"].height > 0
    assert namespace["before_seneca"].is_empty()
    assert namespace["busiest"].height > 0
    assert namespace["catalogue"].height > 10
    assert namespace["stats"].misses > 0
