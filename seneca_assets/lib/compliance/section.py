"""The parts of a compliance report: a section per audit question, with its evidence.

The evidence behind an answer is a table and the query that produced it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import polars as pl

from seneca_assets.lib.compliance.period import Period
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.query import Lake as QueryLake
from seneca_assets.lib.schemas import TableSpec

Commits = Mapping[str, Mapping[int, int]]
"""Per table, the commit time (ms since the epoch) of each version its Delta log holds."""

Status = Literal["answered", "nothing", "missing", "attention", "failed"]
"""How a question was answered: with figures; with nothing in the period; without its tables
(nothing recorded ever); with something a reader must act on (a broken chain, a backup that did
not verify); or not at all (the error is the answer)."""


@dataclass(frozen=True)
class Evidence:
    """One table of a section and the query that produced it.

    `language` is `sql` for a query run through the SQL API (`Lake.sql(query, params)`, or
    `seneca sql QUERY --param ...`), or `python` for a call of the library shown as text.
    """

    caption: str
    query: str
    params: tuple[str, ...]
    frame: pl.DataFrame
    language: Literal["sql", "python"] = "sql"


@dataclass(frozen=True)
class Section:
    """The answer to one audit question."""

    key: str
    title: str
    question: str
    answer: str
    status: Status = "answered"
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Topic:
    """An audit question: the section's anchor, its title and the question in words."""

    key: str
    title: str
    question: str

    def answer(self, text: str, *evidence: Evidence, status: Status = "answered") -> Section:
        """The section answering this question with `text` and the tables behind it."""
        return Section(self.key, self.title, self.question, text, status, evidence)

    def missing(self, table: TableSpec, why: str) -> Section:
        """The answer when `table` does not exist: what is missing and what that means."""
        return self.answer(f"{table.name} does not exist in the lake: {why}", status="missing")


@dataclass
class Context:
    """What every question reads: the period, the lake pinned at the report's versions."""

    period: Period
    lake: QueryLake
    """Every table at the version the report reads (its versions at `built_at`)."""
    storage: StorageLake
    """The same lake for the library's own readers (the audit chain's verification)."""
    built_at: datetime
    commits: Commits
    """The lake's Delta logs when the report was built (`integrity.commit_times`)."""
    read: Mapping[str, int]
    """The version of each table the report reads: each table's version at `built_at`."""

    def ask(self, caption: str, query: str, params: Sequence[str] | None = None) -> Evidence:
        """Run `query` through the SQL API with `params` (the period's by default)."""
        bound = tuple(self.period.params if params is None else params)
        return Evidence(caption, query, bound, self.lake.sql(query, list(bound) or None))

    def absent(self, table: TableSpec) -> bool:
        """True when the lake does not hold `table` (at the versions the report reads)."""
        return self.lake.version(table) < 0


@dataclass(frozen=True)
class Counted:
    """How a question counts its records in the period, and what it says when there are none.

    Used as a decorator of `body(ctx, totals) -> Section`, it makes the question: a table missing
    from the lake answers `never`; a period whose totals are empty (a first figure of zero, or no
    group at all) answers `none`, with the query that found nothing; otherwise `body` answers,
    given the totals.
    """

    topic: Topic
    table: TableSpec
    query: str
    never: str
    none: str

    def __call__(
        self, body: Callable[[Context, Evidence], Section]
    ) -> Callable[[Context], Section]:
        """The question answered by `body` once there is something to count."""

        @functools.wraps(body)
        def question(ctx: Context) -> Section:
            if ctx.absent(self.table):
                return self.topic.missing(self.table, self.never)
            totals = ctx.ask("Totals", self.query)
            if totals.frame.is_empty() or totals.frame.item(0, 0) == 0:
                return self.topic.answer(self.none, totals, status="nothing")
            return body(ctx, totals)

        return question


def first_row(evidence: Evidence) -> dict[str, object]:
    """The first row of a totals query as a dict (a totals query always returns one row)."""
    return evidence.frame.row(0, named=True)


def count(value: object) -> str:
    """An integer figure with thousands separators (0 for a null sum)."""
    return f"{int(value or 0):,}"  # type: ignore[call-overload]


def counted(value: object, noun: str) -> str:
    """A count and its noun, plural unless the count is 1: `1 transaction`, `3 transactions`."""
    return f"{count(value)} {noun}{'' if value == 1 else 's'}"


def when(value: object) -> str:
    """A time as `2026-11-05 23:30:00 UTC`, or `never`."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S} UTC"
    return "never"
