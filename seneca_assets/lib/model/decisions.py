"""silver/decisions: one PM decision, its rationale, and whether its confidence means anything.

Marcus writes one constant confidence per call site (0.85 for every assignment), so a confidence
is judged per call site: the decision text with names and ids masked. When a call site has
written enough decisions and nearly all carry the same value, those values are marked
`confidence_is_placeholder`. The verdict is a property of all decisions of the call site, so it
is recomputed whenever new ones arrive and rewritten where it changed.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.duck import hex_ids
from seneca_assets.lib.model.fields import Field, conform, extract
from seneca_assets.lib.model.tables import DECISIONS

PLACEHOLDER_MIN_DECISIONS = 5
"""A call site is judged once it has written at least this many decisions with a confidence."""
PLACEHOLDER_SHARE = 0.95
"""Share of a call site's confidences that must be one value for that value to be a constant."""

_T = DECISIONS.name
FIELDS = (
    Field("decision", ("$.decision",), "text", _T),
    Field("rationale", ("$.rationale",), "text", _T),
    Field("alternatives", ("$.alternatives_considered",), "list", _T),
    Field("confidence", ("$.confidence_score",), "number", _T, 0, 1),
    Field("factors", ("$.decision_factors",), "object", _T),
    Field("factor_task", ("$.decision_factors.task_id",), "id", _T, column="task_id"),
    Field("factor_agent", ("$.decision_factors.agent_id",), "id", _T, column="agent_id"),
)
_TASK_IN_TEXT = (
    "nullif(coalesce(regexp_extract(decision, '^Unassign task (\\S+) from ', 1), "
    "regexp_extract(decision, ' on task (\\S+)$', 1)), '')"
)
_AGENT_IN_TEXT = (
    "nullif(regexp_extract(decision, '^(?:Assign task ''.*'' to|Unassign task \\S+ from) "
    "(\\S+)$', 1), '')"
)
COLUMNS = {
    "decision_id": "event_id",
    "event_time": "event_time",
    "decision": "decision",
    "rationale": "rationale",
    "alternatives": "alternatives",
    "alternatives_count": "coalesce(json_array_length(alternatives), 0)",
    "confidence": "confidence",
    "call_site": "coalesce(regexp_replace(regexp_replace(decision, '''[^'']*''', '''…''', 'g'), "
    "'\\S*[0-9_\\-]\\S*', '…', 'g'), '(no decision text)')",
    "factors": "factors",
    "task_id": f"coalesce(factor_task, {_TASK_IN_TEXT})",
    "task_name": "nullif(regexp_extract(decision, '^Assign task ''(.*)'' to \\S+$', 1), '')",
    "agent_id": f"coalesce(factor_agent, {_AGENT_IN_TEXT})",
    "ingest_batch": "ingest_batch",
}


def decisions(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """silver/decisions rows of the `pm_decision` events, not yet judged; and their issues."""
    rows, issues = extract(
        events.filter((pl.col("stream") == "conversations") & (pl.col("kind") == "pm_decision")),
        FIELDS,
        COLUMNS,
    )
    rows = rows.with_columns(
        hex_ids(rows, ["call_site"], "call_site_id"), confidence_is_placeholder=pl.lit(False)
    )
    return conform(rows, DECISIONS.schema), issues


def placeholder_values(judged: pl.DataFrame) -> pl.DataFrame:
    """Per call site, the confidence it writes as a constant (call sites without one omitted).

    `judged` needs `call_site_id` and `confidence` of every decision.
    """
    stats = (
        judged.filter(pl.col("confidence").is_not_null())
        .group_by("call_site_id", "confidence")
        .len()
        .with_columns(total=pl.col("len").sum().over("call_site_id"))
    )
    return stats.filter(
        (pl.col("total") >= PLACEHOLDER_MIN_DECISIONS)
        & (pl.col("len") >= PLACEHOLDER_SHARE * pl.col("total"))
    ).select("call_site_id", placeholder=pl.col("confidence"))


def _verdict() -> pl.Expr:
    """True where a row's confidence is its call site's constant (`placeholder`, joined in)."""
    return (pl.col("confidence") == pl.col("placeholder")).fill_null(False)


def judge(frame: pl.DataFrame, constants: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `confidence_is_placeholder` set from the call sites' `constants`."""
    joined = frame.join(constants, on="call_site_id", how="left")
    return joined.with_columns(confidence_is_placeholder=_verdict()).select(
        DECISIONS.schema.names()
    )


def stale_call_sites(stored: pl.DataFrame, constants: pl.DataFrame) -> list[str]:
    """Call sites (ids) with a stored `confidence_is_placeholder` that the verdict contradicts."""
    return (
        stored.join(constants, on="call_site_id", how="left")
        .filter(_verdict() != pl.col("confidence_is_placeholder"))
        .get_column("call_site_id")
        .unique()
        .sort()
        .to_list()
    )
