"""Conversation patterns: topics, flows between kinds of message, and early signals of outcome.

All three read silver/conversations, every conversation (not a sample):
- **Topics** are keywords and two-word phrases of what agents said or were told (Marcus's
  thinking and board calls left out), ranked by TF-IDF within each conversation: a
  conversation's topics are its TOPICS_PER_CONVERSATION heaviest terms, and a topic's weight is
  the number of conversations it tops. Words are the search tokens (`search/tokens.py`) of at
  least three letters and no digits (ids, numbers and paths are not topics), less English
  function words; phrases are two such words side by side. Deterministic, no external model.
- **Flows** are the transitions between successive messages of a conversation, each message
  named by its intent (request, assignment, progress, blocker, ...) or else its kind, from
  `start` to `end: <outcome>`; with the share of the first state's transitions and the median
  time between the two messages.
- **Signals** are what can be seen in the first EARLY of a task thread: a blocker, progress, a
  silent agent, or a topic. For each, the completion rate of the threads that show it beside the
  rate of those that do not, with Fisher's exact test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import polars as pl
from scipy import stats

from seneca_assets.lib.analytics.markdown import markdown_table, share
from seneca_assets.lib.analytics.tables import CONVERSATION_PATTERNS
from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.search.tokens import token_lists

TOPICS_PER_CONVERSATION = 3
TOP_TOPICS = 50
"""Topics kept over all time; TOP_TOPICS_PER_WEEK per week."""
TOP_TOPICS_PER_WEEK = 10
EARLY = timedelta(minutes=30)
"""How much of a task thread an early signal may look at, from its first message."""
MIN_SUPPORT = 5
"""Threads a signal needs on each side (with and without it) to be tested."""
SIGNAL_TOPICS = 20
"""Topics (the most widespread) tried as early signals."""
FINISHED = ("completed", "blocked", "unassigned", "abandoned")
_SYSTEM = ("marcus", "kanban")
"""The parties that are not agents."""
"""Thread outcomes that are final; `completed` is success, the others failure."""
_FUNCTION_WORDS = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each few for
from further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our ours out over own same
she should so some such than that the their theirs them then there these they this those
through to too under until up very was we were what when where which while who whom why will
with would you your yours yet via per let lets get got
"""
STOPWORDS = frozenset(_FUNCTION_WORDS.split())
"""English function words: never topics."""
_WORD = r"^[^\W\d_]{3,}(?:-[^\W\d_]+)*$"
"""A topic word: three letters or more (inner hyphens allowed); no digits or underscores, so
ids, numbers, paths and tool names are not topics."""
BOILERPLATE_SHARE = 0.5
"""A term in more than this share of the conversations is the template text Marcus writes
around the content ("Requesting next task"), not a topic."""


