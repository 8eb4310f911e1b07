"""Paraphrase groups: messages written from one intent in different words, to measure search.

Each intent has a few sentence frames and, per slot, words that mean the same there. A group is
distinct sentences drawn from one intent, so members share meaning more than words. Recall@k of
"messages like this one" is the share of a message's group that comes back in the first k.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy import sparse

from seneca_assets.lib.search import tokens as T

INTENTS: list[tuple[list[str], dict[str, list[str]]]] = [
    (
        ["the {db} {move} {fail}", "{fail}: {db} {move}", "heads up, {move} of the {db} {fail}"],
        {
            "db": ["database", "postgres instance", "db", "sql store", "data store"],
            "move": [
                "migration",
                "schema change",
                "schema upgrade",
                "alembic revision",
                "table alteration",
            ],
            "fail": ["failed", "broke", "errored out", "did not apply", "crashed halfway"],
        },
    ),
    (
        ["{auth} {done} for the {ui}", "{ui} now has {auth}, {done}", "{done}: {auth} on the {ui}"],
        {
            "auth": ["login", "sign-in", "authentication", "oauth flow", "single sign on"],
            "done": ["finished", "completed", "wrapped up", "shipped", "done and merged"],
            "ui": ["frontend", "web app", "dashboard", "client", "user interface"],
        },
    ),
    (
        [
            "{wait} on {dep} before I can {go}",
            "cannot {go}, {wait} on {dep}",
            "{dep} missing, {wait}",
        ],
        {
            "wait": ["blocked", "stuck", "waiting", "held up", "stalled"],
            "dep": [
                "the api keys",
                "credentials",
                "secrets from ops",
                "vault access",
                "the access token",
            ],
            "go": ["continue", "proceed", "move forward", "carry on", "make progress"],
        },
    ),
    (
        [
            "{tests} are {flaky} in {ci}",
            "{ci} shows {flaky} {tests}",
            "{flaky} {tests} again on {ci}",
        ],
        {
            "tests": ["unit tests", "integration tests", "test suite", "specs", "pytest cases"],
            "flaky": [
                "flaky",
                "intermittently failing",
                "unstable",
                "nondeterministic",
                "randomly red",
            ],
            "ci": [
                "the pipeline",
                "github actions",
                "continuous integration",
                "the build server",
                "jenkins",
            ],
        },
    ),
    (
        [
            "{speed} the {query} with an {idx}",
            "added an {idx} to {speed} the {query}",
            "{query} {speed} via {idx}",
        ],
        {
            "speed": ["speed up", "optimize", "accelerate", "make faster", "tune"],
            "query": ["report query", "slow select", "search endpoint", "lookup", "join"],
            "idx": ["index", "btree index", "covering index", "composite key", "lookup table"],
        },
    ),
    (
        ["{mem} {leak} in the {worker}", "the {worker} {leak} {mem}", "{worker}: {mem} {leak}"],
        {
            "mem": ["memory", "ram", "heap", "resident set", "allocations"],
            "leak": [
                "keeps growing",
                "leaks",
                "balloons",
                "is never freed",
                "climbs without bound",
            ],
            "worker": [
                "background worker",
                "celery task",
                "queue consumer",
                "job runner",
                "daemon",
            ],
        },
    ),
    (
        ["{deploy} to {env} {ok}", "{env} {deploy} {ok}", "{ok}: {deploy} on {env}"],
        {
            "deploy": ["deployment", "release", "rollout", "ship", "push"],
            "env": ["production", "prod", "the live cluster", "kubernetes", "the servers"],
            "ok": ["succeeded", "went fine", "is healthy", "completed cleanly", "looks good"],
        },
    ),
    (
        ["{doc} the {api} {ref}", "wrote {ref} {doc} for the {api}", "{api} {ref} {doc}"],
        {
            "doc": ["documented", "wrote docs for", "described", "explained", "annotated"],
            "api": ["rest api", "endpoints", "routes", "http interface", "graphql schema"],
            "ref": ["reference", "openapi spec", "swagger page", "usage guide", "examples"],
        },
    ),
    (
        ["{pay} {gw} {down}", "the {gw} for {pay} is {down}", "{down}: {pay} {gw}"],
        {
            "pay": ["payment", "checkout", "billing", "invoice", "card charge"],
            "gw": ["gateway", "provider", "stripe integration", "processor", "webhook"],
            "down": ["timing out", "returning 500s", "unreachable", "rejecting requests", "down"],
        },
    ),
    (
        [
            "{cache} {stale} after {update}",
            "{update} left the {cache} {stale}",
            "{stale} {cache} since {update}",
        ],
        {
            "cache": ["cache", "redis entries", "memoized values", "cdn copy", "cached pages"],
            "stale": ["stale", "outdated", "not invalidated", "serving old data", "out of date"],
            "update": [
                "the update",
                "the last write",
                "the edit",
                "saving the profile",
                "the change",
            ],
        },
    ),
    (
        ["{review} the {pr} for {sec}", "{sec} {review} of the {pr}", "{pr} needs {sec} {review}"],
        {
            "review": ["review", "audit", "look over", "inspection", "sign-off"],
            "pr": ["pull request", "merge request", "patch", "diff", "changeset"],
            "sec": ["security", "vulnerabilities", "injection risks", "xss", "secrets exposure"],
        },
    ),
    (
        [
            "{upload} of {files} is {slow}",
            "{files} {upload} {slow}",
            "{slow} when users {upload} {files}",
        ],
        {
            "upload": ["upload", "transfer", "import", "ingest", "send"],
            "files": ["images", "attachments", "photos", "csv files", "documents"],
            "slow": ["very slow", "sluggish", "taking minutes", "crawling", "lagging"],
        },
    ),
]
"""Twelve intents from the work agents report on, each in three frames and five words a slot."""


def groups(size: int = 11, seed: int = 0) -> pl.DataFrame:
    """`size` distinct paraphrases of each intent: columns `group`, `text`."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, str]] = []
    for number, (frames, slots) in enumerate(INTENTS):
        made: set[str] = set()
        while len(made) < size:
            frame = frames[rng.integers(len(frames))]
            words = {slot: choices[rng.integers(len(choices))] for slot, choices in slots.items()}
            made.add(frame.format(**words).capitalize())
        rows += [(number, text) for text in sorted(made)]
    return pl.DataFrame(rows, schema={"group": pl.Int64, "text": pl.String}, orient="row")


