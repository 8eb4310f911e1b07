"""The warm tier's own search path: a scan of warm/messages, every query word required.

Warm messages left the full-text index when they left silver (`lib/tiering.py`); they are read
rarely, so instead of an index of their own they are scanned, a slice of time at a time by the
Delta statistics when a time range is given. A message matches when its tokens (the index's
tokenizer) hold every word of the query; the score is how many times they occur.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query.errors import QueryError
from seneca_assets.lib.search import tokens as T
from seneca_assets.lib.search.query import MAX_RESULTS, RESULT_SCHEMA
from seneca_assets.lib.tier_tables import WARM_MESSAGES

_EMPTY = pl.DataFrame(schema=pl.Schema(RESULT_SCHEMA))  # type: ignore[arg-type]


def search_warm(
    lake: Lake,
    text: str,
    *,
    agent: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 10,
    offset: int = 0,
) -> pl.DataFrame:
    """The warm messages holding every word of `text`, best first, in the index's result shape."""
    if not 1 <= limit <= MAX_RESULTS or offset < 0:
        raise QueryError(f"limit must be within 1..{MAX_RESULTS:,} and offset not negative")
    words = sorted(set(T.tokenize(text)))
    if not words:
        raise QueryError("search the warm tier with at least one word")
    if not lake.exists(WARM_MESSAGES):
        return _EMPTY.clear()
    rows = lake.scan(WARM_MESSAGES).filter(pl.col("text").is_not_null())
    if agent:
        rows = rows.filter(pl.col("agent_id") == agent)
    if start:
        rows = rows.filter(pl.col("event_time") >= start)
    if end:
        rows = rows.filter(pl.col("event_time") < end)
    candidates = rows.filter(  # a cheap first cut: every word somewhere in the lowercased text
        pl.all_horizontal(T.folded(pl.col("text")).str.contains(w, literal=True) for w in words)
    ).collect()
    if candidates.is_empty():
        return _EMPTY.clear()
    tokens = T.token_lists(candidates.get_column("text"))
    scored = candidates.with_columns(tokens=tokens).with_columns(
        score=pl.sum_horizontal(
            pl.col("tokens").list.eval((pl.element() == w).sum()).list.first() for w in words
        ).cast(pl.Float64),
        found=pl.all_horizontal(pl.col("tokens").list.contains(w) for w in words),
    )
    best = (
        scored.filter("found").sort(["score", "event_time"], descending=True).slice(offset, limit)
    )
    marked = T.snippets(best.get_column("text").to_list(), set(words))
    return best.select(
        "score",
        source=pl.lit("messages (warm)"),
        id="message_id",
        time="event_time",
        kind="kind",
        agent="agent_id",
        task="task_id",
        snippet=pl.Series(marked, dtype=pl.String),
        text="text",
    ).cast(_EMPTY.schema)
