"""One in-process DuckDB for SQL over Arrow data in memory (no files, no extensions)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import duckdb
import polars as pl
import pyarrow as pa


@functools.cache
def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process; each use takes its own cursor.

    Results come out as Arrow string views, which Polars takes without copying the text. Each
    query runs on one thread: callers run several queries side by side, and on small inputs a
    query's own threads cost more than they bring (measured: same full build, faster small
    ones).
    """
    return duckdb.connect(config={"produce_arrow_string_view": True, "threads": 1})


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's DuckDB: safe to use from one thread; close it after use."""
    return _connection().cursor()


def _arrow(table: pl.DataFrame | pa.Table) -> pa.Table:
    """Arrow for DuckDB; Polars frames as string views, which DuckDB reads without a copy."""
    if isinstance(table, pl.DataFrame):
        return table.to_arrow(compat_level=pl.CompatLevel.newest())
    return table


def sql_frame(
    query: str, tables: Mapping[str, pl.DataFrame | pa.Table], params: list | None = None
) -> pl.DataFrame:
    """Run `query` over in-memory `tables` (registered by name) and return a Polars frame.

    The query text is the caller's constant; values go through `params`, bound by DuckDB.
    """
    con = cursor()
    try:
        for name, table in tables.items():
            con.register(name, _arrow(table))
        result = con.sql(query, params=params).to_arrow_table()
    finally:
        con.close()
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    return frame


def hex_ids(frame: pl.DataFrame, columns: list[str], name: str) -> pl.Series:
    """A stable 32-hex-digit identity per row: the MD5 of the named columns joined by NUL.

    MD5 here is an identity, not a protection: it is stable across versions (unlike Polars'
    hashes) and computed in bulk by DuckDB. Nulls count as empty text; times as microseconds.
    """
    if frame.is_empty():
        return pl.Series(name, [], dtype=pl.String)
    parts = frame.select(
        (
            pl.col(c).dt.epoch("us").cast(pl.String)
            if isinstance(frame.schema[c], pl.Datetime)
            else pl.col(c).cast(pl.String)
        ).fill_null("")
        for c in columns
    )
    keys = ", ".join(f'"{c}"' for c in columns)
    ids = sql_frame(f"SELECT md5(concat_ws(chr(0), {keys})) AS id FROM parts", {"parts": parts})
    return ids.to_series().alias(name)