def recall_at(
    nearest: Callable[[int], list[int]], group_of: np.ndarray, queries: list[int], k: int = 10
) -> float:
    """Mean share of each query's group found among its first k neighbours (itself excluded)."""
    shares = []
    for query in queries:
        others = int((group_of == group_of[query]).sum()) - 1
        found = [n for n in nearest(query)[: k + 1] if n != query][:k]
        hits = sum(1 for n in found if group_of[n] == group_of[query])
        shares.append(hits / min(k, others))
    return float(np.mean(shares))


def bm25_nearest(texts: pl.Series, k1: float = 1.2, b: float = 0.75) -> Callable[[int], list[int]]:
    """Plain BM25 "messages like this one": the text's tokens as an OR query over all texts."""
    tokens = T.token_lists(texts)
    pairs = (
        pl.DataFrame({"tokens": tokens})
        .with_row_index("row")
        .explode("tokens")
        .drop_nulls("tokens")
        .group_by("row", "tokens")
        .agg(tf=pl.len())
    )
    vocabulary = pairs.select("tokens").unique().sort("tokens").with_row_index("col")
    pairs = pairs.join(vocabulary, on="tokens")
    n = texts.len()
    tf = sparse.csr_matrix(
        (
            pairs.get_column("tf").to_numpy().astype(np.float64),
            (pairs.get_column("row").to_numpy(), pairs.get_column("col").to_numpy()),
        ),
        shape=(n, vocabulary.height),
    )
    length = np.asarray(tf.sum(axis=1)).ravel()
    df = np.asarray((tf > 0).sum(axis=0)).ravel()
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    scaled = tf.tocoo()
    norm = k1 * (1 - b + b * length[scaled.row] / max(length.mean(), 1e-9))
    weights = sparse.csr_matrix(
        (idf[scaled.col] * scaled.data * (k1 + 1) / (scaled.data + norm), (scaled.row, scaled.col)),
        shape=tf.shape,
    )
    present = (tf > 0).astype(np.float64).tocsr()

    def nearest(query: int) -> list[int]:
        scores = np.asarray((weights @ present[query].T).todense()).ravel()
        return [int(i) for i in np.argsort(-scores, kind="stable")[:11]]

    return nearest
