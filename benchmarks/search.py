"""Full-text search speed, index build and size against the targets of the search issue.

On a lake of MESSAGES synthetic worker messages in silver/messages (benchmarks/query.py's
`MAKE_MESSAGES`: texts sampled from the search spike's corpus when it exists, with about 2%
multilingual, CJK and emoji texts, `task-NNNNNN` ids and file paths), each step in a fresh
process, timed around the call only:
- the index build, `search.index.update(Lake(root), rebuild=True)`, with its peak RSS and the
  size of `<root>/_search/full_text`, BUILDS times (the median counts);
- after appending 10,000 messages in a new ingest batch, the incremental `update`, and an
  `update` with nothing new;
- `search.query.search(root, text, limit=10)` end to end (opening the index, snippets
  included) for QUERIES queries of each kind, drawn deterministically from the messages: a common
  word, two words, a quoted phrase, a prefix (`migra*`, ...), a rare id (`task-NNNNNN` in at most
  a few messages), an accented or CJK word, and a common word filtered by agent and a 7-day range;
  one untimed warm-up query per kind first;
- the baselines over the same texts held in memory: Polars `str.contains(word, literal=True)`
  over the lowercased text column, and DuckDB `count(*) ... WHERE text ILIKE '%word%'` over the
  same Arrow table, for BASELINE_QUERIES of the single-word and rare-id queries each (a scan finds
  every match, which ranking needs).
The search and baseline processes run RUNS times, alternating; the medians of their p50 and p95
count. A section is appended to benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/search.py [--messages 1000000] [--no-record]

Validate changes on a small lake: `--messages 50000 --no-record`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, for machine())
import query as query_bench  # noqa: E402  (benchmarks/query.py, its message generator)

WORK = HERE / "work" / "search"
PYTHON = sys.executable
START = query_bench.START
DAYS = query_bench.DAYS
NEW_MESSAGES = 10_000
BUILDS = 3
RUNS = 3
QUERIES = 200
BASELINE_QUERIES = 40
KINDS = ("word", "two words", "phrase", "prefix", "rare id", "multilingual", "filtered")

RESET = textwrap.dedent(
    """
    import sys
    import polars as pl
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import MESSAGES
    lake = Lake(sys.argv[1])
    later = lake.scan(MESSAGES).filter(pl.col("ingest_batch") > 1).select(pl.len()).collect()
    if later.item():
        lake.delete(MESSAGES, "ingest_batch > 1")
    print(lake.scan(MESSAGES).select(pl.len()).collect().item())
    """
)
"""Drop the messages of a previous run's incremental batch; print the rows left."""

DRAW = textwrap.dedent(
    """
    import json, random, sys
    from datetime import timedelta
    import polars as pl
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import MESSAGES
    from seneca_assets.lib.search import tokens as T
    root, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(11)
    rows = (Lake(root).scan(MESSAGES).select("text", "agent_id", "event_time")
            .filter(pl.col("text").is_not_null()).collect())
    sample = rows.sample(min(20_000, rows.height), seed=5)
    tokens = T.token_lists(sample.get_column("text")).to_list()
    df = pl.Series("token", tokens).list.unique().explode().value_counts(name="df")
    common = sorted(df.filter(
        pl.col("token").str.contains(r"^[a-z]{3,}$")
        & pl.col("df").is_between(0.002 * sample.height, 0.4 * sample.height)
    ).get_column("token").to_list())
    known = set(common)
    queries = {k: [] for k in ("word", "two words", "phrase", "prefix", "rare id",
                               "multilingual", "filtered")}
    queries["word"] = [rng.choice(common) for _ in range(count)]
    queries["phrase"].append('"report progress"')
    order = list(range(sample.height))
    rng.shuffle(order)
    for i in order:
        words = tokens[i]
        both = sorted(set(w for w in words if w in known))
        if len(both) >= 2 and len(queries["two words"]) < count:
            queries["two words"].append(" ".join(rng.sample(both, 2)))
        pairs = [(a, b) for a, b in zip(words, words[1:])
                 if a.isalpha() and b.isalpha() and len(a) > 2 and len(b) > 2]
        if pairs and len(queries["phrase"]) < count:
            queries["phrase"].append('"%s %s"' % rng.choice(pairs))
        if both and len(queries["filtered"]) < count:
            when = sample.item(i, "event_time") - timedelta(days=rng.uniform(0, 7))
            queries["filtered"].append({
                "text": rng.choice(both), "agent": sample.item(i, "agent_id"),
                "start": when.isoformat(), "end": (when + timedelta(days=7)).isoformat(),
            })
    longer = [w for w in common if len(w) >= 6]
    queries["prefix"] = ["migra*"] + [
        rng.choice(longer)[: rng.choice([3, 4, 5])] + "*" for _ in range(count - 1)
    ]
    ids = (rows.select(id=pl.col("text").str.to_lowercase().str.extract_all(r"task-\\d+")
                       .list.unique()).explode("id").drop_nulls().group_by("id").len())
    rare = ids.filter(pl.col("len") <= 5).sort("id").get_column("id").to_list()
    queries["rare id"] = rng.sample(rare, min(count, len(rare)))
    foreign = rows.filter(pl.col("text").str.contains(r"[^\\x00-\\x7F]"))
    foreign = foreign.sample(min(5_000, foreign.height), seed=7, shuffle=True)
    for text in foreign.get_column("text").to_list():
        words = [w.strip(":,.()!?;") for w in text.split() if any(ord(c) > 127 for c in w)]
        words = [w for w in words if w and T.tokenize(w)]
        if words and len(queries["multilingual"]) < count:
            queries["multilingual"].append(rng.choice(words))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(queries, handle, ensure_ascii=False, indent=0)
    print(json.dumps({k: len(v) for k, v in queries.items()}))
    """
)
"""The query mix, drawn with a fixed seed from the lake's messages, as JSON in a file."""

BUILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.search.index import update
    root, rebuild = sys.argv[1], sys.argv[2] == "rebuild"
    lake = Lake(root)
    began = time.perf_counter()
    done = update(lake, rebuild=rebuild)
    wall = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_mb": peak, "added": done.added,
                      "rebuilt": done.rebuilt}))
    """
)
"""One `update` of the index in a fresh process (a full rebuild if asked)."""

SEARCH = textwrap.dedent(
    """
    import json, sys, time
    from datetime import datetime
    from pathlib import Path
    from seneca_assets.lib.search.query import search
    root, queries = Path(sys.argv[1]), json.load(open(sys.argv[2], encoding="utf-8"))

    def ask(query):
        if isinstance(query, dict):
            return search(root, query["text"], agent=query["agent"], limit=10,
                          start=datetime.fromisoformat(query["start"]),
                          end=datetime.fromisoformat(query["end"]))
        return search(root, query, limit=10)

    for kind, asked in queries.items():
        ask(asked[0])  # warm-up
    out = {}
    for kind, asked in queries.items():
        times, found = [], 0
        for query in asked:
            began = time.perf_counter()
            rows = ask(query)
            times.append(time.perf_counter() - began)
            found += rows.height > 0
        out[kind] = {"times": times, "found": found}
    print(json.dumps(out))
    """
)
"""Every query of the mix with `search` in one warm process: latencies and how many found any."""

BASELINE = textwrap.dedent(
    """
    import json, sys, time
    import duckdb, polars as pl
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import MESSAGES
    root, count = sys.argv[1], int(sys.argv[3])
    queries = json.load(open(sys.argv[2], encoding="utf-8"))
    texts = Lake(root).scan(MESSAGES).select("text").collect().rechunk()
    lowered = texts.select(text=pl.col("text").str.to_lowercase()).rechunk()
    con = duckdb.connect()
    con.register("messages", texts.to_arrow())

    def polars_scan(word):
        return lowered.select(pl.col("text").str.contains(word.lower(), literal=True).sum()).item()

    def duckdb_scan(word):
        return con.execute("SELECT count(*) FROM messages WHERE text ILIKE ?",
                           [f"%{word}%"]).fetchone()[0]

    out = {}
    for engine, scan in (("polars", polars_scan), ("duckdb", duckdb_scan)):
        for kind in ("word", "rare id"):
            asked = queries[kind][:count]
            scan(asked[0])  # warm-up
            times, found = [], 0
            for word in asked:
                began = time.perf_counter()
                found += scan(word) > 0
                times.append(time.perf_counter() - began)
            out[f"{engine} {kind}"] = {"times": times, "found": found}
    print(json.dumps(out))
    """
)
"""The scans over the texts held in memory: Polars `str.contains` and DuckDB ILIKE."""


run = query_bench.run
percentile = query_bench.percentile


def summary(runs: list[dict], key: str) -> dict[str, float]:
    """Medians over the runs of the p50 and p95 of `key`'s times, in ms; and its hit count."""
    return {
        "p50": statistics.median(percentile(r[key]["times"], 0.5) * 1000 for r in runs),
        "p95": statistics.median(percentile(r[key]["times"], 0.95) * 1000 for r in runs),
        "n": len(runs[0][key]["times"]),
        "found": runs[0][key]["found"],
    }


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def verdict(ok: bool) -> str:
    """The last column of a row with a target."""
    return "met" if ok else "NOT met"


