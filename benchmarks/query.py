"""Dashboard query latency and the result cache against the targets of the query issue.

On a lake of POINTS raw metric points (benchmarks/rollups.py's series: 240 series of 40 metrics
over 60 days from 2026-09-01, copied from its lake when there, else made the same way) with the
hourly, daily and monthly tiers built by `rollup_build.build_range`, and MESSAGES synthetic
worker messages in silver/messages (`MAKE_MESSAGES`, shared with benchmarks/search.py) rolled
up into gold/activity_*, three dashboard queries are measured, each in a fresh process:
- `year`: `lake.metrics(name, end - 365 d, end)` at auto resolution (the tier it picked is
  reported), `end` being the end of the data;
- `day`: `lake.metrics(name, end - 24 h, end, resolution="raw")`, the last 24 hours of points;
- `activity`: `lake.sql(...)` totals per agent and kind over the last 30 days of
  gold/activity_daily.
Per scenario: Seneca uncached (one untimed warm-up query pays for imports and first use; then
REPS queries, each with a new `Lake`, so an empty cache, timed around `Lake(...)` and the call),
cached (REPS more of one identical query on one `Lake`), and DuckDB: the same question in SQL
over the same Delta tables registered with `DeltaTable(path).to_pyarrow_dataset()` in one
in-memory connection, timed around opening the tables and the query (the query alone is given
too). Uncached and DuckDB queries cycle through the 40 metric names alike. Each process runs
RUNS times, Seneca and DuckDB alternating; the medians of the runs' p50 and p95 are reported.

The cache hit rate comes from a dashboard of 10 panels (metrics over "24h", "7d", "30d" and
"365d", message lists, the activity SQL, the metric names) refreshed 20 times on one `Lake`
with relative times, which the query API rounds to the current minute: the workload starts at
the top of a minute so that it falls within one (it takes seconds), as a dashboard's refreshes
within one minute do. The data ends on 2026-10-31, so panels over the last "24h" or "7d" are
empty; the cache serves them all the same.

A section is appended to benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/query.py [--points 10000000] [--messages 1000000] [--no-record]

Validate changes on a small lake: `--points 500000 --messages 50000 --no-record`.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, for machine())
import rollups as rollups_bench  # noqa: E402  (benchmarks/rollups.py, its lake and MAKE)

WORK = HERE / "work" / "query"
PYTHON = sys.executable
START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = rollups_bench.DAYS
END = START + timedelta(days=DAYS)
"""The end of the data (exclusive): every scenario ends here."""
RUNS = 3
"""Processes per scenario and engine, alternating; the medians of their percentiles count."""
REPS = 40
"""Timed queries per process and kind (uncached, cached, DuckDB)."""
CORPUS = Path("/work/scratch/search_spike/corpus.parquet")
"""Texts (and agents) of a previous search spike, sampled for messages when it exists."""

MAKE_MESSAGES = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta
    from pathlib import Path
    import numpy as np, polars as pl
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import MESSAGES
    root, n, batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    start, days, corpus = datetime.fromisoformat(sys.argv[5]), float(sys.argv[6]), Path(sys.argv[7])
    rng = np.random.default_rng(seed)
    if corpus.exists():
        source = pl.read_parquet(corpus, columns=["agent_id", "text"])
        pick = rng.permutation(source.height)[:n] if n <= source.height else (
            rng.integers(0, source.height, n))
        texts = source[pick]
        origin = corpus.name
    else:  # templates in the manner of the spike's generator
        agents = [f"agent_{a}_{i}" for i, a in enumerate(
            "raven tapir marten heron bison lynx koala otter falcon badger ibis yak gecko puma "
            "wren moose stoat vole crane okapi".split() * 3)]
        paths = ["src/api/users.py", "src/models/orders.py", "tests/unit/test_auth.py",
                 "migrations/versions/0042_add_index.py", "web/components/Dashboard.tsx"]
        plain = [
            "Progress update on {t}: refactored {p}, {k}% done. Next I will write tests.",
            "Calling mcp__marcus__report_task_progress for {t} (attempt 2)",
            "Blocked on {t}: TimeoutError: upstream did not answer within 30s in {p}",
            "I will report progress on {t} after the database migration of {p} finishes",
            "Migrating orders schema; migration applied in {k} ms for {t}",
            "Reviewing PR for {t}: changed {p}; tests passing. Will report progress soon.",
            "Task {t} completed: implemented the billing service and updated the docs",
            "Assigned {t}: add pagination to the users endpoint, estimate {k} hours",
        ]
        foreign = [
            "Tâche terminée: réécriture du schéma de {t} ✅", "Überprüfung der "
            "Datenbankmigration für {t} abgeschlossen 🚀", "Migración de la base de datos "
            "completada para {t} ✔️", "タスクを完了しました: {t}", "数据库迁移已完成 {t}",
            "데이터베이스 마이그레이션 완료 {t} 👍", "テストが失敗しました 😢 {p}",
        ]
        ml = rng.random(n) < 0.02
        which = np.where(ml, rng.integers(0, len(foreign), n), rng.integers(0, len(plain), n))
        tasks, ks = rng.integers(0, 250_000, n), rng.integers(1, 100, n)
        ps = rng.integers(0, len(paths), n)
        texts = pl.DataFrame({
            "agent_id": [agents[i] for i in rng.integers(0, len(agents), n)],
            "text": [(foreign if m else plain)[w].format(t=f"task-{t:06d}", p=paths[p], k=k)
                     for m, w, t, p, k in zip(ml, which, tasks, ps, ks)],
        })
        origin = "templates"
    micros = np.sort(rng.integers(0, int(days * 86_400_000_000), n))
    intents = rng.choice(np.array(["assignment", "completion", "blocker", "progress", ""]), n,
                         p=[0.15, 0.15, 0.05, 0.35, 0.30])
    ids = pl.Series([f"{batch:08x}{i:024x}" for i in range(n)])
    frame = texts.with_columns(
        message_id=ids, event_id=ids,
        event_time=pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC") + (start - datetime(1970, 1, 1, tzinfo=start.tzinfo)),
        kind=pl.lit("worker_communication"), level=pl.lit("info"), logger=pl.lit("worker"),
        conversation_type=pl.lit("worker_to_pm"), sender=pl.col("agent_id"),
        recipient=pl.lit("marcus"),
        intent=pl.Series(intents).replace("", None),
        task_id=pl.col("text").str.extract(r"(task-\\d+)"),
        task_name=pl.lit(None, pl.String), project_id=pl.lit("project-1"),
        progress=pl.when(pl.Series(intents) == "progress")
            .then(pl.Series(rng.integers(0, 101, n))).cast(pl.Int64),
        status=pl.lit(None, pl.String), severity=pl.lit(None, pl.String),
        priority=pl.lit(None, pl.String), estimated_hours=pl.lit(None, pl.Float64),
        ingest_batch=pl.lit(batch, pl.Int64),
    ).select(MESSAGES.schema.names()).cast(dict(MESSAGES.schema))
    lake = Lake(root)
    for first in range(0, n, 250_000):
        lake.write(MESSAGES, frame.slice(first, 250_000))
    print(origin)
    """
)
"""Synthetic worker messages into silver/messages: root, rows, ingest batch, seed, first day
(ISO), days spanned, corpus path. Prints where the texts came from."""

