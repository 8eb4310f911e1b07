"""Agent performance: weekly figures from silver/tasks, and which agents get faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.agents import agent_performance
from seneca_assets.lib.analytics.tables import AGENT_PERFORMANCE
from seneca_assets.lib.model.tables import TASKS

MONDAY = datetime(2026, 9, 7, tzinfo=UTC)


def _tasks(agent: str, hours: list[float], blockers: int = 0) -> list[dict]:
    rows = []
    for i, duration in enumerate(hours):
        assigned = MONDAY + timedelta(hours=12 * i)
        rows.append(
            {
                "task_id": f"{agent}-{i}",
                "agent_id": agent,
                "first_assigned_at": assigned,
                "assigned_at": assigned,
                "completed_at": assigned + timedelta(hours=duration),
                "actual_hours": duration,
                "estimated_hours": 4.0,
                "blockers": blockers,
                "reassignments": 0,
                "status": "completed",
            }
        )
    return rows


def test_weekly_figures_and_who_improves():
    rng = np.random.default_rng(3)
    rows = (
        _tasks("faster", list(np.linspace(10, 2, 40) + rng.normal(0, 0.5, 40)), blockers=1)
        + _tasks("even", list(5 + rng.normal(0, 1, 40)))
        + _tasks("new", [3.0, 4.0])
    )
    tasks = pl.concat([TASKS.empty(), pl.DataFrame(rows)], how="diagonal_relaxed")
    table = agent_performance(tasks, MONDAY + timedelta(days=40))
    assert table.schema == AGENT_PERFORMANCE.schema
    trend = dict(table.select("agent_id", "trend").unique().iter_rows())
    assert trend == {"faster": "improving", "even": "steady", "new": "insufficient data"}
    faster = table.filter(pl.col("agent_id") == "faster").sort("week")
    assert faster.get_column("tasks_completed").sum() == 40
    assert (
        faster.get_column("blockers_per_task").drop_nulls().to_list()
        == [1.0] * faster.get_column("blockers_per_task").drop_nulls().len()
    )
    assert faster.item(0, "median_actual_hours") > faster.item(-1, "median_actual_hours")
    assert faster.item(0, "duration_slope_hours_per_week") < 0
    assert faster.item(0, "estimate_ratio") == faster.item(0, "median_actual_hours") / 4.0
    assert table.get_column("week").dt.weekday().unique().to_list() == [1]


def test_no_tasks_no_rows():
    assert agent_performance(TASKS.empty(), MONDAY).is_empty()
