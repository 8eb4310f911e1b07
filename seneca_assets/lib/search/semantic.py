"""Semantic search by latent semantic analysis, a model built from the corpus itself.

The texts that full-text search indexes are weighted by TF-IDF (sublinear term frequency,
smoothed inverse document frequency, rows of unit length) over the search tokens, and reduced
by a truncated SVD (scipy) to a few dozen dimensions in which words used in the same contexts
lie close together. A text is then near another when they mean the same, even in other words:
"messages like this one" compares a record's vector with every other, "queries by meaning" folds
the query's TF-IDF into the same space. No weights are downloaded and nothing leaves the
machine; the model is rebuilt on a schedule and kept in the lake as three Delta tables.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse.linalg import svds

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query.errors import QueryError, UnknownName
from seneca_assets.lib.search import tokens as T
from seneca_assets.lib.search.index import SOURCES
from seneca_assets.lib.search.tables import BUILDS, DOCUMENTS, SEMANTIC_TABLES, TERMS

TERMS_PER_DIMENSION = 5
MIN_DIMENSIONS, MAX_DIMENSIONS = 32, 300
"""The space has a dimension per five terms kept, within these bounds: measured on paraphrase
groups in three corpora, a fixed 64 dimensions found 0.35 to 0.87 of a paraphrase's group, a
fifth of the vocabulary 0.84 to 0.88 (docs/SEARCH.md)."""
MAX_TERMS = 50_000
MIN_DOCUMENT_FREQUENCY = 2
MAX_DOCUMENT_SHARE = 0.5
"""Terms in more than this share of the texts carry no meaning of their own."""


@dataclass(frozen=True)
class Model:
    """A built model: the terms with their idf and vectors, the documents with theirs."""

    terms: pl.DataFrame
    """`term`, `idf` (and `col`, the term's column)."""
    term_vectors: np.ndarray
    documents: pl.DataFrame
    """`source`, `id`, `time`, `agent`, `kind`, `text`."""
    document_vectors: np.ndarray


def _weights(tokens: pl.Series, terms: pl.DataFrame) -> sparse.csr_matrix:
    """TF-IDF rows of unit length for token lists, over the model's terms."""
    counted = (
        pl.DataFrame({"tokens": tokens})
        .with_row_index("row")
        .explode("tokens")
        .drop_nulls("tokens")
        .join(terms, left_on="tokens", right_on="term")
        .group_by("row", "col", "idf")
        .agg(tf=pl.len())
        .with_columns(w=(1 + pl.col("tf").cast(pl.Float64).log()) * pl.col("idf"))
    )
    matrix = sparse.csr_matrix(
        (
            counted.get_column("w").to_numpy(),
            (counted.get_column("row").to_numpy(), counted.get_column("col").to_numpy()),
        ),
        shape=(tokens.len(), terms.height),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.diags(1 / np.where(norms > 0, norms, 1)) @ matrix


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms > 0, norms, 1)).astype(np.float32)


