"""Read-only SQL over the lake's tables with DuckDB.

Only a single SELECT is run. The connection is opened with external access disabled and its
configuration locked, so a query can read no file, attach no database and install nothing; the
tables it names are registered from their Delta versions through Arrow. Parameters are bound by
DuckDB, never pasted into the text.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import duckdb
import polars as pl
import pyarrow.dataset as ds

from seneca_assets.lib.query.errors import QueryError, QueryTimeout, RefusedQuery, ResultTooLarge


@functools.lru_cache(maxsize=1024)
def parse(query: str) -> frozenset[str]:
    """Check that `query` is one SELECT (`check`) and return the table names it refers to."""
    check(query)
    return frozenset(tables_named(query))


def check(query: str) -> None:
    """Refuse anything but one SELECT; RefusedQuery says what was found instead."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse the SQL: {exc}") from None
    if len(statements) != 1:
        raise RefusedQuery(f"give exactly one SELECT statement, not {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise RefusedQuery(
            f"only read-only SELECT queries run here; this is a {kind.name} statement"
        )


def tables_named(query: str) -> set[str]:
    """The table names a SELECT refers to (CTE names included), read from its parsed form.

    DuckDB parses the text given as a bound parameter, without binding it, so `?` and `$name`
    placeholders are fine here.
    """
    con = duckdb.connect()
    try:
        row = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    finally:
        con.close()
    parsed = json.loads(row[0]) if row else {"error": True}
    if parsed.get("error"):
        raise QueryError(f"cannot parse the SQL: {parsed.get('error_message', 'unknown error')}")
    names: set[str] = set()
    _collect_tables(parsed, names)
    return names


def _collect_tables(node: object, names: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE" and isinstance(node.get("table_name"), str):
            names.add(node["table_name"])
        for value in node.values():
            _collect_tables(value, names)
    elif isinstance(node, list):
        for value in node:
            _collect_tables(value, names)


def database() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read no file and whose configuration cannot change.

    Each query takes a cursor of it (`run`): tables registered on a cursor are seen by that
    cursor only, and the settings hold for all of them.
    """
    con = duckdb.connect(config={"enable_external_access": False, "threads": 2})
    con.execute("SET lock_configuration = true")
    return con


def run(
    db: duckdb.DuckDBPyConnection,
    query: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
    datasets: Mapping[str, Callable[[], ds.Dataset]],
    max_rows: int,
    timeout_s: float,
) -> pl.DataFrame:
    """Run a checked SELECT on a cursor of `db` over the datasets it names (opened lazily)."""
    named = parse(query)
    paths = sorted(n for n in named - set(datasets) if any(c in n for c in "/\\.*"))
    if paths:
        raise RefusedQuery(
            f"the query reaches outside the lake's tables: reading files by path ({paths[0]}) "
            "is refused; name a lake table instead"
        )
    con = db.cursor()
    timer = threading.Timer(timeout_s, con.interrupt)
    try:
        for name in named & set(datasets):
            con.register(name, datasets[name]())
        timer.start()
        try:
            result = con.sql(query, params=params).limit(max_rows + 1).to_arrow_table()
        except duckdb.InterruptException:
            raise QueryTimeout(
                f"the query ran over {timeout_s:g} s and was stopped: narrow it, or raise "
                "SENECA_QUERY_TIMEOUT_S"
            ) from None
        except duckdb.PermissionException as exc:
            raise RefusedQuery(f"the query reaches outside the lake's tables: {exc}") from None
        except duckdb.CatalogException as exc:
            tables = ", ".join(sorted(n for n in datasets if "/" not in n))
            raise QueryError(f"{exc}; the tables are: {tables}") from None
        except duckdb.Error as exc:
            raise QueryError(f"the query failed: {exc}") from None
    finally:
        timer.cancel()
        con.close()
    if result.num_rows > max_rows:
        raise ResultTooLarge(
            f"the query returns more than {max_rows:,} rows: add a LIMIT or a WHERE, or raise "
            "max_result_size"
        )
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    return frame
