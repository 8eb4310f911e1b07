"""The full-text search index, kept up to date with the silver tables it reads."""

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import follower
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key
from seneca_assets.lib.search.index import SOURCES, held_and_expected, update
from seneca_assets.lib.search.semantic import build, corpus, save
from seneca_assets.lib.search.tables import DOCUMENTS

SEARCH_KEY = dg.AssetKey(["search", "full_text"])
SEARCH_POOL = "seneca_search"
"""One index writer at a time (tantivy's lock file enforces it too)."""


@dg.asset(
    key=SEARCH_KEY,
    group_name="search",
    kinds={"tantivy"},
    deps=[table_key(source.table) for source in SOURCES],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("index_matches_silver", asset=SEARCH_KEY)],
    pool=SEARCH_POOL,
)
def full_text(context: dg.AssetExecutionContext, lake: LakeResource):
    """Full-text index of messages, decision rationales and system-event errors (tantivy).

    Adds what newer silver batches bring; rebuilds a source whose covered rows changed, and
    everything when the tokenizer changed. Kept under `<lake>/_search/full_text`, with the Delta
    version of each table it covers.
    """
    store = lake.lake()
    done = update(store)
    context.log.info(f"search index: added {done.added}, rebuilt {done.rebuilt or 'nothing'}")
    yield dg.MaterializeResult(
        metadata={
            "added": sum(done.added.values()),
            "rebuilt": ", ".join(done.rebuilt) or "nothing",
            "covered_versions": {
                k: v["version"] for k, v in done.covered.items() if k != "tokenizer"
            },
            "dagster/uri": str(store.root / "_search" / "full_text"),
        }
    )
    held, expected = held_and_expected(store)
    yield dg.AssetCheckResult(
        check_name="index_matches_silver",
        passed=held == expected,
        metadata={"documents": held, "expected": expected},
    )


search_automation = follower(
    "search_automation",
    "search",
    30,
    "Updates the search index whenever the silver tables it reads change.",
)

search_job = dg.define_asset_job(
    "search", selection=dg.AssetSelection.groups("search"), description="Update the search index."
)


SEMANTIC_KEY = dg.AssetKey(["search", "semantic"])


@dg.asset(
    key=SEMANTIC_KEY,
    group_name="search",
    kinds={"scipy", "delta"},
    deps=[table_key(source.table) for source in SOURCES],
    check_specs=[dg.AssetCheckSpec("every_text_has_a_vector", asset=SEMANTIC_KEY)],
    pool=SEARCH_POOL,
)
def semantic(context: dg.AssetExecutionContext, lake: LakeResource):
    """The semantic search model (TF-IDF reduced by truncated SVD), rebuilt from all the texts.

    Kept in gold/semantic_terms, gold/semantic_documents and gold/semantic_model.
    """
    store = lake.lake()
    documents, versions = corpus(store)
    model = build(documents)
    save(store, model, versions)
    context.log.info(
        f"semantic model: {documents.height:,} texts, {model.terms.height:,} terms, "
        f"{model.term_vectors.shape[1]} dimensions"
    )
    yield dg.MaterializeResult(
        metadata={
            "documents": documents.height,
            "terms": model.terms.height,
            "dimensions": int(model.term_vectors.shape[1]),
            "covered_versions": versions,
        }
    )
    stored = store.scan(DOCUMENTS).select(pl.len()).collect().item()
    yield dg.AssetCheckResult(
        check_name="every_text_has_a_vector",
        passed=stored == documents.height,
        metadata={"texts": documents.height, "vectors": stored},
    )


semantic_daily = dg.ScheduleDefinition(
    name="semantic_daily",
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    target=dg.AssetSelection.assets(SEMANTIC_KEY),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild the semantic search model from every text, daily at 03:00 UTC.",
)
