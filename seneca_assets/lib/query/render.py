"""Query answers on a terminal: a readable table for people, JSON for programs."""

from __future__ import annotations

import polars as pl

PEOPLE_ROWS = 50
"""Rows shown in a table for people (the JSON form has them all)."""


def as_text(frame: pl.DataFrame) -> str:
    """A table for people: up to PEOPLE_ROWS rows, long text cut, the row count below."""
    with pl.Config(
        tbl_rows=PEOPLE_ROWS,
        tbl_cols=14,
        tbl_width_chars=240,
        fmt_str_lengths=60,
        tbl_hide_dataframe_shape=True,
        tbl_formatting="ASCII_MARKDOWN",
        tbl_hide_column_data_types=True,
    ):
        shown = str(frame)
    more = f" (first {PEOPLE_ROWS} shown; --json for all)" if frame.height > PEOPLE_ROWS else ""
    return f"{shown}\n{frame.height:,} row(s){more}"


def as_json(frame: pl.DataFrame) -> str:
    """Every row as a JSON object in a list; times in ISO 8601."""
    return frame.write_json()
