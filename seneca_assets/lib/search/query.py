"""Searching the full-text index: words, "phrases", prefixes (`migra*`), filters, BM25 order.

Every word must match, and the words side by side rank higher. A word that tokenizes into
several tokens (a CJK run, cut into bigrams) and a quoted phrase match as phrases; a word ending
in `*` matches tokens that start with it.
Queries are built from our tokens with tantivy's query constructors, never its parser, so no
character of the text has a meaning of its own: regex and query-syntax characters are plain
text. A text that is one record id finds that record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import tantivy

from seneca_assets.lib.query.errors import QueryError
from seneca_assets.lib.query.times import Moment, time_range
from seneca_assets.lib.search import index as I
from seneca_assets.lib.search import tokens as T

MAX_QUERY_CHARS = 1_000
"""Longer search text is refused: it is a document, not a query (use "messages like this")."""
MAX_RESULTS = 1_000

RESULT_SCHEMA = {
    "score": pl.Float64,
    "source": pl.String,
    "id": pl.String,
    "time": pl.Datetime("us", "UTC"),
    "kind": pl.String,
    "agent": pl.String,
    "task": pl.String,
    "snippet": pl.String,
    "text": pl.String,
}
_QUOTED = re.compile(r'"([^"]*)"')


@dataclass
class Parsed:
    """A search text as tantivy clauses, and what a snippet should mark."""

    clauses: list[tantivy.Query] = field(default_factory=list)
    boosts: list[tantivy.Query] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)


def parse(text: str, fields: tantivy.Schema) -> Parsed:
    """The clauses of a search text; QueryError if it is empty or too long."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the search text has {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}: "
            "search for its distinctive words"
        )
    parsed = Parsed()
    phrases = _QUOTED.findall(text)
    words = _QUOTED.sub(" ", text).split()
    pieces = [*phrases, *(w.rstrip("*") for w in words)]
    tokenized = T.tokens_of(pieces)
    for found in tokenized[: len(phrases)]:
        _add(parsed, fields, found, prefix=False)
    loose: list[str] = []
    for word, found in zip(words, tokenized[len(phrases) :], strict=True):
        prefix = word.endswith("*")
        _add(parsed, fields, found, prefix=prefix)
        if not prefix:
            loose += found
    if len(loose) > 1:  # the words side by side rank above the words apart
        parsed.boosts.append(tantivy.Query.phrase_query(fields, "tokens", list(loose)))
    if not parsed.clauses:
        raise QueryError(
            f'nothing to search for in {text!r}: give words, "a phrase", a prefix* or an id'
        )
    return parsed


def _add(parsed: Parsed, fields: tantivy.Schema, tokens: list[str], prefix: bool) -> None:
    if not tokens:
        return
    words: list[str | tuple[int, str]] = list(tokens)
    if prefix:
        parsed.clauses.append(tantivy.Query.phrase_prefix_query(fields, "tokens", words))
        parsed.matched.update(tokens[:-1])
        parsed.prefixes.append(tokens[-1])
    elif len(tokens) == 1:
        parsed.clauses.append(tantivy.Query.term_query(fields, "tokens", tokens[0]))
        parsed.matched.add(tokens[0])
    else:
        parsed.clauses.append(tantivy.Query.phrase_query(fields, "tokens", words))
        parsed.matched.update(tokens)


def _filters(
    fields: tantivy.Schema,
    sources: Sequence[str] | None,
    agent: str | None,
    kind: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[tantivy.Query]:
    """Filters that do not change the score."""
    quiet = []
    for name, value in (("agent", agent), ("kind", kind)):
        if value is not None:
            quiet.append(tantivy.Query.term_query(fields, name, value))
    if sources:
        unknown = sorted(set(sources) - {s.name for s in I.SOURCES})
        if unknown:
            names = ", ".join(s.name for s in I.SOURCES)
            raise QueryError(f"unknown search source(s) {unknown}: choose from {names}")
        quiet.append(
            tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, tantivy.Query.term_query(fields, "source", s))
                    for s in sources
                ]
            )
        )
    if start is not None or end is not None:
        low = int(start.timestamp() * 1e6) if start else -(2**63)
        high = int(end.timestamp() * 1e6) - 1 if end else 2**63 - 1
        quiet.append(
            tantivy.Query.range_query(fields, "time", tantivy.FieldType.Integer, low, high)
        )
    return [tantivy.Query.const_score_query(q, 0.0) for q in quiet]


def search(
    root: Path,
    text: str,
    *,
    sources: Sequence[str] | None = None,
    agent: str | None = None,
    kind: str | None = None,
    start: Moment | None = None,
    end: Moment | None = None,
    limit: int = 10,
    offset: int = 0,
) -> pl.DataFrame:
    """The best matches of `text` in the lake at `root`, best first, with snippets.

    Rows: `score`, `source` (messages, decisions, system_events), `id`, `time`, `kind`,
    `agent`, `task`, `snippet` (matches in «guillemets») and `text`.
    """
    if not 1 <= limit <= MAX_RESULTS or offset < 0:
        raise QueryError(f"limit must be within 1..{MAX_RESULTS:,} and offset not negative")
    first, last = time_range(start, end)
    index = I.open_index(root)
    if index is None:
        raise QueryError(
            "there is no search index yet: run `seneca run`, or materialize search/full_text"
        )
    fields = index.schema
    index.reload()
    searcher = index.searcher()
    filters = _filters(fields, sources, agent, kind, first, last)
    exact = text.strip()
    if exact and " " not in exact:
        by_id = tantivy.Query.term_query(fields, "id", exact)
        hits = searcher.search(_all([by_id, *filters]), limit, count=False, offset=offset).hits
        if hits:
            return _rows(searcher, hits, Parsed(matched=set(T.tokenize(exact))))
    parsed = parse(text, fields)
    found = _all([*parsed.clauses, *filters], parsed.boosts)
    hits = searcher.search(found, limit, count=False, offset=offset).hits
    return _rows(searcher, hits, parsed)


def _all(clauses: list[tantivy.Query], boosts: Sequence[tantivy.Query] = ()) -> tantivy.Query:
    """Every clause must match; each boost that matches adds to the score."""
    if len(clauses) == 1 and not boosts:
        return clauses[0]
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, q) for q in clauses] + [(tantivy.Occur.Should, q) for q in boosts]
    )


def _rows(searcher: tantivy.Searcher, hits: list, parsed: Parsed) -> pl.DataFrame:
    rows = []
    for score, address in hits:
        doc = searcher.doc(address).to_dict()
        row = {name: (doc.get(name) or [None])[0] for name in RESULT_SCHEMA if name != "snippet"}
        row["score"] = float(score)
        row["text"] = str(row["text"] or "")
        rows.append(row)
    marked = T.snippets([r["text"] for r in rows], parsed.matched, tuple(parsed.prefixes))
    for row, snippet in zip(rows, marked, strict=True):
        row["snippet"] = snippet
    raw: dict[str, Any] = {**RESULT_SCHEMA, "time": pl.Int64}
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    return frame.with_columns(pl.col("time").cast(pl.Datetime("us", "UTC")))