def dimensions_for(terms: int) -> int:
    """How many dimensions a model of `terms` terms gets."""
    return min(MAX_DIMENSIONS, max(MIN_DIMENSIONS, terms // TERMS_PER_DIMENSION))


def build(documents: pl.DataFrame, dimensions: int | None = None) -> Model:
    """The model of `documents` (`source`, `id`, `time`, `agent`, `kind`, `text`).

    `dimensions` defaults to `dimensions_for` the number of terms kept.
    """
    tokens = T.token_lists(documents.get_column("text"))
    frequency = (
        pl.DataFrame({"tokens": tokens})
        .with_row_index("row")
        .explode("tokens")
        .drop_nulls("tokens")
        .unique()
        .group_by("tokens")
        .agg(df=pl.len())
    )
    n = documents.height
    terms = (
        frequency.filter(
            (pl.col("df") >= MIN_DOCUMENT_FREQUENCY) & (pl.col("df") <= MAX_DOCUMENT_SHARE * n)
        )
        .sort("df", "tokens", descending=[True, False])
        .head(MAX_TERMS)
        .sort("tokens")
        .select(
            term="tokens",
            idf=((n + 1) / (pl.col("df") + 1)).log() + 1,
        )
        .with_row_index("col")
        .with_columns(pl.col("col").cast(pl.Int64))
    )
    weights = _weights(tokens, terms)
    rank = min(dimensions or dimensions_for(terms.height), min(weights.shape) - 1)
    if rank < 1:
        return Model(
            terms, np.zeros((terms.height, 0), np.float32), documents, np.zeros((n, 0), np.float32)
        )
    _, singular, right = svds(weights, k=rank, random_state=0)
    order = np.argsort(singular)[::-1]
    term_vectors = right[order].T  # terms x dimensions
    return Model(terms, term_vectors.astype(np.float32), documents, _unit(weights @ term_vectors))


def save(lake: Lake, model: Model, versions: str) -> None:
    """Replace the model in the lake (three tables, each in one commit)."""
    terms = model.terms.select(
        "term", "idf", vector=pl.Series(model.term_vectors.tolist(), dtype=pl.List(pl.Float32))
    )
    documents = model.documents.select(
        "source", "id", "time", "agent", "kind", "text",
        vector=pl.Series(model.document_vectors.tolist(), dtype=pl.List(pl.Float32)),
    )  # fmt: skip
    built = pl.DataFrame(
        {
            "built_at": [datetime.now(UTC)],
            "documents": [model.documents.height],
            "terms": [model.terms.height],
            "dimensions": [model.term_vectors.shape[1]],
            "versions": [versions],
        },
        schema=BUILDS.schema,
    )
    for spec, frame in ((TERMS, terms), (DOCUMENTS, documents), (BUILDS, built)):
        lake.write(spec, frame.cast(spec.schema), mode="overwrite")


def load(lake: Lake) -> Model:
    """The model in the lake (cached per table versions); QueryError if none was built."""
    if not all(lake.exists(spec) for spec in SEMANTIC_TABLES):
        raise QueryError(
            "there is no semantic model yet: run `seneca run`, or materialize search/semantic"
        )
    versions = tuple(lake.table(spec).version() for spec in SEMANTIC_TABLES)
    return _load(lake.location, versions)


@functools.lru_cache(maxsize=2)
def _load(root: str, versions: tuple[int, ...]) -> Model:
    lake = Lake(root)
    terms = lake.read(TERMS).with_row_index("col").with_columns(pl.col("col").cast(pl.Int64))
    documents = lake.read(DOCUMENTS)
    return Model(
        terms.select("term", "idf", "col"),
        _matrix(terms.get_column("vector")),
        documents.drop("vector"),
        _matrix(documents.get_column("vector")),
    )


def _matrix(vectors: pl.Series) -> np.ndarray:
    if vectors.is_empty():
        return np.zeros((0, 0), np.float32)
    return np.asarray(vectors.to_list(), dtype=np.float32)


def _nearest(model: Model, vector: np.ndarray, limit: int, skip: int | None = None) -> pl.DataFrame:
    scores = model.document_vectors @ vector
    if skip is not None:
        scores[skip] = -np.inf
    top = np.argsort(-scores, kind="stable")[:limit]
    top = top[np.isfinite(scores[top])]
    return model.documents[top].with_columns(score=pl.Series(scores[top].astype(np.float64)))


def like(lake: Lake, record_id: str, limit: int = 10) -> pl.DataFrame:
    """The texts nearest in meaning to the record `record_id` (it excluded), nearest first."""
    model = load(lake)
    where = model.documents.with_row_index("at").filter(pl.col("id") == record_id)
    if where.is_empty():
        raise UnknownName(f"no text with id {record_id!r} in the semantic model")
    at = int(where.item(0, "at"))
    return _nearest(model, model.document_vectors[at], limit, skip=at)


def meaning(lake: Lake, text: str, limit: int = 10) -> pl.DataFrame:
    """The texts nearest in meaning to `text`, nearest first (none if no word of it is known)."""
    model = load(lake)
    weights = _weights(pl.Series([T.tokenize(text)], dtype=pl.List(pl.String)), model.terms)
    if weights.nnz == 0:
        return model.documents.clear().with_columns(score=pl.lit(0.0))
    vector = _unit(np.asarray(weights @ model.term_vectors))[0]
    return _nearest(model, vector, limit)


def corpus(lake: Lake) -> tuple[pl.DataFrame, str]:
    """The texts the model is built from, and the versions of their tables as JSON."""
    frames, versions = [], {}
    for source in SOURCES:
        if not lake.exists(source.table):
            continue
        table = lake.table(source.table)
        versions[source.name] = table.version()
        frames.append(
            source.documents(pl.scan_delta(table))
            .filter(pl.col("text").str.len_chars() > 0)
            .select("id", "time", "agent", "kind", "text", source=pl.lit(source.name))
            .collect()
        )
    documents = pl.concat(frames) if frames else DOCUMENTS.empty().drop("vector")
    return documents.select("source", "id", "time", "agent", "kind", "text"), json.dumps(versions)
