"""Records: filters by agent, task, project and kind, newest first, in pages that never overlap;
and the lake as it was at a past moment or in a named snapshot."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib import snapshots
from seneca_assets.lib.config import QuerySettings
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.model.tables import MESSAGES, TASKS
from seneca_assets.lib.query import Lake, QueryError, ResultTooLarge
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets_tests.lib.model.pipeline import run_pipeline


def test_messages_filter_by_agent_kind_and_time(built_lake: Path):
    lake = Lake(built_lake / "lake")
    every = StorageLake(built_lake / "lake").read(MESSAGES)
    agent = every.get_column("agent_id").drop_nulls().mode().sort()[0]
    start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    found = lake.messages(
        agent=agent, kind="worker_communication", start=start, end=end, limit=10_000
    )
    expected = every.filter(
        (pl.col("agent_id") == agent)
        & (pl.col("kind") == "worker_communication")
        & pl.col("event_time").is_between(start, end, closed="left")
    )
    assert found.height == expected.height > 0
    assert found.get_column("event_time").is_sorted(descending=True)
    several = lake.messages(agent=[agent, "nobody"], limit=10_000)
    assert several.height == every.filter(pl.col("agent_id") == agent).height


def test_pages_cover_every_row_once(built_lake: Path):
    lake = Lake(built_lake / "lake")
    total = StorageLake(built_lake / "lake").read(TASKS).height
    pages = [lake.tasks(limit=7, offset=offset) for offset in range(0, total + 7, 7)]
    ids = pl.concat(pages).get_column("task_id")
    assert ids.len() == total and ids.n_unique() == total


def test_conversations_filter_by_their_context(built_lake: Path):
    lake = Lake(built_lake / "lake")
    threads = lake.conversations(kind="task", limit=10_000)
    assert threads.height > 0
    assert set(threads.get_column("context").struct.field("kind").to_list()) == {"task"}
    task = threads.get_column("context").struct.field("task_id")[0]
    mine = lake.conversations(task=task, limit=10_000)
    assert set(mine.get_column("context").struct.field("task_id").to_list()) == {task}


def test_a_filter_the_table_cannot_answer_is_refused(built_lake: Path):
    lake = Lake(built_lake / "lake")
    with pytest.raises(QueryError, match="silver/decisions has no project"):
        lake.decisions(project="p1")
    with pytest.raises(QueryError, match="offset must not be negative"):
        lake.messages(offset=-1)
    with pytest.raises(QueryError, match="no record table 'mesages'"):
        lake.records("mesages")


def test_a_page_larger_than_the_limit_is_refused(built_lake: Path):
    lake = Lake(built_lake / "lake", QuerySettings(max_result_size=100))
    with pytest.raises(ResultTooLarge, match="page with offset"):
        lake.messages(limit=101)
    assert lake.messages(limit=None).height == 100


def test_as_of_reads_the_lake_as_it_was(tmp_path: Path):
    simulate_deployment(tmp_path / "logs", days=1, agents=2, seed=3)
    storage = run_pipeline(tmp_path / "logs", tmp_path / "lake")
    snapshots.take(storage, "before-more")
    before = datetime.now(UTC)
    counts = {spec: storage.read(spec).height for spec in (MESSAGES, TASKS)}
    time.sleep(0.05)
    later = datetime(2026, 11, 5, tzinfo=UTC)
    simulate_deployment(tmp_path / "logs" / "later", days=1, agents=2, seed=4, start=later)
    run_pipeline(tmp_path / "logs", tmp_path / "lake")
    lake = Lake(tmp_path / "lake")
    for past in (lake.as_of(before), lake.as_of("before-more")):
        assert past.sql("SELECT count(*) AS n FROM silver_messages").item() == counts[MESSAGES]
        assert past.sql('SELECT count(*) AS n FROM "silver/tasks"').item() == counts[TASKS]
        assert past.messages(start="2026-11-05", limit=10).is_empty()
    assert lake.sql("SELECT count(*) AS n FROM silver_messages").item() > counts[MESSAGES]
    # Before the lake existed, every table reads as empty.
    empty = lake.as_of(datetime(2020, 1, 1, tzinfo=UTC))
    assert empty.sql("SELECT count(*) AS n FROM silver_messages").item() == 0
    assert empty.tasks().is_empty()
    with pytest.raises(ValueError, match="already exists"):
        snapshots.take(storage, "before-more")
