"""What separates completed work from blocked or abandoned work (silver/tasks, decisions).

For tasks, and for projects (their tasks pooled), each feature's values among the completed and
among the blocked or abandoned are compared with the Mann-Whitney U test (scipy) and the rank-
biserial correlation as effect size (from -1 to 1: positive when the completed have the larger
values). Features: blockers, reassignments, the ratio of hours worked to the estimate (to
completion, or to the last line for unfinished tasks), hours to the first progress report, and
how many PM decisions named the task.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
from scipy import stats

from seneca_assets.lib.analytics.markdown import markdown_table, number
from seneca_assets.lib.analytics.tables import PROJECT_OUTCOMES

ALPHA = 0.05
MIN_GROUP = 5
"""Fewer values than this in either group give an "insufficient data" row."""
FAILED = ("blocked", "abandoned")

FEATURES = {
    "blockers": pl.col("blockers").cast(pl.Float64),
    "reassignments": pl.col("reassignments").cast(pl.Float64),
    "estimate_ratio": pl.when(pl.col("estimated_hours") > 0).then(
        (pl.coalesce("completed_at", "last_activity_at") - pl.col("assigned_at")).dt.total_seconds()
        / 3600
        / pl.col("estimated_hours")
    ),
    "hours_to_first_progress": (
        (pl.col("first_progress_at") - pl.col("assigned_at")).dt.total_seconds() / 3600
    ),
    "decisions": pl.col("decisions").cast(pl.Float64),
}
"""Each feature of a task, from silver/tasks joined with its decision count."""


def project_outcomes(tasks: pl.DataFrame, decisions: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/project_outcomes rows: one per level (task, project) and feature."""
    named = (
        decisions.filter(pl.col("task_id").is_not_null() | pl.col("task_name").is_not_null())
        .group_by(pl.coalesce("task_id", "task_name").alias("key"))
        .agg(decisions=pl.len())
    )
    with_decisions = (
        tasks.with_columns(key=pl.col("task_id"))
        .join(named, on="key", how="left")
        .join(named.rename({"decisions": "by_name"}), left_on="name", right_on="key", how="left")
        .with_columns(decisions=pl.coalesce("decisions", "by_name").fill_null(0))
    )
    features = with_decisions.select(
        "project_id",
        outcome=pl.when(pl.col("status") == "completed")
        .then(pl.lit("completed"))
        .when(pl.col("status").is_in(FAILED))
        .then(pl.lit("failed"))
        .otherwise(None),
        **FEATURES,
    ).filter(pl.col("outcome").is_not_null())
    projects = (
        features.filter(pl.col("project_id").is_not_null())
        .group_by("project_id")
        .agg(
            outcome=pl.when((pl.col("outcome") == "failed").any())
            .then(pl.lit("failed"))
            .otherwise(pl.lit("completed")),
            **{name: pl.col(name).mean() for name in FEATURES},
        )
    )
    rows = [
        _compare(level, name, frame)
        for level, frame in (("task", features), ("project", projects))
        for name in FEATURES
    ]
    return (
        pl.DataFrame(rows, schema=_SCHEMA, orient="row")
        .with_columns(computed_at=pl.lit(now, pl.Datetime("us", "UTC")))
        .cast(PROJECT_OUTCOMES.schema)
    )


def _compare(level: str, feature: str, frame: pl.DataFrame) -> tuple[object, ...]:
    values = {
        outcome: frame.filter(pl.col("outcome") == outcome)
        .get_column(feature)
        .drop_nulls()
        .drop_nans()
        .to_numpy()
        for outcome in ("completed", "failed")
    }
    done, failed = values["completed"], values["failed"]
    base = (level, feature, done.size, failed.size, _median(done), _median(failed))
    if done.size < MIN_GROUP or failed.size < MIN_GROUP:
        reason = (
            f"{done.size} completed and {failed.size} blocked or abandoned; "
            f"{MIN_GROUP} of each are needed"
        )
        return (*base, None, None, None, "insufficient data", reason)
    if np.all(done == done[0]) and np.all(failed == done[0]):
        return (*base, 0.0, 1.0, False, "ok", "constant")
    test = stats.mannwhitneyu(done, failed, alternative="two-sided")
    effect = 2 * float(test.statistic) / (done.size * failed.size) - 1
    return (*base, effect, float(test.pvalue), bool(test.pvalue < ALPHA), "ok", None)


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


_SCHEMA = pl.Schema({k: v for k, v in PROJECT_OUTCOMES.schema.items() if k != "computed_at"})


def summary(table: pl.DataFrame) -> str:
    """Markdown for people: what separates completed from failed work, strongest first."""
    compared = table.filter(pl.col("status") == "ok")
    separating = compared.filter(pl.col("separates").fill_null(False))
    lines = [
        f"{separating.height:,} of {compared.height:,} features compared separate completed "
        f"from blocked or abandoned work at 5% ({table.height - compared.height:,} had too few "
        "of either)."
    ]
    if compared.height:
        ranked = compared.sort(pl.col("effect_size").abs(), descending=True, nulls_last=True)
        lines += markdown_table(
            ["level", "feature", "completed median", "failed median", "effect size", "p-value"],
            (
                (r["level"], r["feature"], number(r["completed_median"]),
                 number(r["failed_median"]), number(r["effect_size"]), number(r["p_value"]))
                for r in ranked.iter_rows(named=True)
            ),
        )  # fmt: skip
    return "\n".join(lines)
