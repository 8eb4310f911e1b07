"""Conversation patterns: topics from content not boilerplate, exact flows, and early signals
that separate completed threads from failed ones; odd input gives rows, not exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.conversations import conversation_patterns, summary
from seneca_assets.lib.analytics.tables import CONVERSATION_PATTERNS
from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.model.tables import CONVERSATIONS

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
NOW = START + timedelta(days=14)


def _thread(k: int, subject: str, outcome: str, blocker_early: bool) -> dict[str, object]:
    """A task thread: request, assignment, progress (or an early blocker), then its end."""
    at = START + timedelta(hours=k)
    steps = [
        ("agent-1", "marcus", "request", "Requesting next task"),
        ("marcus", "agent-1", "assignment", f"Assigned task: {subject} task-{k:04d}"),
    ]
    if blocker_early:
        steps.append(("agent-1", "marcus", "blocker", f"Reporting blocker on {subject}"))
    steps.append(("agent-1", "marcus", "progress", f"Progress update: {subject} (50%)"))
    if outcome == "completed":
        steps.append(("agent-1", "marcus", "completion", "Task completed successfully (100%)"))
    messages = [
        {
            "message_id": f"{k:016x}{i:016x}",
            "timestamp": at + timedelta(minutes=5 * i),
            "sender": sender,
            "recipient": recipient,
            "kind": "worker_communication",
            "intent": intent,
            "text": text,
        }
        for i, (sender, recipient, intent, text) in enumerate(steps)
    ]
    return {
        "id": f"{k:032x}",
        "timestamp": at,
        "participants": ["agent-1", "marcus"],
        "messages": messages,
        "context": {"kind": "task", "task_id": f"task-{k:04d}", "agent_id": "agent-1"},
        "outcomes": {"status": outcome, "blockers": int(blocker_early)},
    }


def _conversations(rows: list[dict[str, object]]) -> pl.DataFrame:
    return conform(
        pl.DataFrame(rows, schema_overrides={"timestamp": pl.Datetime("us", "UTC")}),
        CONVERSATIONS.schema,
    )


def _corpus() -> pl.DataFrame:
    """40 threads: 16 on the payment gateway, 12 on calendar sync and 12 on the search index;
    blockers early in 10, of which 8 fail, and 2 of the other 30 fail."""
    subjects = ["payment gateway"] * 4 + ["calendar sync"] * 3 + ["search index"] * 3
    rows = []
    for k in range(40):
        subject = subjects[k % 10]
        blocked = k < 10
        failed = (blocked and k < 8) or k in (20, 30)
        rows.append(_thread(k, subject, "abandoned" if failed else "completed", blocked))
    return _conversations(rows)


def _thinking(k: int) -> dict[str, object]:
    """A session of Marcus thinking to itself, in its template."""
    at = START + timedelta(hours=k, minutes=30)
    return {
        "id": f"{1000 + k:032x}",
        "timestamp": at,
        "participants": ["marcus"],
        "messages": [
            {
                "message_id": f"{1000 + k:032x}",
                "timestamp": at,
                "sender": "marcus",
                "recipient": "marcus",
                "kind": "pm_thinking",
                "text": "Finding optimal task for agent-1 among the backlog",
            }
        ],
        "context": {"kind": "session", "agent_id": "agent-1"},
        "outcomes": {"status": "ended", "blockers": 0},
    }


def test_topics_are_the_content_not_the_boilerplate_or_ids():
    corpus = pl.concat([_corpus(), _conversations([_thinking(k) for k in range(20)])])
    table = conversation_patterns(corpus, NOW)
    assert table.schema == CONVERSATION_PATTERNS.schema
    CONVERSATION_PATTERNS.model.validate(table)
    topics = table.filter((pl.col("pattern") == "topic") & pl.col("week").is_null())
    subjects = topics.get_column("subject").to_list()
    assert {"payment gateway", "calendar sync"} <= set(subjects)
    assert subjects.index("payment gateway") < subjects.index("calendar sync")  # 16 before 12
    # Every thread says "Requesting next task"; ids and numbers are not topics either.
    assert not {"requesting", "next", "requesting next", "task-0001", "100"} & set(subjects)
    # Marcus's own thinking, in 20 of the 60 conversations, is how it works, not a topic.
    assert not {"optimal", "finding optimal", "backlog"} & set(subjects)
    gateway = topics.filter(pl.col("subject") == "payment gateway").row(0, named=True)
    assert gateway["conversations"] == 16 and len(gateway["examples"]) == 3
    weekly = table.filter((pl.col("pattern") == "topic") & pl.col("week").is_not_null())
    assert set(weekly.get_column("week")) == {START}


def test_flows_count_every_transition_from_start_to_the_outcome():
    table = conversation_patterns(_corpus(), NOW).filter(pl.col("pattern") == "flow")
    flows = {row["subject"]: row for row in table.iter_rows(named=True)}
    assert flows["start → request"]["messages"] == 40
    assert flows["request → assignment"]["messages"] == 40
    assert flows["assignment → blocker"]["messages"] == 10
    assert flows["blocker → progress"]["messages"] == 10
    assert flows["completion → end: completed"]["messages"] == 30
    assert flows["progress → end: abandoned"]["messages"] == 10
    assert flows["request → assignment"]["median_gap_s"] == 300
    shares = table.group_by("from_state").agg(pl.col("score").sum())
    assert shares.get_column("score").round(9).to_list() == [1.0] * shares.height


def test_an_early_blocker_is_found_to_predict_failure():
    table = conversation_patterns(_corpus(), NOW).filter(pl.col("pattern") == "signal")
    blocker = table.filter(pl.col("subject") == "blocker reported early").row(0, named=True)
    assert blocker["conversations"] == 10
    assert blocker["completion_rate"] == 0.2 and blocker["baseline_rate"] == 28 / 30
    assert blocker["score"] < 0 and blocker["p_value"] < 0.001
    # Progress is in every thread: nothing to compare it with, and the row says so.
    progress = table.filter(pl.col("subject") == "progress reported early").row(0, named=True)
    assert progress["p_value"] is None and "fewer than 5" in progress["reason"]
    assert "blocker reported early" in summary(conversation_patterns(_corpus(), NOW))


def test_odd_conversations_give_rows_not_exceptions():
    empty = conversation_patterns(_conversations([]), NOW)
    assert empty.is_empty() and empty.schema == CONVERSATION_PATTERNS.schema
    silent = _thread(1, "x", "in_progress", False) | {"messages": []}
    textless = _thread(2, "y", "completed", False)
    textless["messages"] = [m | {"text": None, "intent": None} for m in textless["messages"]]  # type: ignore[attr-defined]
    table = conversation_patterns(_conversations([silent, textless]), NOW)
    CONVERSATION_PATTERNS.model.validate(table)
    assert table.filter(pl.col("pattern") == "flow").get_column("messages").sum() == 5
    assert summary(table).startswith("0 leading topics")