def main() -> None:
    """Make the lake if needed, measure, print the section and append it unless --no-record."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    lake = WORK / f"lake_{args.messages}"
    origin = "an earlier run"
    if not (lake / "silver" / "messages" / "_delta_log").exists():
        origin = query_bench.make_messages(lake, args.messages, 1, 5, START, DAYS)
    held = int(subprocess.run(
        [PYTHON, "-c", RESET, str(lake)], check=True, capture_output=True, text=True
    ).stdout.split()[-1])  # fmt: skip
    queries = WORK / f"queries_{args.messages}.json"
    if not queries.exists():
        print("queries:", run(DRAW, str(lake), str(queries), str(QUERIES)), flush=True)
    drawn = json.loads(queries.read_text(encoding="utf-8"))

    builds = []
    for _ in range(BUILDS):
        builds.append(run(BUILD, str(lake), "rebuild"))
        builds[-1]["bytes"] = folder_bytes(lake / "_search" / "full_text")
        print("build", builds[-1], flush=True)
    build = sorted(builds, key=lambda b: b["wall_s"])[len(builds) // 2]
    end = START + timedelta(days=DAYS)
    query_bench.make_messages(lake, NEW_MESSAGES, 2, 6, end - timedelta(days=1), 1)
    grown = run(BUILD, str(lake), "update")
    idle = run(BUILD, str(lake), "update")
    print("incremental", grown, "\nidle", idle, flush=True)
    size = folder_bytes(lake / "_search" / "full_text")

    searched, scanned = [], []
    for _ in range(RUNS):
        searched.append(run(SEARCH, str(lake), str(queries)))
        scanned.append(run(BASELINE, str(lake), str(queries), str(BASELINE_QUERIES)))
    kinds = {kind: summary(searched, kind) for kind in KINDS}
    every = [
        statistics.median(
            percentile([t for kind in KINDS for t in r[kind]["times"]], q) * 1000 for r in searched
        )
        for q in (0.5, 0.95)
    ]
    scans = {key: summary(scanned, key) for key in scanned[0]}

    def ms(figures: dict[str, float]) -> str:
        return f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms"

    examples = {
        kind: (drawn[kind][0]["text"] + " (agent, 7 days)")
        if kind == "filtered"
        else ", ".join(f"`{q}`" for q in drawn[kind][:3])
        for kind in KINDS
    }
    rows = [
        (
            "messages",
            f"{held:,} in silver/messages (texts from {origin}), then {NEW_MESSAGES:,} more",
            "1 M",
            "",
        ),
        (
            "index build, full",
            f"{build['wall_s']:.1f} s (median of {sorted(round(b['wall_s'], 1) for b in builds)})"
            f", {build['peak_mb']:.0f} MB peak RSS, {build['bytes'] / 1e6:.0f} MB on disk "
            f"({sum(build['added'].values()):,} documents)",
            "",
            "",
        ),
        (
            f"incremental update, +{NEW_MESSAGES:,} messages",
            f"{grown['wall_s']:.2f} s ({grown['added']['messages']:,} added; index then "
            f"{size / 1e6:.0f} MB); with nothing new {idle['wall_s']:.2f} s",
            "",
            "",
        ),
    ]
    for kind in KINDS:
        found = kinds[kind]
        rows.append(
            (
                f"search: {kind}",
                f"{ms(found)} over {found['n']} queries ({found['found']} with results; "
                f"e.g. {examples[kind]})",
                "p95 < 50 ms",
                verdict(found["p95"] < 50),
            )
        )
    rows.append(
        (
            "search: all kinds",
            f"p50 {every[0]:.1f} ms, p95 {every[1]:.1f} ms",
            "p95 < 50 ms",
            verdict(every[1] < 50),
        )
    )
    for kind, label in (("word", "single word"), ("rare id", "rare id")):
        polars, duck = scans[f"polars {kind}"], scans[f"duckdb {kind}"]
        ratio = polars["p95"] / kinds[kind]["p95"]
        rows += [
            (f"Polars `str.contains`, {label}", f"{ms(polars)} over {polars['n']} queries", "", ""),
            (f"DuckDB ILIKE, {label}", f"{ms(duck)}; {duck['p95'] / kinds[kind]['p95']:.1f}x "
             "Seneca's p95", "", ""),
            (f"Polars p95 / Seneca p95, {label}", f"{ratio:.1f}x", ">= 10x",
             verdict(ratio >= 10)),
        ]  # fmt: skip
    ingest_bench.publish(
        "Full-text search",
        "Each step in a fresh process (`benchmarks/search.py`); builds are the median of "
        f"{BUILDS}; searches (`search(root, text, limit=10)` end to end, snippets included) "
        f"and the baselines (texts held in memory) are medians of {RUNS} alternating "
        "processes' p50 and p95.",
        rows,
        record=not args.no_record,
    )
    print(f"whole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
