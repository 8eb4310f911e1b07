"""`seneca query`, `seneca sql` and `seneca tables`: tables for people, JSON for programs, and
one clear line with exit code 2 for a query that cannot be answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _seneca(lake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seneca_assets.cli", *args, "--lake", str(lake)],
        capture_output=True,
        text=True,
        env=os.environ | {"DAGSTER_HOME": ""},
        check=False,
        timeout=120,
    )


def test_tables_and_records_as_json_and_as_a_table(built_lake: Path):
    lake = built_lake / "lake"
    listed = _seneca(lake, "tables", "--json")
    assert listed.returncode == 0, listed.stderr
    catalogue = {row["table"]: row for row in json.loads(listed.stdout)}
    assert catalogue["silver/messages"]["rows"] > 0
    people = _seneca(lake, "query", "tasks", "--kind", "completed", "--limit", "3")
    assert people.returncode == 0, people.stderr
    assert "| task_id" in people.stdout and "3 row(s)" in people.stdout
    rows = json.loads(_seneca(lake, "query", "messages", "--kind", "pm_decision", "--json").stdout)
    assert len(rows) == 20 and {row["kind"] for row in rows} == {"pm_decision"}


def test_metrics_and_sql_from_the_command(built_lake: Path):
    lake = built_lake / "lake"
    names = json.loads(
        _seneca(
            lake, "sql", "SELECT DISTINCT name FROM gold_metrics_daily ORDER BY name", "--json"
        ).stdout
    )
    name = names[0]["name"]
    answer = _seneca(
        lake, "query", "metrics", name, "--start", "2026-11-01", "--end", "2026-11-04",
        "--resolution", "daily", "--agg", "count,p95", "--json",
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    days = json.loads(answer.stdout)
    assert len(days) == 3 and set(days[0]) == {"time", "count", "p95", "resolution"}
    counted = _seneca(
        lake, "sql", "SELECT count(*) AS n FROM silver_messages WHERE kind = ?",
        "--param", "pm_decision", "--json",
    )  # fmt: skip
    assert json.loads(counted.stdout)[0]["n"] > 0


def test_what_cannot_be_answered_is_one_line_and_exit_code_2(built_lake: Path):
    lake = built_lake / "lake"
    for args, expected in (
        (["sql", "DELETE FROM silver_messages"], "only read-only SELECT"),
        (["sql", "SELECT * FROM read_csv('/etc/passwd')"], "outside the lake"),
        (["query", "tasks", "--start", "2026-11-05", "--end", "2026-11-01"], "before or when"),
        (["query", "metrics", "x", "--start", "last tuesday"], "cannot read 'last tuesday'"),
        (["query", "metrics", "x", "--tag", "agent"], "KEY=VALUE"),
    ):
        run = _seneca(lake, *args)
        assert run.returncode == 2, (args, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("query error:") and expected in lines[0]
    unknown = _seneca(lake, "query", "metrics", "no.such.metric", "--start", "2026-11-01")
    assert unknown.returncode == 0 and "0 row(s)" in unknown.stdout
    assert "no metric named 'no.such.metric'" in unknown.stderr
    missing = _seneca(built_lake / "nowhere", "tables")
    assert missing.returncode == 2 and "configuration error: lake folder" in missing.stderr


def test_search_from_the_command(built_lake: Path):
    from seneca_assets.lib.lake import Lake as StorageLake
    from seneca_assets.lib.search.index import update

    lake = built_lake / "lake"
    update(StorageLake(lake))
    found = _seneca(lake, "search", "progress update", "--limit", "3", "--json")
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert len(rows) == 3 and all("«" in row["snippet"] for row in rows)
    people = _seneca(lake, "search", '"progress update"', "--source", "messages")
    assert "| score" in people.stdout and "row(s)" in people.stdout
    empty = _seneca(lake, "search", "")
    assert empty.returncode == 2 and "nothing to search for" in empty.stderr


def test_search_by_meaning_and_like_a_record(built_lake: Path):
    from seneca_assets.lib.lake import Lake as StorageLake
    from seneca_assets.lib.search import semantic

    store = StorageLake(built_lake / "lake")
    documents, versions = semantic.corpus(store)
    semantic.save(store, semantic.build(documents), versions)
    meant = _seneca(built_lake / "lake", "search", "task progress", "--meaning", "--json")
    assert meant.returncode == 0, meant.stderr
    rows = json.loads(meant.stdout)
    assert len(rows) == 10
    alike = _seneca(
        built_lake / "lake", "search", "--like", rows[0]["id"], "--limit", "3", "--json"
    )
    assert [row["id"] for row in json.loads(alike.stdout)] != [] and rows[0][
        "id"
    ] not in alike.stdout
    missing = _seneca(built_lake / "lake", "search", "--like", "nope")
    assert missing.returncode == 2 and "no text with id 'nope'" in missing.stderr


def test_sql_reads_the_lake_as_of_a_snapshot(lake_copy: Path):
    from seneca_assets.lib import snapshots
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import MESSAGES

    lake = lake_copy / "lake"
    storage = Lake(lake)
    before = storage.read(MESSAGES).height
    snapshots.take(storage, "before-cleanup")
    storage.delete(MESSAGES, "kind = 'pm_decision'")
    count = "SELECT count(*) AS n FROM silver_messages"
    now = json.loads(_seneca(lake, "sql", count, "--json").stdout)
    then = json.loads(_seneca(lake, "sql", count, "--as-of", "before-cleanup", "--json").stdout)
    assert then == [{"n": before}] and now[0]["n"] < before
