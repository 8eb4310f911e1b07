"""Cross-stream consistency: one task, one project.

Marcus has written two project ids for one project (Marcus #306) and tasks into the wrong
project (Marcus #610). A task named with more than one project id across the records that name
it is a finding, with the first record of each project as evidence.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.quality.finding import Finding

CHECK_TWO_PROJECTS = "consistency.task_in_two_projects"


def tasks_in_two_projects(task_events: pl.DataFrame) -> list[Finding]:
    """Tasks named with two or more project ids. `task_events`: silver/task_events rows."""
    named = task_events.filter(pl.col("project_id").is_not_null()).sort("event_time")
    firsts = named.group_by("task_id", "project_id").agg(
        first=pl.col("event_time").first(),
        last=pl.col("event_time").last(),
        event=pl.col("event_id").first(),
        source=pl.col("source").first(),
        records=pl.len(),
    )
    split = (
        firsts.sort("first")
        .group_by("task_id")
        .agg(
            projects=pl.col("project_id"),
            records=pl.col("records"),
            sources=pl.col("source"),
            start=pl.col("first").min(),
            end=pl.col("last").max(),
            evidence=pl.col("event"),
        )
        .filter(pl.col("projects").list.len() > 1)
        .sort("task_id")
    )
    return [
        Finding(
            check=CHECK_TWO_PROJECTS,
            severity="error",
            stream=None,
            table="silver/task_events",
            subject_kind="task",
            subject=row["task_id"],
            window_start=row["start"],
            window_end=row["end"],
            observed="named in projects "
            + ", ".join(
                f"{p} ({n:,} record(s), first from {s})"
                for p, n, s in zip(row["projects"], row["records"], row["sources"], strict=True)
            ),
            expected="one project",
            evidence=row["evidence"][:10],
        )
        for row in split.iter_rows(named=True)
    ]
