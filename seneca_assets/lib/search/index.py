"""The full-text index: a tantivy index in `<lake>/_search/full_text`, rebuilt from Delta.

Documents come from three silver tables: messages (their text), decisions (what was decided and
why) and system events (their errors). The index keeps, in one coverage document committed with
the data, the Delta version of each table it covers, the last ingestion batch taken from it,
how many documents that gave, and the tokenizer version. An update adds the rows of newer
batches; if a table's rows up to the covered batch no longer match the count (a rebuild, a
retention delete) or the tokenizer changed, that table's documents are rebuilt. Deleting the
folder loses nothing: the next update rebuilds it all.

tantivy was chosen by measurement over bm25s, a Delta postings table and plain scans
(docs/SEARCH.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import tantivy

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import DECISIONS, MESSAGES, SYSTEM_EVENTS
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.search import tokens as T

FOLDER = "_search/full_text"
"""Where the index lives under the lake root."""
LOCK_NAME = "search"
ANALYZER = "seneca_ws"
"""The index reads our token text split on spaces."""
COVERAGE = "coverage"
BATCH_ROWS = 100_000
"""Rows tokenized and added at a time, to bound memory."""
WRITER_HEAP = 256 * 2**20


@dataclass(frozen=True)
class Source:
    """A silver table whose rows become documents."""

    name: str
    table: TableSpec
    documents: Callable[[pl.LazyFrame], pl.LazyFrame]
    """Rows to documents: `id`, `time`, `kind`, `agent`, `task`, `text` (non-empty)."""


def _message_docs(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.select(
        id="message_id", time="event_time", kind="kind", agent="agent_id", task="task_id",
        text="text",
    )  # fmt: skip


def _decision_docs(rows: pl.LazyFrame) -> pl.LazyFrame:
    text = pl.concat_str(
        pl.col("decision").fill_null(""), pl.col("rationale").fill_null(""), separator="\n"
    )
    return rows.select(
        id="decision_id", time="event_time", kind=pl.lit("decision"), agent="agent_id",
        task="task_id", text=text.str.strip_chars(),
    )  # fmt: skip


def _error_docs(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.filter(pl.col("error").is_not_null()).select(
        id="event_id", time="event_time", kind="category",
        agent=pl.coalesce("agent_id", "actor"), task="task_id", text="error",
    )  # fmt: skip


SOURCES = (
    Source("messages", MESSAGES, _message_docs),
    Source("decisions", DECISIONS, _decision_docs),
    Source("system_events", SYSTEM_EVENTS, _error_docs),
)


def schema() -> tantivy.Schema:
    """The index's fields: filters as fast raw fields, tokens with positions, text stored."""
    builder = tantivy.SchemaBuilder()
    for name in ("key", "source", "id", "kind", "agent", "task"):
        builder.add_text_field(
            name, stored=True, fast=True, tokenizer_name="raw", index_option="basic"
        )
    builder.add_integer_field("time", stored=True, indexed=True, fast=True)
    builder.add_text_field("tokens", tokenizer_name=ANALYZER, index_option="position")
    builder.add_text_field("text", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_json_field("meta", stored=True)
    return builder.build()


def open_index(root: Path, create: bool = False) -> tantivy.Index | None:
    """The index of the lake at `root` (created if asked), with its analyzer registered.

    An index once opened is kept for the process and reloaded, unless its folder was replaced.
    """
    folder = root / FOLDER
    meta = folder / "meta.json"
    kept = _OPEN.get(folder)
    if kept is not None and meta.exists() and kept[0] == _identity(folder):
        kept[1].reload()
        return kept[1]
    index = _open(folder, create)
    if index is not None:
        _OPEN[folder] = (_identity(folder), index)
    return index


_OPEN: dict[Path, tuple[tuple[int, int], tantivy.Index]] = {}


def _identity(folder: Path) -> tuple[int, int]:
    """The folder's device and inode: a rebuilt index is a new folder."""
    stat = folder.stat()
    return stat.st_dev, stat.st_ino


def _open(folder: Path, create: bool) -> tantivy.Index | None:
    if not (folder / "meta.json").exists():
        if not create:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(schema(), path=str(folder))
    else:
        index = tantivy.Index.open(str(folder))
    index.register_tokenizer(
        ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
    )
    return index


def coverage(index: tantivy.Index) -> dict[str, Any]:
    """What the index covers: `tokenizer` and, per source, `version`, `batch` and `documents`."""
    index.reload()
    searcher = index.searcher()
    found = searcher.search(tantivy.Query.term_query(index.schema, "key", COVERAGE), 1).hits
    if not found:
        return {}
    meta = searcher.doc(found[0][1])["meta"][0]
    return dict(meta) if isinstance(meta, dict) else json.loads(meta)


@dataclass(frozen=True)
class IndexUpdate:
    """What an update did."""

    added: dict[str, int]
    rebuilt: list[str]
    covered: dict[str, Any]


def update(lake: Lake, rebuild: bool = False) -> IndexUpdate:
    """Bring the index up to the silver tables' current versions (see the module docstring)."""
    with lake.lock(LOCK_NAME):
        if rebuild:
            shutil.rmtree(lake.root / FOLDER, ignore_errors=True)
        index = open_index(lake.root, create=True)
        assert index is not None
        covered = coverage(index)
        if covered.get("tokenizer") != T.VERSION:
            covered = {"tokenizer": T.VERSION}
            rebuild_all = True
        else:
            rebuild_all = False
        writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        if rebuild_all:
            writer.delete_all_documents()
        added: dict[str, int] = {}
        rebuilt: list[str] = []
        for source in SOURCES:
            before = covered.get(source.name)
            version, rows = _pinned(lake, source)
            last = rows.select(pl.col("ingest_batch").max().fill_null(-1)).collect().item()
            count, fresh = _update_source(writer, index.schema, source, rows, before)
            added[source.name] = count
            if fresh:
                rebuilt.append(source.name)
            held = count if fresh or before is None else before["documents"] + count
            covered[source.name] = {"version": version, "batch": int(last), "documents": held}
        writer.delete_documents_by_term("key", COVERAGE)
        writer.add_document(
            tantivy.Document.from_dict({"key": COVERAGE, "meta": covered}, index.schema)
        )
        writer.commit()
        writer.wait_merging_threads()
    return IndexUpdate(added, rebuilt, covered)


def _pinned(lake: Lake, source: Source) -> tuple[int, pl.LazyFrame]:
    """The source table's current version and its rows at that version (one snapshot)."""
    if not lake.exists(source.table):
        return -1, source.table.empty().lazy()
    table = lake.table(source.table)
    return table.version(), pl.scan_delta(table)


def _update_source(
    writer: Any,
    fields: tantivy.Schema,
    source: Source,
    rows: pl.LazyFrame,
    covered: dict[str, Any] | None,
) -> tuple[int, bool]:
    """Add the source's new documents; rebuild its documents if the covered ones changed.

    Returns how many documents were added and whether the source was rebuilt.
    """
    fresh = covered is None
    if covered is not None:
        held = (
            source.documents(rows.filter(pl.col("ingest_batch") <= covered["batch"]))
            .filter(pl.col("text").str.len_chars() > 0)
            .select(pl.len())
            .collect()
            .item()
        )
        fresh = held != covered["documents"]
    if fresh:
        writer.delete_documents_by_term("source", source.name)
        new = rows
    else:
        assert covered is not None
        new = rows.filter(pl.col("ingest_batch") > covered["batch"])
    count = 0
    for batch in _batches(source.documents(new).filter(pl.col("text").str.len_chars() > 0)):
        count += batch.height
        for row in batch.iter_rows(named=True):
            writer.add_document(tantivy.Document.from_dict(_document(source.name, row), fields))
    return count, fresh


def _batches(documents: pl.LazyFrame) -> Iterator[pl.DataFrame]:
    frame = documents.collect()
    for offset in range(0, frame.height, BATCH_ROWS):
        part = frame.slice(offset, BATCH_ROWS)
        yield part.with_columns(
            tokens=T.token_text(part.get_column("text")),
            time=pl.col("time").dt.epoch("us"),
        )


def _document(source: str, row: dict[str, Any]) -> dict[str, Any]:
    document = {
        "key": f"{source}:{row['id']}",
        "source": source,
        "id": row["id"],
        "time": row["time"],
        "tokens": row["tokens"],
        "text": row["text"],
    }
    for field in ("kind", "agent", "task"):
        if row[field] is not None:
            document[field] = row[field]
    return document


def held_and_expected(lake: Lake) -> tuple[int, int]:
    """Documents in the index and documents its covered table versions give (equal when sound)."""
    index = open_index(lake.root)
    if index is None:
        return 0, 0
    covered = coverage(index)
    expected = 0
    for source in SOURCES:
        done = covered.get(source.name)
        if done is None or not lake.exists(source.table):
            continue
        rows = pl.scan_delta(lake.uri(source.table), version=done["version"])
        expected += (
            (source.documents(rows).filter(pl.col("text").str.len_chars() > 0).select(pl.len()))
            .collect()
            .item()
        )
    held = index.searcher().num_docs - 1  # the coverage document
    return held, expected
