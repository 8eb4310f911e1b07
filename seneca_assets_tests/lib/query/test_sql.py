"""`Lake.sql`: read-only SELECTs over the lake's tables with bound parameters; everything that
would write or reach outside the lake is refused, and slow or huge answers are stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from seneca_assets.lib.config import QuerySettings
from seneca_assets.lib.query import Lake, QueryError, QueryTimeout, RefusedQuery, ResultTooLarge


def test_a_select_over_lake_tables_with_bound_parameters(built_lake: Path):
    lake = Lake(built_lake / "lake")
    counted = lake.sql(
        'SELECT m.kind, count(*) AS n FROM silver_messages m JOIN "silver/tasks" t '
        "USING (task_id) WHERE m.event_time >= ? GROUP BY ALL ORDER BY n DESC",
        ["2026-11-01"],
    )
    assert counted.height > 0 and counted.columns == ["kind", "n"]
    named = lake.sql(
        "SELECT count(*) AS n FROM silver_messages WHERE agent_id = $agent", {"agent": "x"}
    )
    assert named.item() == 0


def test_a_parameter_is_a_value_never_sql(built_lake: Path):
    lake = Lake(built_lake / "lake")
    sneaky = "x' OR '1'='1"
    assert lake.sql("SELECT count(*) FROM silver_messages WHERE agent_id = ?", [sneaky]).item() == 0
    total = lake.sql("SELECT count(*) FROM silver_messages").item()
    assert total > 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("CREATE TABLE t AS SELECT 1", "CREATE statement"),
        ("DROP TABLE silver_messages", "DROP statement"),
        ("INSERT INTO silver_messages SELECT * FROM silver_messages", "INSERT statement"),
        ("DELETE FROM silver_messages", "DELETE statement"),
        ("UPDATE silver_messages SET text = ''", "UPDATE statement"),
        ("COPY silver_messages TO '/tmp/out.csv'", "COPY statement"),
        ("ATTACH '/tmp/other.db' AS other", "ATTACH statement"),
        ("INSTALL httpfs", "statement"),
        ("LOAD httpfs", "LOAD statement"),
        ("SET threads = 1", "SET statement"),
        ("PRAGMA database_list", "PRAGMA statement"),
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "outside the lake"),
        ("SELECT * FROM '/etc/passwd'", "outside the lake"),
        ("SELECT * FROM read_parquet('data/lake/silver/messages/*.parquet')", "outside the lake"),
        ("SELECT * FROM glob('/etc/*')", "outside the lake"),
    ],
)
def test_writes_and_reaching_outside_the_lake_are_refused(
    built_lake: Path, query: str, message: str
):
    lake = Lake(built_lake / "lake")
    with pytest.raises(RefusedQuery, match=message):
        lake.sql(query)
    assert lake.sql("SELECT count(*) FROM silver_messages").item() > 0, "the lake is untouched"


def test_an_unknown_table_names_the_tables_there_are(built_lake: Path):
    lake = Lake(built_lake / "lake")
    with pytest.raises(QueryError, match="silver_messages"):
        lake.sql("SELECT * FROM no_such_table")
    with pytest.raises(QueryError, match="cannot parse"):
        lake.sql("SELEKT 1")


def test_a_slow_query_is_stopped_at_the_timeout(built_lake: Path):
    lake = Lake(built_lake / "lake", QuerySettings(timeout_s=0.3))
    with pytest.raises(QueryTimeout, match=r"ran over 0\.3 s"):
        lake.sql("SELECT count(*) FROM range(100000000000) a")
    assert lake.sql("SELECT 1 AS one").item() == 1


def test_a_huge_answer_is_refused_with_what_to_do(built_lake: Path):
    lake = Lake(built_lake / "lake", QuerySettings(max_result_size=10))
    with pytest.raises(ResultTooLarge, match="add a LIMIT"):
        lake.sql("SELECT * FROM silver_messages")
    assert lake.sql("SELECT * FROM silver_messages LIMIT 10").height == 10
