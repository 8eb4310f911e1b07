"""Project outcomes: the features that separate completed from blocked or abandoned work, with
effect sizes and significance; too few of either gives "insufficient data"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.outcomes import project_outcomes
from seneca_assets.lib.analytics.tables import PROJECT_OUTCOMES
from seneca_assets.lib.model.tables import DECISIONS, TASKS

AT = datetime(2026, 9, 7, tzinfo=UTC)


def _tasks(count: int, status: str, blockers: int, start: int, project: str) -> list[dict]:
    rng = np.random.default_rng(start)
    return [
        {
            "task_id": f"t{start + i}",
            "name": f"task {start + i}",
            "project_id": project,
            "status": status,
            "blockers": int(blockers + rng.integers(0, 2)),
            "reassignments": int(rng.integers(0, 2)),
            "assigned_at": AT,
            "first_progress_at": AT + timedelta(hours=float(rng.uniform(0.5, 2))),
            "completed_at": AT + timedelta(hours=4) if status == "completed" else None,
            "last_activity_at": AT + timedelta(hours=5),
            "estimated_hours": 4.0,
        }
        for i in range(count)
    ]


def test_blockers_separate_completed_from_failed_tasks():
    rows = (
        _tasks(30, "completed", 0, 0, "p1")
        + _tasks(10, "blocked", 3, 100, "p2")
        + _tasks(10, "abandoned", 3, 200, "p3")
        + _tasks(5, "in_progress", 9, 300, "p4")
    )
    tasks = pl.concat([TASKS.empty(), pl.DataFrame(rows)], how="diagonal_relaxed")
    table = project_outcomes(tasks, DECISIONS.empty(), AT)
    assert table.schema == PROJECT_OUTCOMES.schema
    blockers = table.filter((pl.col("level") == "task") & (pl.col("feature") == "blockers")).row(
        0, named=True
    )
    assert (blockers["completed"], blockers["failed"]) == (30, 20), "in progress is neither"
    assert blockers["separates"] and blockers["p_value"] < 0.001
    assert blockers["effect_size"] == -1.0, "every completed task had fewer blockers"
    reassignments = table.filter(
        (pl.col("level") == "task") & (pl.col("feature") == "reassignments")
    ).row(0, named=True)
    assert not reassignments["separates"]
    projects = table.filter(pl.col("level") == "project")
    assert set(projects.get_column("status")) == {"insufficient data"}
    assert "1 completed and 2 blocked or abandoned" in projects.item(0, "reason")


def test_decisions_are_counted_per_task_by_id_or_name():
    rows = _tasks(6, "completed", 0, 0, "p") + _tasks(6, "blocked", 0, 50, "q")
    tasks = pl.concat([TASKS.empty(), pl.DataFrame(rows)], how="diagonal_relaxed")
    named = pl.DataFrame({"task_name": [f"task {50 + i}" for i in range(6)] * 3})
    decisions = pl.concat([DECISIONS.empty(), named], how="diagonal_relaxed")
    table = project_outcomes(tasks, decisions, AT)
    row = table.filter((pl.col("level") == "task") & (pl.col("feature") == "decisions")).row(
        0, named=True
    )
    assert (row["completed_median"], row["failed_median"]) == (0.0, 3.0)
    assert row["separates"] and row["effect_size"] == -1.0
