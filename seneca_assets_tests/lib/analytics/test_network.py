"""The collaboration network: exact links per week, and the hub found central."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.network import collaboration_network, summary
from seneca_assets.lib.analytics.tables import COLLABORATION_NETWORK

MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _messages(pairs: list[tuple[str, str, int]], at: datetime) -> pl.DataFrame:
    rows = [(at, sender, recipient) for sender, recipient, n in pairs for _ in range(n)]
    return pl.DataFrame(
        rows,
        schema={
            "event_time": pl.Datetime("us", "UTC"),
            "sender": pl.String,
            "recipient": pl.String,
        },
        orient="row",
    )


def _assigned(rows: list[tuple[str, str]], at: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [(at, task, "assigned", agent) for task, agent in rows],
        schema={
            "event_time": pl.Datetime("us", "UTC"),
            "task_id": pl.String,
            "fact": pl.String,
            "agent_id": pl.String,
        },
        orient="row",
    )


def test_links_and_centrality_per_week():
    said = pl.concat(
        [
            _messages(
                [("a1", "marcus", 6), ("marcus", "a1", 3), ("a2", "marcus", 4),
                 ("marcus", "kanban", 5), ("marcus", "marcus", 9)],
                MONDAY,
            ),
            _messages([("a2", "marcus", 2)], MONDAY + timedelta(days=7)),
        ]
    )  # fmt: skip
    # t1 went from a1 to a2 (a reassignment) this week; t2 was only ever a2's.
    tasks = _assigned([("t1", "a1"), ("t1", "a2"), ("t2", "a2")], MONDAY)
    now = MONDAY + timedelta(days=10)
    table = collaboration_network(said, tasks, now)
    assert table.schema == COLLABORATION_NETWORK.schema
    COLLABORATION_NETWORK.model.validate(table)
    first = table.filter(pl.col("week") == datetime(2026, 11, 2, tzinfo=UTC))
    edges = {
        (row["source"], row["target"]): row
        for row in first.filter(pl.col("element") == "edge").iter_rows(named=True)
    }
    # No self-links (Marcus thinking to itself); pairs are in sort order.
    assert set(edges) == {("a1", "marcus"), ("a2", "marcus"), ("kanban", "marcus"), ("a1", "a2")}
    assert (edges["a1", "marcus"]["messages_out"], edges["a1", "marcus"]["messages_in"]) == (6, 3)
    assert edges["a1", "marcus"]["reciprocity"] == 0.5 and edges["a2", "marcus"]["reciprocity"] == 0
    assert edges["a1", "a2"]["shared_tasks"] == 1 and edges["a1", "a2"]["weight"] == 1
    assert edges["a1", "a2"]["reciprocity"] is None
    nodes = {
        row["source"]: row
        for row in first.filter(pl.col("element") == "node").iter_rows(named=True)
    }
    assert set(nodes) == {"a1", "a2", "marcus", "kanban"}
    assert nodes["marcus"]["degree"] == 3 and nodes["a1"]["degree"] == 2
    assert (nodes["marcus"]["messages_sent"], nodes["marcus"]["messages_received"]) == (8, 10)
    assert nodes["marcus"]["reciprocity"] == 1 / 3  # of a1, a2 and kanban, only a1 both ways
    # Every path to the kanban board goes through Marcus, and the heavy a1-a2 path too.
    assert nodes["marcus"]["betweenness"] == max(n["betweenness"] for n in nodes.values()) > 0
    assert nodes["kanban"]["betweenness"] == 0
    second = table.filter(pl.col("week") == datetime(2026, 11, 9, tzinfo=UTC))
    assert second.filter(pl.col("element") == "edge").height == 1
    assert "Week of 2026-11-09: 2 parties, 1 links." in summary(table)


def test_no_activity_gives_an_empty_table():
    table = collaboration_network(_messages([], MONDAY), _assigned([], MONDAY), MONDAY)
    assert table.is_empty() and table.schema == COLLABORATION_NETWORK.schema
    assert summary(table) == "No messages or shared tasks yet."
