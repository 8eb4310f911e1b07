"""Conversation tiers: conversations and their messages move hot → warm → cold → deleted with
their age, failed or blocked ones and those spanning an anomaly stay hotter, held ones never
move, a move interrupted half-way completes without duplicates, the activity rollups never
notice, and the warm tier has its own search path."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.cli import main
from seneca_assets.lib import holds as H
from seneca_assets.lib import tiering
from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import CONVERSATIONS, MESSAGES
from seneca_assets.lib.query.errors import QueryError
from seneca_assets.lib.rollup_build import stale_hours
from seneca_assets.lib.search.warm import search_warm
from seneca_assets.lib.tier_tables import (
    ARCHIVE_MESSAGES,
    CONVERSATION_FLAGS,
    TIER_TABLES,
    WARM_CONVERSATIONS,
    WARM_MESSAGES,
)
from seneca_assets_tests.lib.query.conftest import START, built_lake, lake_copy  # noqa: F401

END = START + timedelta(days=3)


def _ids(lake: Lake, tier: str) -> set[str]:
    table = TIER_TABLES[tier][0]
    return set(lake.read(table).get_column("id")) if lake.exists(table) else set()


def _kept_hotter(lake: Lake) -> set[str]:
    rows = lake.read(CONVERSATIONS)
    outcome = rows.get_column("outcomes").struct
    kept = outcome.field("status").is_in(tiering.KEPT_STATUSES) | (
        outcome.field("blockers").fill_null(0) > 0
    )
    return set(rows.filter(kept).get_column("id"))


def _open(lake: Lake) -> set[str]:
    rows = lake.read(CONVERSATIONS)
    return set(rows.filter(rows["outcomes"].struct.field("status") == "in_progress")["id"])


def _all_messages(lake: Lake) -> pl.DataFrame:
    return pl.concat([lake.read(m) for _, m in TIER_TABLES.values() if lake.exists(m)])


def test_conversations_move_with_their_messages_through_every_tier(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    everyone = _ids(lake, "hot")
    said = lake.read(MESSAGES).sort("message_id")
    kept, still_open = _kept_hotter(lake), _open(lake)
    assert kept and everyone - kept - still_open, "the fixture has both kinds"

    log = tiering.move(lake, END + timedelta(days=40))
    assert _ids(lake, "warm") == everyone - kept - still_open
    assert _ids(lake, "hot") == kept | still_open
    assert {"silver/conversations", "warm/conversations"} <= set(log.get_column("table"))
    # Every message is in exactly one tier, and the hot ones are those of hot conversations.
    assert _all_messages(lake).sort("message_id").equals(said)
    hot_refs = lake.read(CONVERSATIONS).select(
        pl.col("messages").list.eval(pl.element().struct.field("message_id"))
    )
    assert set(lake.read(MESSAGES)["message_id"]) <= set(hot_refs.explode("messages")["messages"])
    # Activity is counted from every tier: no hour looks stale after the move.
    assert stale_hours(lake, END) == []
    assert tiering.move(lake, END + timedelta(days=40)).is_empty(), "a second run moves nothing"

    tiering.move(lake, END + timedelta(days=2 * 365))
    assert _ids(lake, "cold") == everyone - kept - still_open
    assert _ids(lake, "warm") == kept
    tiering.move(lake, END + timedelta(days=8 * 365))
    assert _ids(lake, "cold") == everyone - still_open
    tiering.move(lake, END + timedelta(days=11 * 365))
    assert _ids(lake, "cold") == set() and _ids(lake, "warm") == set()
    assert _ids(lake, "hot") == still_open
    assert lake.read(ARCHIVE_MESSAGES).is_empty()


def test_held_conversations_never_move_or_go(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    rows = lake.read(CONVERSATIONS)
    task = rows["context"].struct.field("task_id").drop_nulls()[0]
    held = set(rows.filter(rows["context"].struct.field("task_id") == task)["id"])
    H.place(lake, "task", task, "litigation hold", START)
    tiering.move(lake, END + timedelta(days=11 * 365))
    assert held <= _ids(lake, "hot")
    assert _ids(lake, "hot") == held | _open(lake)


def test_a_conversation_spanning_an_anomaly_stays_hot(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    rows = lake.read(CONVERSATIONS)
    calm = rows.filter(
        ~rows["id"].is_in(list(_kept_hotter(lake) | _open(lake)))
        & (rows["timestamp"] > START + timedelta(hours=6))
    ).row(0, named=True)
    hour = calm["timestamp"].replace(minute=0, second=0, microsecond=0)
    anomaly = {
        "name": "tool_call_duration_ms", "tags": "{}", "bucket": hour, "value": 9.0,
        "expected": 1.0, "lower": 0.0, "upper": 2.0, "score": 12.0, "is_anomaly": True,
        "method": "seasonal", "reason": "above", "computed_at": hour,
    }  # fmt: skip
    lake.write(METRIC_ANOMALIES, pl.DataFrame([anomaly]).cast(METRIC_ANOMALIES.schema))
    assert tiering.flag_anomalies(lake, END) >= 1
    assert calm["id"] in set(lake.read(CONVERSATION_FLAGS)["conversation_id"])
    assert tiering.flag_anomalies(lake, END) == 0, "flags are recorded once"
    tiering.move(lake, END + timedelta(days=40))
    assert calm["id"] in _ids(lake, "hot")


def test_a_move_interrupted_after_its_copy_completes_without_duplicates(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    said = lake.read(MESSAGES).height
    now = END + timedelta(days=40)
    planned = tiering.targets(
        tiering._conversations(lake, CONVERSATIONS), pl.Series([], dtype=pl.String), {}, now
    )
    moving = planned.filter(pl.col("target") == "warm").get_column("id")
    # The crash: the warm copy was written, the hot rows not yet deleted.
    copied = lake.read(CONVERSATIONS).filter(pl.col("id").is_in(moving.implode()))
    lake.write(WARM_CONVERSATIONS, copied)
    tiering.move(lake, now)
    warm = lake.read(WARM_CONVERSATIONS)
    assert warm.height == warm["id"].n_unique() == moving.len()
    assert not set(moving) & _ids(lake, "hot")
    assert _all_messages(lake).height == said


def test_the_warm_tier_is_searched_by_its_own_path(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    tiering.move(lake, END + timedelta(days=40))
    warm = lake.read(WARM_MESSAGES).filter(pl.col("text").str.len_chars() > 20)
    sample = warm.row(0, named=True)
    words = sample["text"].split()[:2]
    found = search_warm(lake, " ".join(words), limit=50)
    assert sample["message_id"] in set(found["id"])
    assert found["source"].unique().to_list() == ["messages (warm)"]
    lowered = [t.lower() for t in found["text"]]
    assert all(all(w.lower().strip(".,:;!?") in t for w in words) for t in lowered)
    assert search_warm(lake, "zzzqqqxxyy").is_empty()
    with pytest.raises(QueryError, match="at least one word"):
        search_warm(lake, "  ")


def test_holds_retention_and_warm_search_from_the_command_line(
    lake_copy: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
):
    lake_dir = str(lake_copy / "lake")
    lake = Lake(lake_dir)
    agent = lake.read(MESSAGES)["agent_id"].drop_nulls()[0]
    place = ["hold", "place", agent, "--kind", "agent", "--reason", "matter 7", "--lake", lake_dir]
    assert main(place) == 0
    assert (
        main(["hold", "place", "x'; --", "--kind", "agent", "--reason", "r", "--lake", lake_dir])
        == 2
    )
    assert "is not an id" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["hold", "list", "--json", "--lake", lake_dir]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["subject"] == agent and listed["released_at"] is None
    assert main(["retention", "policies", "--json", "--lake", lake_dir]) == 0
    policies = json.loads(capsys.readouterr().out)
    assert {"class": "debug events", "table": "silver/system_events", "keep_days": 7} in [
        {k: p[k] for k in ("class", "table", "keep_days")} for p in policies
    ]
    assert main(["retention", "run", "--lake", lake_dir]) == 0
    assert "table" in capsys.readouterr().out  # a year on, the fixture's debug events went
    tiering.move(lake, END + timedelta(days=40))
    text = lake.read(WARM_MESSAGES).filter(pl.col("text").str.len_chars() > 20)["text"][0]
    word = max(text.split(), key=len).strip(".,:;!?()'\"")
    assert main(["search", word, "--tier", "warm", "--json", "--lake", lake_dir]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all(r["source"] == "messages (warm)" for r in found)
    # The held agent's conversations stayed hot: none of its messages is found warm.
    assert agent not in {r["agent"] for r in found}


def test_a_move_of_tens_of_thousands_of_rows_is_one_commit_per_table(tmp_path: Path):
    """Keys go to Delta as a merge: a predicate listing 50,000 ids crashed delta-rs."""
    lake = Lake(tmp_path / "lake")
    ids = [f"{n:032x}" for n in range(60_000)]
    frame = pl.DataFrame({"message_id": ids}).with_columns(
        event_id=pl.col("message_id"), event_time=pl.lit(START), kind=pl.lit("pm_thinking"),
        conversation_type=pl.lit("internal_thinking"), sender=pl.lit("marcus"),
        recipient=pl.lit("marcus"), intent=pl.lit("thinking"), ingest_batch=pl.lit(1),
    )  # fmt: skip
    lake.write(MESSAGES, pl.concat([MESSAGES.empty(), frame], how="diagonal_relaxed"))
    version = lake.table(MESSAGES).version()
    gone = lake.delete_keys(MESSAGES, "message_id", pl.Series(ids[:50_000]))
    assert gone == 50_000 and lake.table(MESSAGES).version() == version + 1
    assert sorted(lake.read(MESSAGES)["message_id"]) == ids[50_000:]


def test_a_conversation_without_times_never_moves(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    rows = tiering._conversations(lake, CONVERSATIONS).head(3)
    timeless = rows.with_columns(
        last_activity_at=pl.lit(None, dtype=rows.schema["last_activity_at"]),
        timestamp=pl.lit(None, dtype=rows.schema["timestamp"]),
    )
    planned = tiering.targets(
        pl.concat([rows, timeless.with_columns(id=pl.lit("x") + pl.col("id").str.slice(1))]),
        pl.Series([], dtype=pl.String), {}, END + timedelta(days=20 * 365),
    )  # fmt: skip
    assert planned["target"].to_list() == ["deleted"] * 3 + [None] * 3
