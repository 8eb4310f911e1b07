"""Semantic search (LSA built from the corpus): messages like this one, queries by meaning,
measured on paraphrase groups beside plain BM25; the model kept in the lake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.query import QueryError, UnknownName
from seneca_assets.lib.search import semantic as S
from seneca_assets.lib.search.paraphrases import bm25_nearest, groups, recall_at
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


def _with_paraphrases(root: Path, size: int) -> pl.DataFrame:
    """The lake's texts (distinct, group -1) and paraphrase groups, as model documents."""
    background, _ = S.corpus(Lake(root / "lake"))
    texts = pl.concat(
        [
            groups(size=size, seed=1),
            background.select("text")
            .unique()
            .sort("text")
            .select(pl.lit(-1, pl.Int64).alias("group"), "text"),
        ]
    )
    return texts.with_columns(
        source=pl.lit("messages"), id=pl.int_range(pl.len()).cast(pl.String),
        time=pl.lit(None, pl.Datetime("us", "UTC")), agent=pl.lit(None, pl.String),
        kind=pl.lit(None, pl.String),
    )  # fmt: skip


def test_paraphrases_are_found_by_meaning_beside_bm25(built_lake: Path):  # noqa: F811
    documents = _with_paraphrases(built_lake, size=15)
    model = S.build(documents.drop("group"))
    vectors = model.document_vectors
    group_of = documents.get_column("group").to_numpy()
    queries = list(np.flatnonzero(group_of >= 0))

    def lsa(query: int) -> list[int]:
        return [int(i) for i in np.argsort(-(vectors @ vectors[query]), kind="stable")[:11]]

    semantic = recall_at(lsa, group_of, queries)
    plain = recall_at(bm25_nearest(documents.get_column("text")), group_of, queries)
    print(f"recall@10: LSA {semantic:.3f}, BM25 {plain:.3f}")
    assert semantic >= 0.8
    assert semantic >= plain


def test_like_and_meaning_from_the_model_in_the_lake(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    with pytest.raises(QueryError, match="no semantic model yet"):
        S.meaning(lake, "database migration failed")
    documents = _with_paraphrases(lake_copy, size=15)
    S.save(lake, S.build(documents.drop("group")), "{}")
    group_of = dict(zip(documents.get_column("id"), documents.get_column("group"), strict=True))
    near = S.meaning(lake, "the postgres schema change crashed halfway", limit=10)
    assert sum(group_of[i] == 0 for i in near.get_column("id")) >= 8
    assert near.get_column("score").is_sorted(descending=True)
    first = documents.filter(pl.col("group") == 1).item(0, "id")
    alike = S.like(lake, first, limit=10)
    assert first not in alike.get_column("id").to_list()
    assert group_of[alike.item(0, "id")] == 1
    assert sum(group_of[i] == 1 for i in alike.get_column("id")) >= 4
    assert S.meaning(lake, "zzzz qqqq").is_empty(), "no known word, no answer"
    with pytest.raises(UnknownName, match="no text with id"):
        S.like(lake, "no-such-id")
    built = lake.read(S.BUILDS)
    assert built.item(0, "documents") == documents.height
    assert built.item(0, "dimensions") == S.dimensions_for(built.item(0, "terms"))
