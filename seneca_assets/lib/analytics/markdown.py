"""Markdown tables for the summaries the analytics assets show in the Dagster UI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A value as a table cell: `|` escaped, line breaks as spaces, None as empty."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a markdown table, a blank line first so it stands apart from the text."""
    return [
        "",
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]


def share(value: float | None, digits: int = 0) -> str:
    """A share as a percentage, empty when there is none."""
    return "" if value is None else f"{value:.{digits}%}"


def number(value: float | None, digits: int = 3) -> str:
    """A number to `digits` significant digits, empty when there is none."""
    return "" if value is None else f"{value:.{digits}g}"