def conversation_patterns(conversations: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/conversation_patterns: topics (all time and per week), flows and early signals."""
    messages = _messages(conversations)
    terms = _content(_terms(messages))
    parts = [_topics(conversations, terms), _flows(messages), _signals(messages, terms)]
    found = [part for part in parts if part.height]
    frame = pl.concat(found, how="diagonal_relaxed") if found else pl.DataFrame()
    return conform(frame.with_columns(computed_at=pl.lit(now)), CONVERSATION_PATTERNS.schema)


def _messages(conversations: pl.DataFrame) -> pl.DataFrame:
    """One row per message, with its conversation's week, kind, agent and outcome."""
    return (
        conversations.select(
            conversation="id",
            week=pl.col("timestamp").dt.truncate("1w"),
            thread=pl.col("context").struct.field("kind"),
            agent=pl.col("context").struct.field("agent_id"),
            outcome=pl.col("outcomes").struct.field("status"),
            message=pl.col("messages"),
        )
        .explode("message")
        .drop_nulls("message")
        .unnest("message")
        .with_columns(
            state=pl.coalesce("intent", "kind"),
            at=pl.int_range(pl.len()).over("conversation"),
            since_start=pl.col("timestamp") - pl.col("timestamp").min().over("conversation"),
        )
    )


def _terms(messages: pl.DataFrame) -> pl.DataFrame:
    """Each conversation's terms (words and two-word phrases) from what agents said or were told.

    Marcus's own lines (its thinking, and its calls to the kanban board) are left out: they are
    how Marcus works, not what the agents talk about, and their templates ("Finding optimal
    task for ...") would lead every ranking.
    """
    said = messages.filter(
        ~pl.col("sender").is_in(list(_SYSTEM)) | ~pl.col("recipient").is_in(list(_SYSTEM))
    )
    tokens = (
        said.select("conversation", "at", "since_start", tokens=token_lists(said["text"]))
        .explode("tokens")
        .drop_nulls("tokens")
        .with_columns(
            keep=pl.col("tokens").str.contains(_WORD) & ~pl.col("tokens").is_in(list(STOPWORDS)),
            next=pl.col("tokens").shift(-1).over("conversation", "at"),
        )
        .with_columns(next_keep=pl.col("keep").shift(-1).over("conversation", "at"))
    )
    words = tokens.filter("keep").select("conversation", "since_start", term="tokens")
    phrases = tokens.filter(pl.col("keep") & pl.col("next_keep").fill_null(False)).select(
        "conversation", "since_start", term=pl.format("{} {}", "tokens", "next")
    )
    return pl.concat([words, phrases])


def _content(terms: pl.DataFrame) -> pl.DataFrame:
    """The terms less those in more than BOILERPLATE_SHARE of the conversations with terms."""
    documents = terms.get_column("conversation").n_unique()
    spread = pl.col("conversation").n_unique().over("term")
    return terms.filter(spread <= BOILERPLATE_SHARE * documents)


def _topics(conversations: pl.DataFrame, terms: pl.DataFrame) -> pl.DataFrame:
    """Topic rows: over all time, and per week, the terms that top the most conversations."""
    documents = conversations.height
    counted = terms.group_by("conversation", "term").agg(tf=pl.len())
    weighted = (
        counted.with_columns(df=pl.len().over("term"))
        .with_columns(
            weight=(1 + pl.col("tf").cast(pl.Float64).log())
            * (((documents + 1) / (pl.col("df") + 1)).log() + 1)
        )
        .with_columns(rank=pl.col("weight").rank("ordinal", descending=True).over("conversation"))
    )
    top = weighted.filter(pl.col("rank") <= TOPICS_PER_CONVERSATION).join(
        conversations.select(
            conversation="id",
            week=pl.col("timestamp").dt.truncate("1w"),
            completed=pl.col("outcomes").struct.field("status") == "completed",
            final=pl.col("outcomes").struct.field("status").is_in(FINISHED),
        ),
        on="conversation",
    )

    def ranked(keys: list[str], limit: int) -> pl.DataFrame:
        return (
            top.group_by(*keys, "term")
            .agg(
                conversations=pl.len(),
                messages=pl.col("tf").sum(),
                score=pl.col("weight").mean(),
                completion_rate=pl.col("completed").filter("final").mean(),
                examples=pl.col("conversation").sort().head(3),
            )
            .sort(
                *keys,
                "conversations",
                "score",
                "term",
                descending=[False] * len(keys) + [True, True, False],
            )
            .with_columns(
                place=pl.int_range(pl.len()).over(keys) if keys else pl.int_range(pl.len())
            )
            .filter(pl.col("place") < limit)
            .select(pl.lit("topic").alias("pattern"), *keys, pl.exclude("place", *keys))
            .rename({"term": "subject"})
        )

    return pl.concat(
        [ranked([], TOP_TOPICS), ranked(["week"], TOP_TOPICS_PER_WEEK)], how="diagonal"
    )


def _flows(messages: pl.DataFrame) -> pl.DataFrame:
    """Flow rows: transitions between successive states, from `start` to `end: <outcome>`."""
    steps = messages.sort("conversation", "at").select(
        "conversation",
        from_state=pl.col("state").shift(1).over("conversation").fill_null("start"),
        to_state="state",
        gap_s=(
            pl.col("timestamp") - pl.col("timestamp").shift(1).over("conversation")
        ).dt.total_microseconds()
        / 1e6,
    )
    ends = messages.group_by("conversation").agg(
        from_state=pl.col("state").sort_by("at").last(),
        to_state=pl.format("end: {}", pl.col("outcome").first()),
    )
    return (
        pl.concat([steps, ends], how="diagonal")
        .group_by("from_state", "to_state")
        .agg(
            conversations=pl.col("conversation").n_unique(),
            messages=pl.len(),
            median_gap_s=pl.col("gap_s").median(),
            examples=pl.col("conversation").unique().sort().head(3),
        )
        .with_columns(score=pl.col("messages") / pl.col("messages").sum().over("from_state"))
        .sort("from_state", "messages", "to_state", descending=[False, True, False])
        .with_columns(
            pattern=pl.lit("flow"),
            subject=pl.format("{} → {}", "from_state", "to_state"),
        )
    )


def _signals(messages: pl.DataFrame, terms: pl.DataFrame) -> pl.DataFrame:
    """Signal rows: what the first EARLY of finished task threads shows, against their outcome."""
    threads = messages.filter((pl.col("thread") == "task") & pl.col("outcome").is_in(FINISHED))
    if threads.is_empty():
        return pl.DataFrame()
    early = threads.filter(pl.col("since_start") <= EARLY)
    outcome = threads.group_by("conversation").agg(
        completed=(pl.col("outcome") == "completed").first()
    )
    seen: dict[str, Callable[[pl.DataFrame], pl.Series]] = {
        "blocker reported early": lambda m: m.filter(pl.col("state") == "blocker")["conversation"],
        "progress reported early": lambda m: m.filter(pl.col("state") == "progress")[
            "conversation"
        ],
        "the agent silent early": lambda m: (
            m.group_by("conversation")
            .agg(spoke=(pl.col("sender") == pl.col("agent")).any())
            .filter(~pl.col("spoke"))["conversation"]
        ),
    }
    shown = {name: find(early) for name, find in seen.items()}
    early_terms = terms.join(threads.select("conversation").unique(), on="conversation").filter(
        pl.col("since_start") <= EARLY
    )
    widespread = (
        early_terms.group_by("term")
        .agg(n=pl.col("conversation").n_unique())
        .sort("n", "term", descending=[True, False])
        .head(SIGNAL_TOPICS)
    )
    for term in widespread["term"]:
        shown[f"mentions '{term}' early"] = early_terms.filter(pl.col("term") == term)[
            "conversation"
        ]
    return pl.DataFrame([_tested(name, ids, outcome) for name, ids in shown.items()]).with_columns(
        pattern=pl.lit("signal")
    )


def _tested(name: str, ids: pl.Series, outcome: pl.DataFrame) -> dict[str, object]:
    """One signal: completion with it and without it, and Fisher's exact test between them."""
    marked = outcome.with_columns(shows=pl.col("conversation").is_in(ids.unique().implode()))
    with_it, without = marked.filter("shows"), marked.filter(~pl.col("shows"))
    row: dict[str, object] = {
        "subject": name,
        "conversations": with_it.height,
        "completion_rate": with_it["completed"].mean() if with_it.height else None,
        "baseline_rate": without["completed"].mean() if without.height else None,
        "examples": with_it["conversation"].sort().head(3).to_list(),
    }
    if min(with_it.height, without.height) < MIN_SUPPORT:
        return row | {"reason": f"fewer than {MIN_SUPPORT} threads with or without it"}
    done = [int(with_it["completed"].sum()), int(without["completed"].sum())]
    table = [[done[0], with_it.height - done[0]], [done[1], without.height - done[1]]]
    _, p_value = stats.fisher_exact(table)
    difference = float(row["completion_rate"]) - float(row["baseline_rate"])  # type: ignore[arg-type]
    return row | {"score": difference, "p_value": float(p_value)}


def summary(table: pl.DataFrame, top: int = 8) -> str:
    """Markdown for people: the leading topics, the commonest flows and the tested signals."""
    topics = table.filter((pl.col("pattern") == "topic") & pl.col("week").is_null()).head(top)
    flows = table.filter(pl.col("pattern") == "flow").sort("messages", descending=True).head(top)
    signals = table.filter((pl.col("pattern") == "signal") & pl.col("p_value").is_not_null())
    lines = [
        f"{topics.height} leading topics, {table.filter(pl.col('pattern') == 'flow').height} "
        f"flows, {signals.height} early signals tested "
        f"({signals.filter(pl.col('p_value') < 0.05).height} significant at 5%).",
        *markdown_table(
            ["topic", "conversations", "completed"],
            (
                (r["subject"], r["conversations"], share(r["completion_rate"]))
                for r in topics.iter_rows(named=True)
            ),
        ),
        *markdown_table(
            ["flow", "transitions", "share", "median gap"],
            (
                (r["subject"], r["messages"], share(r["score"]),
                 "" if r["median_gap_s"] is None else f"{r['median_gap_s']:,.0f} s")
                for r in flows.iter_rows(named=True)
            ),
        ),
    ]  # fmt: skip
    if signals.height:
        lines += markdown_table(
            ["early signal", "threads", "completed with", "without", "p"],
            (
                (r["subject"], r["conversations"], share(r["completion_rate"]),
                 share(r["baseline_rate"]), f"{r['p_value']:.3g}")
                for r in signals.sort("p_value").head(top).iter_rows(named=True)
            ),
        )  # fmt: skip
    return "\n".join(lines)
