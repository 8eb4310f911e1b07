"""Report sections on the work and the lake: conversations, collaboration, capacity."""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.analytics.capacity import LAKE
from seneca_assets.lib.analytics.tables import (
    CAPACITY,
    COLLABORATION_NETWORK,
    CONVERSATION_PATTERNS,
)
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.report.html import note, section, table
from seneca_assets.lib.report.sections import TABLE_ROWS, load
from seneca_assets.lib.report.text import MISSING, moment, number, p_value, share

TOP = 15
"""Topics, flows and signals listed."""


def conversations(lake: Lake) -> str:
    """What agents talk about, how a conversation moves, and what early on predicts success."""
    title = "Conversation patterns"
    found = load(lake, CONVERSATION_PATTERNS)
    if isinstance(found, str):
        return section("conversations", title, found)
    topics = found.filter((pl.col("pattern") == "topic") & pl.col("week").is_null()).head(TOP)
    flows = found.filter(pl.col("pattern") == "flow").sort("messages", descending=True).head(TOP)
    signals = found.filter(pl.col("pattern") == "signal").sort("p_value", nulls_last=True)
    return section(
        "conversations",
        title,
        note(
            "Topics: the words and phrases that top the most conversations by TF-IDF (ids, "
            "numbers and Marcus's template text left out). Flows: what follows what, from the "
            "first message to the outcome. Early signals: what the first 30 minutes of a task "
            "thread show, against how the thread ended (Fisher's exact test)."
        ),
        table(
            ["topic", "conversations", "mentions", "completed"],
            (
                [r["subject"], f"{r['conversations']:,}", f"{r['messages']:,}",
                 share(r["completion_rate"])]
                for r in topics.iter_rows(named=True)
            ),
            numeric=(1, 2, 3),
            caption="Leading topics",
        ),
        table(
            ["from", "to", "transitions", "share of 'from'", "median gap (s)"],
            (
                [r["from_state"], r["to_state"], f"{r['messages']:,}", share(r["score"]),
                 number(r["median_gap_s"])]
                for r in flows.iter_rows(named=True)
            ),
            numeric=(2, 3, 4),
            caption="Commonest flows",
        ),
        table(
            ["early signal", "threads", "completed with it", "without", "p-value", "note"],
            (
                [r["subject"], f"{r['conversations']:,}", share(r["completion_rate"]),
                 share(r["baseline_rate"]), p_value(r["p_value"]), r["reason"] or ""]
                for r in signals.head(TABLE_ROWS).iter_rows(named=True)
            ),
            numeric=(1, 2, 3, 4),
            caption="Early signals of a task's outcome",
        ),
    )  # fmt: skip


def network(lake: Lake) -> str:
    """Who works with whom in the latest week, the most central first."""
    title = "Collaboration network"
    found = load(lake, COLLABORATION_NETWORK)
    if isinstance(found, str):
        return section("network", title, found)
    week = found.sort("week").item(-1, "week")
    latest = found.filter(pl.col("week") == week)
    nodes = latest.filter(pl.col("element") == "node").sort(
        "betweenness", "weighted_degree", descending=True
    )
    edges = latest.filter(pl.col("element") == "edge").sort("weight", descending=True)
    weeks = found.get_column("week").n_unique()
    return section(
        "network",
        title,
        note(
            f"The week of {moment(week, hour=False)} (of {weeks:,}): {nodes.height:,} parties "
            f"and {edges.height:,} links by messages and shared tasks. Betweenness: how much of "
            "the shortest traffic between others passes through a party."
        ),
        table(
            ["party", "links", "weight", "sent", "received", "reciprocity", "betweenness"],
            (
                [r["source"], f"{r['degree']:,}", f"{r['weighted_degree']:,}",
                 f"{r['messages_sent']:,}", f"{r['messages_received']:,}",
                 share(r["reciprocity"]), number(r["betweenness"])]
                for r in nodes.head(TABLE_ROWS).iter_rows(named=True)
            ),
            numeric=(1, 2, 3, 4, 5, 6),
            caption="Parties",
        ),
        table(
            ["between", "and", "messages →", "messages ←", "shared tasks", "reciprocity"],
            (
                [r["source"], r["target"], f"{r['messages_out']:,}", f"{r['messages_in']:,}",
                 f"{r['shared_tasks']:,}", share(r["reciprocity"])]
                for r in edges.head(TABLE_ROWS).iter_rows(named=True)
            ),
            numeric=(2, 3, 4, 5),
            caption="Strongest links",
        ),
    )  # fmt: skip


def capacity(lake: Lake) -> str:
    """How fast each table grows in data time, and when the lake reaches its limit."""
    title = "Capacity"
    found = load(lake, CAPACITY)
    if isinstance(found, str):
        return section("capacity", title, found)
    total = found.filter(pl.col("table") == LAKE)
    tables = found.filter(pl.col("table") != LAKE).sort(
        "bytes_per_day", descending=True, nulls_last=True
    )
    lines = []
    if total.height:
        row = total.row(0, named=True)
        crossing = (
            f"reached on {moment(row['crosses_at'], hour=False)} "
            f"(earliest {moment(row['crosses_earliest'], hour=False)})"
            if row["crosses_at"]
            else "not reached within 10 years at this rate"
        )
        lines.append(
            note(
                f"The lake holds {number(row['bytes'])} bytes and grows by "
                f"{number(row['bytes_per_day'])} bytes a day; its limit of "
                f"{number(row['limit_bytes'])} bytes ({row['limit_basis']}) is {crossing}."
            )
        )
    lines.append(
        table(
            ["table", "bytes", "rows", "rows per day", "bytes per day", "trend", "limit alone",
             "note"],
            (
                [r["table"], number(r["bytes"]), f"{r['rows']:,}", number(r["rows_per_day"]),
                 number(r["bytes_per_day"]), r["growth_trend"],
                 moment(r["crosses_at"], hour=False) if r["crosses_at"] else MISSING,
                 r["reason"] or ""]
                for r in tables.iter_rows(named=True)
            ),
            numeric=(1, 2, 3, 4),
        )
    )  # fmt: skip
    return section("capacity", title, *lines)
