"""Agent performance per week, and whether each agent is getting faster (silver/tasks).

A task counts in the week (Monday, UTC) it was completed. Whether an agent improves is a trend
test (`trends.trend`: Mann-Kendall corrected for autocorrelation, Theil-Sen slope) of the actual
hours of its completed tasks in the order they were completed: durations that go down are an
agent improving.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table, number
from seneca_assets.lib.analytics.tables import AGENT_PERFORMANCE
from seneca_assets.lib.analytics.trends import trend

_WEEK_DAYS = 7.0


def agent_performance(tasks: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/agent_performance rows from silver/tasks."""
    done = tasks.filter(pl.col("completed_at").is_not_null() & pl.col("agent_id").is_not_null())
    week = pl.col("completed_at").dt.truncate("1w")
    ratio = pl.when(pl.col("estimated_hours") > 0).then(
        pl.col("actual_hours") / pl.col("estimated_hours")
    )
    weekly = done.group_by("agent_id", week.alias("week")).agg(
        tasks_completed=pl.len().cast(pl.Int64),
        median_actual_hours=pl.col("actual_hours").median(),
        estimate_ratio=ratio.median(),
        blockers_per_task=pl.col("blockers").mean(),
        reassignments_per_task=pl.col("reassignments").mean(),
    )
    assigned = (
        tasks.filter(pl.col("first_assigned_at").is_not_null() & pl.col("agent_id").is_not_null())
        .group_by("agent_id", pl.col("first_assigned_at").dt.truncate("1w").alias("week"))
        .agg(tasks_assigned=pl.len().cast(pl.Int64))
    )
    trends = pl.DataFrame(
        [_improving(agent, rows) for (agent,), rows in done.group_by(["agent_id"])],
        schema=_TREND_SCHEMA,
        orient="row",
    )
    return (
        weekly.join(assigned, on=["agent_id", "week"], how="full", coalesce=True)
        .join(trends, on="agent_id", how="left")
        .with_columns(
            pl.col("tasks_completed").fill_null(0),
            pl.col("tasks_assigned").fill_null(0),
            pl.col("trend").fill_null("insufficient data"),
            computed_at=pl.lit(now, pl.Datetime("us", "UTC")),
        )
        .sort("agent_id", "week")
        .select(AGENT_PERFORMANCE.schema.names())
        .cast(AGENT_PERFORMANCE.schema)
    )


def _improving(agent: str, rows: pl.DataFrame) -> tuple[str, str, float | None, float | None]:
    """The agent's duration trend: improving (faster), worsening, steady or insufficient data."""
    ordered = rows.filter(pl.col("actual_hours").is_not_null()).sort("completed_at")
    days = (
        ordered.get_column("completed_at") - ordered.get_column("completed_at").min()
    ).dt.total_seconds().to_numpy() / 86_400
    # Completions at the same instant keep their order (a nanosecond apart).
    found = trend(days + np.arange(days.size) * 1e-9, ordered.get_column("actual_hours").to_numpy())
    if found.status != "ok":
        return agent, "insufficient data", None, None
    label = {"decreasing": "improving", "increasing": "worsening"}.get(
        found.direction or "", "steady"
    )
    slope = None if found.slope is None else found.slope * _WEEK_DAYS
    return agent, label, slope, found.p_value


_TREND_SCHEMA = {
    "agent_id": pl.String,
    "trend": pl.String,
    "duration_slope_hours_per_week": pl.Float64,
    "trend_p_value": pl.Float64,
}


def summary(table: pl.DataFrame) -> str:
    """Markdown for people: each agent's latest week and whether it is improving."""
    if table.is_empty():
        return "No agent has completed or been assigned a task yet."
    latest = table.sort("week").group_by("agent_id", maintain_order=True).last().sort("agent_id")
    improving = latest.filter(pl.col("trend") == "improving").height
    lines = [f"{latest.height:,} agents, {improving:,} improving (their task durations fall)."]
    lines += markdown_table(
        ["agent", "latest week", "completed", "median hours", "actual / estimate", "trend"],
        (
            (r["agent_id"], f"{r['week']:%Y-%m-%d}", r["tasks_completed"],
             number(r["median_actual_hours"]), number(r["estimate_ratio"]), r["trend"])
            for r in latest.iter_rows(named=True)
        ),
    )  # fmt: skip
    return "\n".join(lines)