BUILD = textwrap.dedent(
    """
    import json, sys, time
    from datetime import datetime
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.rollup_build import build_range
    lake = Lake(sys.argv[1])
    start, end, month_end = (datetime.fromisoformat(a) for a in sys.argv[2:5])
    out = {}
    for grain, last in (("hourly", end), ("daily", end), ("monthly", month_end)):
        began = time.perf_counter()
        rows = build_range(lake, grain, start, last)
        out[grain] = {"wall_s": time.perf_counter() - began, "rows": rows}
    print(json.dumps(out))
    """
)
"""The gold tiers of [start, end) (monthly to the end of the last month), timed per grain."""

ACTIVITY_SQL = (
    "SELECT agent_id, kind, sum(count) AS count FROM gold_activity_daily "
    "WHERE bucket >= ? AND bucket < ? GROUP BY ALL ORDER BY agent_id, kind"
)
"""The activity panel: what each agent did over the range, per kind."""

STEP = textwrap.dedent(
    """
    import json, sys, time
    from datetime import datetime, timedelta
    scenario, engine, root, end = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    reps, tier, activity_sql = int(sys.argv[5]), sys.argv[6], sys.argv[7]
    end = datetime.fromisoformat(end)
    span = {"year": timedelta(days=365), "day": timedelta(days=1), "activity": timedelta(days=30)}
    start = end - span[scenario]
    names = [f"metric_{i % 40}" for i in range(reps + 1)]
    out = {}

    def timed(ask, args):
        times = []
        for arg in args:
            began = time.perf_counter()
            ask(arg)
            times.append(time.perf_counter() - began)
        return times

    if engine == "seneca":
        from seneca_assets.lib.query import Lake
        def ask(name, lake=None):
            lake = lake or Lake(root)
            if scenario == "year":
                return lake.metrics(name, start=start, end=end)
            if scenario == "day":
                return lake.metrics(name, start=start, end=end, resolution="raw")
            return lake.sql(activity_sql, [start, end])
        first = ask("metric_0")  # warm-up: imports, first use
        out["rows"] = first.height
        if "resolution" in first.columns and first.height:
            out["resolution"] = first.item(0, "resolution")
        out["uncached"] = timed(ask, names[1:])
        lake = Lake(root)
        ask("metric_0", lake)
        out["cached"] = timed(lambda name: ask("metric_0", lake), names[1:])
        out["hit_rate"] = lake.cache_stats().hit_rate
    else:
        import duckdb
        from deltalake import DeltaTable
        path = {"year": f"gold/metrics_{tier}", "day": "silver/metrics",
                "activity": "gold/activity_daily"}[scenario]
        table = path.replace("/", "_")
        if scenario == "year":
            sql = (
                f"SELECT bucket AS time, sum(count) AS count, sum(sum) / sum(count) AS mean, "
                f"min(min) AS min, max(max) AS max FROM {table} "
                "WHERE name = ? AND bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY time"
            )
        elif scenario == "day":
            sql = (
                f"SELECT timestamp AS time, value FROM {table} "
                "WHERE name = ? AND timestamp >= ? AND timestamp < ? ORDER BY timestamp, tags"
            )
        else:
            sql = activity_sql
        con = duckdb.connect()
        def query(name):
            params = [start, end] if scenario == "activity" else [name, start, end]
            return con.sql(sql, params=params).pl()
        def ask(name):
            con.register(table, DeltaTable(f"{root}/{path}").to_pyarrow_dataset())
            return query(name)
        out["rows"] = ask("metric_0").height
        out["uncached"] = timed(ask, names[1:])
        out["query_only"] = timed(query, names[1:])
    print(json.dumps(out))
    """
)
"""One scenario with one engine in a fresh process: its latencies in seconds."""

