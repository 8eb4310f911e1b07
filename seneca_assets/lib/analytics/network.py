"""The collaboration network: agents, Marcus and the kanban board, linked week by week.

Two parties are linked by the messages between them (silver/messages: sender to recipient) and,
for two agents, by the tasks both were assigned that week (silver/task_events). Per week:
- an **edge** per pair: messages each way, shared tasks, the weight (their sum) and the
  pair's reciprocity (the smaller direction's messages over the larger's);
- a **node** per party: degree (parties linked), weighted degree, messages sent and received,
  reciprocity (the share of its message links that run both ways) and betweenness centrality
  (networkx, on the undirected graph with distance 1 / weight: how much of the shortest traffic
  between others passes through it).
"""

from __future__ import annotations

from datetime import datetime

import networkx as nx
import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table, share
from seneca_assets.lib.analytics.tables import COLLABORATION_NETWORK
from seneca_assets.lib.model.fields import conform

WEEK = pl.col("event_time").dt.truncate("1w")
_PAIR = ("week", "source", "target")


def collaboration_network(
    messages: pl.DataFrame, task_events: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """gold/collaboration_network: edge and node rows per week.

    `messages` needs `event_time`, `sender`, `recipient`; `task_events` needs `event_time`,
    `task_id`, `fact` and `agent_id`.
    """
    edges = _edges(messages, task_events)
    nodes = [_nodes(week, rows) for (week,), rows in edges.group_by(["week"], maintain_order=True)]
    frame = pl.concat([edges.with_columns(element=pl.lit("edge")), *nodes], how="diagonal_relaxed")
    return conform(
        frame.with_columns(computed_at=pl.lit(now)).sort("week", "element", "source", "target"),
        COLLABORATION_NETWORK.schema,
    )


def _edges(messages: pl.DataFrame, task_events: pl.DataFrame) -> pl.DataFrame:
    """One row per week and pair of parties (source < target), with what links them."""
    low = pl.min_horizontal("sender", "recipient")
    high = pl.max_horizontal("sender", "recipient")
    said = (
        messages.filter(pl.col("sender") != pl.col("recipient"))
        .group_by(week=WEEK, source=low, target=high)
        .agg(
            messages_out=(pl.col("sender") == low).sum(),
            messages_in=(pl.col("sender") == high).sum(),
        )
    )
    assigned = (
        task_events.filter((pl.col("fact") == "assigned") & pl.col("agent_id").is_not_null())
        .select("task_id", "agent_id", week=WEEK)
        .unique()
    )
    shared = (
        assigned.join(assigned, on=["week", "task_id"], suffix="_other")
        .filter(pl.col("agent_id") < pl.col("agent_id_other"))
        .group_by("week", source="agent_id", target="agent_id_other")
        .agg(shared_tasks=pl.len())
    )
    zero = pl.lit(0, pl.Int64)
    return (
        said.join(shared, on=list(_PAIR), how="full", coalesce=True)
        .with_columns(
            pl.col("messages_out", "messages_in", "shared_tasks").cast(pl.Int64).fill_null(zero)
        )
        .with_columns(
            weight=pl.col("messages_out") + pl.col("messages_in") + pl.col("shared_tasks"),
            reciprocity=pl.when(pl.max_horizontal("messages_out", "messages_in") > 0).then(
                pl.min_horizontal("messages_out", "messages_in")
                / pl.max_horizontal("messages_out", "messages_in")
            ),
        )
        .sort(*_PAIR)
    )


def _nodes(week: datetime, edges: pl.DataFrame) -> pl.DataFrame:
    """The node rows of one week's edges."""
    graph = nx.Graph()
    for source, target, weight in edges.select("source", "target", "weight").iter_rows():
        graph.add_edge(source, target, weight=weight, distance=1 / weight)
    betweenness = nx.betweenness_centrality(graph, weight="distance", normalized=True)
    ends = pl.concat(
        [
            edges.select(
                source=end,
                sent=sent,
                received=received,
                weight="weight",
                talked=(pl.col("messages_out") + pl.col("messages_in")) > 0,
                both_ways=(pl.col("messages_out") > 0) & (pl.col("messages_in") > 0),
            )
            for end, sent, received in (
                ("source", "messages_out", "messages_in"),
                ("target", "messages_in", "messages_out"),
            )
        ]
    )
    return (
        ends.group_by("source")
        .agg(
            degree=pl.len(),
            weighted_degree=pl.col("weight").sum(),
            messages_sent=pl.col("sent").sum(),
            messages_received=pl.col("received").sum(),
            reciprocity=pl.col("both_ways").filter("talked").mean(),
        )
        .with_columns(
            element=pl.lit("node"),
            week=pl.lit(week),
            betweenness=pl.col("source").replace_strict(betweenness, return_dtype=pl.Float64),
        )
    )


def summary(table: pl.DataFrame, top: int = 10) -> str:
    """Markdown for people: the latest week's parties, the most central first."""
    nodes = table.filter(pl.col("element") == "node")
    if nodes.is_empty():
        return "No messages or shared tasks yet."
    latest = nodes.filter(pl.col("week") == pl.col("week").max())
    week = latest.item(0, "week")
    edges = table.filter((pl.col("element") == "edge") & (pl.col("week") == week)).height
    ranked = latest.sort("betweenness", "weighted_degree", descending=True).head(top)
    lines = [
        f"Week of {week:%Y-%m-%d}: {latest.height} parties, {edges} links.",
        *markdown_table(
            ["party", "degree", "weight", "sent", "received", "reciprocity", "betweenness"],
            (
                (r["source"], r["degree"], r["weighted_degree"], r["messages_sent"],
                 r["messages_received"], share(r["reciprocity"]), f"{r['betweenness']:.2f}")
                for r in ranked.iter_rows(named=True)
            ),
        ),
    ]  # fmt: skip
    return "\n".join(lines)
