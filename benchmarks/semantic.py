"""Semantic search quality and cost: recall@10 on paraphrase groups, LSA beside plain BM25.

Paraphrase groups (`lib/search/paraphrases.py`: twelve intents, three frames, five words a
slot) are mixed into the distinct texts of a simulated deployment; the LSA model
(`lib/search/semantic.py`) is built over all of them. For every paraphrase, "messages like this
one" returns its ten nearest texts; recall@10 is the share of its group among them. Plain BM25
(the message's tokens as an OR query) is measured on the same texts in the same run. Also the
model's build time and the time of one `meaning` query. A section is appended to
benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/semantic.py [--days 10] [--agents 20] [--no-record]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, for machine())

from seneca_assets.lib.config import IngestSettings  # noqa: E402
from seneca_assets.lib.ingest import ingest  # noqa: E402
from seneca_assets.lib.lake import Lake  # noqa: E402
from seneca_assets.lib.model.build import build_silver  # noqa: E402
from seneca_assets.lib.search import semantic as S  # noqa: E402
from seneca_assets.lib.search.paraphrases import bm25_nearest, groups, recall_at  # noqa: E402
from seneca_assets.lib.simulate import simulate_deployment  # noqa: E402

WORK = HERE / "work" / "semantic"
SIZES = (11, 15, 20)


def background(days: int, agents: int) -> pl.Series:
    """The distinct texts of a simulated deployment's silver tables."""
    root = WORK / f"d{days}_a{agents}"
    if not (root / "lake" / "silver" / "messages").exists():
        shutil.rmtree(root, ignore_errors=True)
        simulate_deployment(root / "logs", days=days, agents=agents, seed=3)
        ingest(IngestSettings(root / "logs", root / "lake", tail_grace_s=0))
        build_silver(Lake(root / "lake"))
    documents, _ = S.corpus(Lake(root / "lake"))
    return documents.get_column("text").unique().sort()


def measure(texts: pl.Series, size: int) -> dict[str, float]:
    """Recall@10 of LSA and BM25 with paraphrase groups of `size`, and the model's costs."""
    para = groups(size=size, seed=1)
    frame = pl.concat(
        [
            para,
            pl.DataFrame({"group": pl.Series([-1] * texts.len(), dtype=pl.Int64), "text": texts}),
        ]
    )
    documents = frame.select(
        source=pl.lit("messages"), id=pl.int_range(pl.len()).cast(pl.String),
        time=pl.lit(None, pl.Datetime("us", "UTC")), agent=pl.lit(None, pl.String),
        kind=pl.lit(None, pl.String), text="text",
    )  # fmt: skip
    started = time.perf_counter()
    model = S.build(documents)
    build_s = time.perf_counter() - started
    vectors = model.document_vectors
    group_of = frame.get_column("group").to_numpy()
    queries = [int(i) for i in np.flatnonzero(group_of >= 0)]

    def lsa(query: int) -> list[int]:
        return [int(i) for i in np.argsort(-(vectors @ vectors[query]), kind="stable")[:11]]

    return {
        "lsa": recall_at(lsa, group_of, queries),
        "bm25": recall_at(bm25_nearest(frame.get_column("text")), group_of, queries),
        "build_s": build_s,
        "dimensions": float(model.term_vectors.shape[1]),
        "texts": float(frame.height),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    texts = background(args.days, args.agents)
    rows = []
    for size in SIZES:
        found = measure(texts, size)
        rows.append(
            (
                f"groups of {size}",
                f"LSA {found['lsa']:.3f}, BM25 {found['bm25']:.3f} ({int(found['texts']):,} texts, "
                f"{int(found['dimensions'])} dimensions, model built in {found['build_s']:.2f} s)",
                "LSA >= 0.8",
                "met" if found["lsa"] >= 0.8 else "NOT met",
            )
        )
    ingest_bench.publish(
        "Semantic search",
        '`benchmarks/semantic.py`: recall@10 of "messages like this one" over 12 paraphrase '
        f"groups mixed into the {texts.len():,} distinct texts of a simulated deployment "
        f"({args.days} days x {args.agents} agents); LSA with a dimension per "
        f"{S.TERMS_PER_DIMENSION} terms beside plain BM25 in the same run.",
        rows,
        record=not args.no_record,
    )


if __name__ == "__main__":
    main()