DASHBOARD = textwrap.dedent(
    """
    import json, sys, time
    from seneca_assets.lib.query import Lake
    from seneca_assets.lib.query.times import moment
    root, refreshes, activity_sql = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lake = Lake(root)
    panels = [
        lambda: lake.metrics("metric_0", "365d"),
        lambda: lake.metrics("metric_1", "365d", aggregates=["count", "p95"]),
        lambda: lake.metrics("metric_2", "30d"),
        lambda: lake.metrics("metric_3", "7d"),
        lambda: lake.metrics("metric_4", "24h", resolution="raw"),
        lambda: lake.messages(kind="worker_communication", start="24h", limit=20),
        lambda: lake.messages(agent="agent_raven_0", start="30d", limit=50),
        lambda: lake.messages(limit=20),
        lambda: lake.sql(activity_sql, [moment("30d"), moment("now")]),
        lambda: lake.metric_names(),
    ]
    began, minutes = time.perf_counter(), {time.time() // 60}
    for _ in range(refreshes):
        for panel in panels:
            panel()
            minutes.add(time.time() // 60)
    wall = time.perf_counter() - began
    stats = lake.cache_stats()
    print(json.dumps({"hit_rate": stats.hit_rate, "hits": stats.hits, "misses": stats.misses,
                      "panels": len(panels), "wall_s": wall, "minutes": len(minutes)}))
    """
)
"""The dashboard workload on one `Lake`: its cache statistics."""


def run(code: str, *args: str) -> dict:
    """Run `code` in a fresh process with `args`; the JSON object it printed last."""
    done = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share 0.95 gives the p95)."""
    ordered = sorted(values)
    rank = math.ceil(round(share * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def make_messages(
    lake: Path, rows: int, batch: int, seed: int, start: datetime, days: float
) -> str:
    """Append `rows` synthetic messages of ingest `batch` to the lake's silver/messages.

    Their times are spread over `days` from `start`; returns where the texts came from.
    """
    args = [str(lake), str(rows), str(batch), str(seed), start.isoformat(), str(days), str(CORPUS)]
    done = subprocess.run(
        [PYTHON, "-c", MAKE_MESSAGES, *args], check=True, capture_output=True, text=True
    )
    return done.stdout.split()[-1]


def make_lake(lake: Path, points: int, messages: int) -> dict:
    """Silver metrics and messages and their gold tiers in `lake`, unless already there.

    Returns how the lake was made (kept in `_made.json` beside its tables).
    """
    done = lake / "_made.json"
    if done.exists():
        return dict(json.loads(done.read_text()))
    shutil.rmtree(lake, ignore_errors=True)
    made: dict = {}
    source = rollups_bench.WORK / f"lake_{points}" / "silver" / "metrics"
    began = time.perf_counter()
    if (source / "_delta_log").exists():
        shutil.copytree(source, lake / "silver" / "metrics")
        made["metrics"] = f"copied from {source.relative_to(HERE)}"
    else:
        series = str(rollups_bench.SERIES)
        subprocess.run(
            [PYTHON, "-c", rollups_bench.MAKE, str(lake), str(points), str(DAYS), series],
            check=True,
            capture_output=True,
        )
        made["metrics"] = f"made by rollups.py's MAKE in {time.perf_counter() - began:.0f} s"
    began = time.perf_counter()
    origin = make_messages(lake, messages, batch=1, seed=3, start=START, days=DAYS)
    made["messages"] = f"texts from {origin}, made in {time.perf_counter() - began:.0f} s"
    month_end = datetime(END.year + END.month // 12, END.month % 12 + 1, 1, tzinfo=UTC)
    made["gold"] = run(BUILD, str(lake), START.isoformat(), END.isoformat(), month_end.isoformat())
    done.write_text(json.dumps(made))
    return made


def scenario(lake: Path, name: str) -> dict:
    """RUNS alternating Seneca and DuckDB processes of one scenario; medians of percentiles."""
    seneca: list[dict] = []
    duck: list[dict] = []
    tier = "daily"
    for _ in range(RUNS):
        seneca.append(
            run(STEP, name, "seneca", str(lake), END.isoformat(), str(REPS), tier, ACTIVITY_SQL)
        )
        tier = seneca[0].get("resolution", tier)
        duck.append(
            run(STEP, name, "duckdb", str(lake), END.isoformat(), str(REPS), tier, ACTIVITY_SQL)
        )

    def summary(runs: list[dict], key: str) -> dict[str, float]:
        return {
            f"p{q}": statistics.median(percentile(r[key], q / 100) * 1000 for r in runs)
            for q in (50, 95)
        }

    return {
        "tier": tier,
        "resolution": seneca[0].get("resolution"),
        "rows": seneca[0]["rows"],
        "duck_rows": duck[0]["rows"],
        "uncached": summary(seneca, "uncached"),
        "cached": summary(seneca, "cached"),
        "duckdb": summary(duck, "uncached"),
        "duckdb_query": summary(duck, "query_only"),
    }


def dashboard(lake: Path, refreshes: int = 20) -> dict:
    """The dashboard workload, started at the top of a minute if it is late in one."""
    if time.time() % 60 > 30:
        time.sleep(60 - time.time() % 60 + 0.5)
    return run(DASHBOARD, str(lake), str(refreshes), ACTIVITY_SQL)


def verdict(ok: bool) -> str:
    """The last column of a row with a target."""
    return "met" if ok else "NOT met"


def main() -> None:
    """Make the lake if needed, measure, print the section and append it unless --no-record."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    lake = WORK / f"lake_{args.points}_{args.messages}"
    made = make_lake(lake, args.points, args.messages)
    print("lake:", json.dumps(made), flush=True)
    found = {name: scenario(lake, name) for name in ("year", "day", "activity")}
    for name, result in found.items():
        print(name, json.dumps(result), flush=True)
    hits = dashboard(lake)
    print("dashboard", json.dumps(hits), flush=True)

    def ms(figures: dict[str, float]) -> str:
        return f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms"

    what = {
        "year": "(a) a metric over a year, auto",
        "day": "(b) the last 24 hours, raw",
        "activity": "(c) 30 days of agent activity",
    }
    gold = made.get("gold", {})
    rows = [
        (
            "lake",
            f"{args.points:,} raw points ({made.get('metrics', 'reused')}); {args.messages:,} "
            f"worker messages ({made.get('messages', 'reused')}); gold rows "
            + ", ".join(
                f"{grain} {sum(g['rows'].values()):,} in {g['wall_s']:.1f} s"
                for grain, g in gold.items()
            ),
            "10 M points, 1 M messages",
            "",
        )
    ]
    for name, result in found.items():
        if name == "year":
            shape = (
                f"auto chose **{result['resolution']}**; {result['rows']} rows (count, mean, "
                f"min, max, p50/p95/p99 from merged sketches); DuckDB: sum/min/max over "
                f"gold/metrics_{result['tier']} merged across tags per bucket, no percentiles"
            )
        elif name == "day":
            shape = f"{result['rows']:,} points; DuckDB: the same points from silver/metrics"
        else:
            shape = (
                f"`lake.sql` over gold/activity_daily, {result['rows']} rows; DuckDB: the same SQL"
            )
        uncached, cached = result["uncached"]["p95"], result["cached"]["p95"]
        rows += [
            (f"{what[name]}: query", shape, "", ""),
            (f"{what[name]}: Seneca uncached", ms(result["uncached"]), "p95 < 100 ms",
             verdict(uncached < 100)),
            (f"{what[name]}: Seneca cached", ms(result["cached"]), "p95 < 5 ms",
             verdict(cached < 5)),
            (
                f"{what[name]}: DuckDB",
                f"{ms(result['duckdb'])} opening the tables and querying; query alone "
                f"{ms(result['duckdb_query'])}",
                "",
                "",
            ),
        ]  # fmt: skip
    rows.append(
        (
            "cache hit rate, dashboard",
            f"{100 * hits['hit_rate']:.1f}% ({hits['hits']} hits, {hits['misses']} misses; "
            f"{hits['panels']} panels x 20 refreshes in {hits['wall_s']:.1f} s, within "
            f"{hits['minutes']} minute(s))",
            "> 90%",
            verdict(hits["hit_rate"] > 0.9),
        )
    )
    ingest_bench.publish(
        "Dashboard queries",
        "Each scenario and engine in a fresh process (`benchmarks/query.py`) after one untimed "
        f"warm-up query; {REPS} timed queries per kind and process, medians of {RUNS} alternating "
        "processes' p50 and p95. Uncached: a new `Lake` (empty cache) per query; cached: one "
        "identical query repeated on one `Lake`.",
        rows,
        record=not args.no_record,
    )
    print(f"whole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
