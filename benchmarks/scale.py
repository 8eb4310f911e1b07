"""Scale-out figures of issue 9: the lake on S3 beside a folder, parallel backfills, commit rates.

Measures, in one run on one machine:
- ingestion, the silver build and the hourly rollup of the ~1 GB corpus (`benchmarks/ingest.py`'s
  60 days x 60 agents) with the lake on a local SeaweedFS S3 server (started on loopback from
  the `weed` binary, as the tests do), beside the same on a local folder; each step in a fresh
  process, timed around the call;
- `rollups_backfill` (the parallel rollup backfill job, on the multiprocess executor) over 30
  days of the corpus's lake with 1, 2 and 4 processes, the gold pool raised to the same count:
  a rebuild of the hourly rollups of the 30 days (720 hourly partitions), then of their daily
  rollups (30 daily partitions); timed around `execute_job`, beside the same range through the
  rollup asset's single-run backfill (today's path, one process) and the build alone without
  Dagster;
- commits per second of 1, 4 and 8 concurrent writers (spawned processes) to one table, on the
  folder and on SeaweedFS: appends, and the rollups' overwrite of a time range (each writer its
  own day); lost commits are counted from the table's final version and its rows.
A section is appended to benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/scale.py [--days 60] [--agents 60] [--repeats 3] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # for seneca_assets_tests.seaweed

import dagster as dg  # noqa: E402
import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py: corpus, machine, publish)
import polars as pl  # noqa: E402

from seneca_assets_tests.seaweed import BUCKET, running  # noqa: E402

WORK = HERE / "work" / "scale"
PYTHON = sys.executable
CORPUS_START = datetime(2026, 9, 1, tzinfo=UTC)
"""Where `benchmarks/ingest.py`'s corpus starts (a corpus made here starts there too)."""
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
BACKFILL_DAYS = 30
PROCESSES = (1, 2, 4)
WRITERS = (1, 4, 8)
COMMITS_PER_WRITER = 20

STEP = textwrap.dedent(
    """
    import json, resource, sys, time
    from datetime import datetime, timedelta
    from pathlib import Path
    step, logs, where, start, days = sys.argv[1:6]
    from seneca_assets.lib.lake import Lake
    out = {}
    if step == "ingest":
        from seneca_assets.lib.config import IngestSettings
        from seneca_assets.lib.ingest import ingest
        settings = IngestSettings(Path(logs), where)
        began = time.perf_counter()
        out["events"] = ingest(settings).events_stored
    elif step == "silver":
        from seneca_assets.lib.model.build import build_silver
        began = time.perf_counter()
        build_silver(Lake(where))
    else:
        from seneca_assets.lib.rollup_build import build_range
        first = datetime.fromisoformat(start)
        began = time.perf_counter()
        out["rows"] = build_range(Lake(where), step, first, first + timedelta(days=int(days)))
    wall = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_mb": peak, **out}))
    """
)


ASSET_RUN = textwrap.dedent(
    """
    import json, sys, tempfile, time
    import dagster as dg
    from seneca_assets.defs.resources import shared
    from seneca_assets.defs.rollups.assets import rollups_daily, rollups_hourly
    from seneca_assets.defs.rollups.automation import range_tags
    grain, first, last = sys.argv[1:4]
    asset = {"hourly": rollups_hourly, "daily": rollups_daily}[grain]
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.local_temp(home) as instance:
        began = time.perf_counter()
        result = dg.materialize([asset], resources=shared(), instance=instance,
                                tags=range_tags(first, last), run_config=quiet)
        wall = time.perf_counter() - began
        assert result.success
    print(json.dumps({"wall_s": wall}))
    """
)
"""Today's path for a range: the rollup asset's single-run backfill, in one process."""


def step(name: str, logs: Path, where: str, start: datetime, days: int) -> dict[str, Any]:
    """One step in a fresh process (the environment carries the S3 variables)."""
    args = [PYTHON, "-c", STEP, name, str(logs), where, start.isoformat(), str(days)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} on {where} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, with every run's wall time."""
    ordered = sorted(runs, key=lambda run: run["wall_s"])
    return {**ordered[len(ordered) // 2], "all_s": [round(run["wall_s"], 2) for run in runs]}


def pipeline(
    corpus: Path, start: datetime, days: int, repeats: int, fresh: Callable[[], str]
) -> dict[str, Any]:
    """Ingest, silver and hourly rollups of the corpus, `repeats` times into a `fresh()` lake."""
    runs: dict[str, list[dict[str, Any]]] = {"ingest": [], "silver": [], "hourly": []}
    for _ in range(repeats):
        where = fresh()
        ingest_bench.warm(corpus)
        for name in runs:
            runs[name].append(step(name, corpus, where, start, days))
            print(where, name, runs[name][-1], flush=True)
    return {name: median(found) for name, found in runs.items()}


# --- the parallel backfill -------------------------------------------------------------------


def backfill_job() -> dg.JobDefinition:
    """The code location's `rollups_backfill`, with its resources (rebuilt in each step)."""
    from seneca_assets.definitions import defs

    return defs().resolve_job_def("rollups_backfill")


def backfill(lake: Path, grain: str, first: str, last: str, processes: int) -> dict[str, float]:
    """One `rollups_backfill` run on `processes` processes, the pool at `processes`.

    Its wall time, and within it the chunks' (first start to last end) and the checks' steps.
    """
    from seneca_assets.defs.rollups.assets import GOLD_POOL
    from seneca_assets.defs.rollups.backfill import run_config

    os.environ["SENECA_LAKE_DIR"] = str(lake)
    home = WORK / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    overrides = {"concurrency": {"pools": {"granularity": "op", "default_limit": 1}}}
    with dg.DagsterInstance.local_temp(str(home), overrides=overrides) as instance:
        instance.event_log_storage.set_concurrency_slots(GOLD_POOL, processes)
        began = time.perf_counter()
        with dg.execute_job(
            dg.reconstructable(backfill_job),
            instance=instance,
            run_config={**run_config(grain, first, last, processes), **QUIET},
        ) as result:
            wall = time.perf_counter() - began
            if not result.success:
                raise RuntimeError(f"the {grain} backfill on {processes} processes failed")
            failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
            if failed:
                raise RuntimeError(f"the {grain} backfill's checks failed: {failed}")
            times: dict[str, list[float]] = {}
            for record in instance.all_logs(result.run_id):
                event = record.dagster_event
                if event and event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
                    name = str(event.step_key).split("[")[0]
                    times.setdefault(f"{name} {event.event_type_value}", []).append(
                        record.timestamp
                    )
    return {
        "wall_s": wall,
        "chunks_s": max(times["rollup_chunk STEP_SUCCESS"]) - min(times["rollup_chunk STEP_START"]),
        "checks_s": times["rollup_backfill_checks STEP_SUCCESS"][0]
        - times["rollup_backfill_checks STEP_START"][0],
    }


def backfills(source: Path, first_day: datetime, days: int, repeats: int) -> dict[str, Any]:
    """Rebuilds of `days` days, hourly then daily, with 1, 2 and 4 processes, alternating.

    Each on a copy of `source`, whose rollups are built (so that the checks, which judge every
    closed hour and day, pass): a backfill after a change of the rollups' code, say.
    """
    lake = WORK / "backfill_lake"
    last_day = first_day + timedelta(days=days - 1)
    hour_keys = (f"{first_day:%Y-%m-%d}-00:00", f"{last_day:%Y-%m-%d}-23:00")
    day_keys = (f"{first_day:%Y-%m-%d}", f"{last_day:%Y-%m-%d}")
    walls: dict[tuple[str, int], list[dict[str, float]]] = {}
    built: dict[int, dict[str, int]] = {}
    for _ in range(repeats):
        for processes in PROCESSES:
            shutil.rmtree(lake, ignore_errors=True)
            shutil.copytree(source, lake)
            for grain, (first, last) in (("hourly", hour_keys), ("daily", day_keys)):
                run = backfill(lake, grain, first, last, processes)
                walls.setdefault((grain, processes), []).append(run)
                print("backfill", grain, processes, run, flush=True)
            built[processes] = gold_rows(lake)
    if len({tuple(sorted(rows.items())) for rows in built.values()}) != 1:
        raise RuntimeError(f"the backfills on 1, 2 and 4 processes built different tables: {built}")
    inline: dict[str, list[dict[str, Any]]] = {"hourly": [], "daily": []}
    asset: dict[str, list[dict[str, Any]]] = {"hourly": [], "daily": []}
    keys = {"hourly": hour_keys, "daily": day_keys}
    for _ in range(repeats):
        for grain in inline:
            inline[grain].append(step(grain, Path(), str(lake), first_day, days))
            asset[grain].append(run_asset(grain, *keys[grain]))
            print("inline", grain, inline[grain][-1], "asset", asset[grain][-1], flush=True)
    return {
        "walls": walls,
        "inline": {grain: median(runs) for grain, runs in inline.items()},
        "asset": {grain: median(runs) for grain, runs in asset.items()},
        "rows": built[PROCESSES[0]],
    }


def run_asset(grain: str, first: str, last: str) -> dict[str, Any]:
    """The rollup asset's single-run backfill of first..last, in a fresh process."""
    args = [PYTHON, "-c", ASSET_RUN, grain, first, last]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {grain} asset run failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def gold_rows(lake: Path) -> dict[str, int]:
    """Rows of every rollup table the backfills write."""
    from seneca_assets.lib.gold_tables import TIERS
    from seneca_assets.lib.lake import Lake

    found = Lake(lake)
    tables = [*TIERS["hourly"], *TIERS["daily"]]
    return {table.name: found.scan(table).select(pl.len()).collect().item() for table in tables}


# --- concurrent commits ----------------------------------------------------------------------


def _writer(
    where: str, pattern: str, writer: int, commits: int, barrier: Any
) -> tuple[float, float, int]:
    """One writer process: `commits` commits to one table; (start, end, writes attempted)."""
    import seneca_assets.lib.lake as lake_module
    from seneca_assets.lib.gold_tables import ACTIVITY_HOURLY
    from seneca_assets.lib.lake import Lake, time_literal

    real, attempts = lake_module.write_deltalake, [0]

    def counted(*args: Any, **kwargs: Any) -> None:
        attempts[0] += 1
        real(*args, **kwargs)

    lake_module.write_deltalake = counted  # type: ignore[assignment]
    lake = Lake(where)
    lake.table(ACTIVITY_HOURLY)
    day = CORPUS_START + timedelta(days=writer)
    barrier.wait(timeout=300)
    began = time.time()
    for n in range(commits):
        if pattern == "append":
            row = {"bucket": [day], "agent_id": [f"w{writer}"], "kind": ["messages_sent"],
                   "count": [n + 1]}  # fmt: skip
            lake.write(ACTIVITY_HOURLY, pl.DataFrame(row, schema=ACTIVITY_HOURLY.schema))
        else:
            hours = [day + timedelta(hours=h) for h in range(24)]
            rows = {"bucket": hours, "agent_id": f"w{writer}", "kind": "messages_sent",
                    "count": n + 1}  # fmt: skip
            predicate = (
                f"bucket >= {time_literal(day)} AND bucket < {time_literal(day + timedelta(1))}"
            )
            lake.write(
                ACTIVITY_HOURLY,
                pl.DataFrame(rows, schema=ACTIVITY_HOURLY.schema),
                mode="overwrite",
                predicate=predicate,
            )
    return began, time.time(), attempts[0]


def commits(where: str, pattern: str, writers: int) -> dict[str, Any]:
    """`writers` processes racing COMMITS_PER_WRITER commits each into one fresh table."""
    from seneca_assets.lib.gold_tables import ACTIVITY_HOURLY
    from seneca_assets.lib.lake import Lake

    Lake(where).table(ACTIVITY_HOURLY)  # created before the race
    context = multiprocessing.get_context("spawn")  # delta-rs must not run in a forked child
    with context.Manager() as manager:
        barrier = manager.Barrier(writers)
        with context.Pool(writers) as pool:
            done = pool.starmap(
                _writer,
                [(where, pattern, w, COMMITS_PER_WRITER, barrier) for w in range(writers)],
            )
    wall = max(end for _, end, _ in done) - min(start for start, _, _ in done)
    total = writers * COMMITS_PER_WRITER
    table = Lake(where).table(ACTIVITY_HOURLY)
    rows = Lake(where).read(ACTIVITY_HOURLY)
    if pattern == "append":
        expected = total
        intact = rows.select("agent_id", "count").is_unique().all()
    else:
        expected = writers * 24
        intact = bool((rows.get_column("count") == COMMITS_PER_WRITER).all())
    return {
        "commits": total,
        "wall_s": wall,
        "per_s": total / wall,
        "lost": total - table.version(),  # version 0 is the creation
        "rows_ok": rows.height == expected and intact,
        "reruns": sum(attempts for _, _, attempts in done) - total,
    }


def commit_rates(places: dict[str, str]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every pattern and writer count, on every place, each into a fresh table."""
    found = {}
    for place, root in places.items():
        for pattern in ("append", "overwrite"):
            for writers in WRITERS:
                where = f"{root}/commits_{pattern}_{writers}"
                found[(place, pattern, writers)] = result = commits(where, pattern, writers)
                print("commits", place, pattern, writers, result, flush=True)
    return found


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    corpus = HERE / "work" / f"corpus_{args.days}x{args.agents}"
    ingest_bench.generate(corpus, args.days, args.agents, seed=1, start=CORPUS_START)
    truth = json.loads((corpus / "_seneca_ground_truth.json").read_text())
    start = datetime.fromisoformat(truth["start"].replace("Z", "+00:00"))
    size = ingest_bench.corpus_bytes(corpus)
    backfill_days = min(BACKFILL_DAYS, args.days)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    local = WORK / "lake"
    os.environ["SENECA_STATE_DIR"] = str(WORK / "state")  # the remote lake's local state

    def fresh_folder() -> str:
        shutil.rmtree(local, ignore_errors=True)
        return str(local)

    with running(WORK / "seaweed", volumes=0) as server:
        os.environ.update(server.env())
        os.environ.pop("AWS_S3_ALLOW_UNSAFE_RENAME", None)
        prefix = f"s3://{BUCKET}/scale-{uuid.uuid4().hex[:8]}"

        def fresh_prefix() -> str:
            return f"{prefix}/lake-{uuid.uuid4().hex[:6]}"

        on_folder = pipeline(corpus, start, args.days, args.repeats, fresh_folder)
        s3 = pipeline(corpus, start, args.days, args.repeats, fresh_prefix)
        rates = commit_rates({"folder": str(WORK / "commits"), "SeaweedFS": f"{prefix}/commits"})
    shutil.rmtree(WORK / "seaweed", ignore_errors=True)  # the S3 lakes: gigabytes, done with
    first_day = start + timedelta(days=(args.days - backfill_days) // 2)
    parallel = backfills(local, first_day, backfill_days, args.repeats)

    rows = [
        ("corpus", f"{size / 1e9:.2f} GB, {args.days} days x {args.agents} agents "
         f"(`benchmarks/ingest.py`'s), {on_folder['ingest']['events']:,} events", "~1 GB", ""),
    ]  # fmt: skip
    for name, label in (
        ("ingest", "ingestion run"),
        ("silver", "silver build"),
        ("hourly", f"hourly rollups of the {args.days} days"),
    ):
        here, there = on_folder[name], s3[name]
        rows.append(
            (
                f"{label}: folder / SeaweedFS",
                f"{here['wall_s']:.1f} s (of {here['all_s']}) / {there['wall_s']:.1f} s "
                f"(of {there['all_s']}) = {there['wall_s'] / here['wall_s']:.2f}x; peak "
                f"{here['peak_mb']:.0f} / {there['peak_mb']:.0f} MB",
                "",
                "",
            )
        )
    for grain, partitions in (("hourly", backfill_days * 24), ("daily", backfill_days)):
        one = median(parallel["walls"][(grain, 1)])["wall_s"]
        cells = []
        for processes in PROCESSES:
            run = median(parallel["walls"][(grain, processes)])
            cells.append(
                f"{processes}: {run['wall_s']:.1f} s (of {run['all_s']}; "
                f"{one / run['wall_s']:.2f}x): chunks {run['chunks_s']:.1f} s, "
                f"checks {run['checks_s']:.1f} s"
            )
        inline, asset = parallel["inline"][grain], parallel["asset"][grain]
        rows.append(
            (
                f"`rollups_backfill`, {grain}, {partitions} partitions ({backfill_days} days)",
                "; ".join(cells)
                + f"; the asset's single-run backfill in one process {asset['wall_s']:.1f} s "
                f"(of {asset['all_s']}); the build alone, without Dagster, "
                f"{inline['wall_s']:.1f} s; "
                + ", ".join(
                    f"{name} {rows:,} rows"
                    for name, rows in parallel["rows"].items()
                    if name.endswith(grain)
                ),
                "",
                "",
            )
        )
    for place in ("folder", "SeaweedFS"):
        for pattern in ("append", "overwrite"):
            found = [rates[(place, pattern, writers)] for writers in WRITERS]
            rows.append(
                (
                    f"commits/s, {pattern}s to one table, {place}",
                    "; ".join(
                        f"{w} writer{'s' * (w > 1)}: {r['per_s']:.1f}/s ({r['commits']} commits, "
                        f"{r['reruns']} re-run after a lost race)"
                        for w, r in zip(WRITERS, found, strict=True)
                    ),
                    "0 lost",
                    "met"
                    if all(r["lost"] == 0 and r["rows_ok"] for r in found)
                    else "NOT met: " + ", ".join(f"{r['lost']} lost" for r in found),
                )
            )
    ingest_bench.publish(
        "Scale-out (issue 9)",
        "`benchmarks/scale.py`. SeaweedFS 4.48 (`weed server` with its S3 gateway) on loopback "
        "on the same machine, so its CPU competes with Seneca's; each pipeline step in a fresh "
        f"process, timed around the call, median of {args.repeats} runs from an empty lake. "
        "Backfills: `rollups_backfill`, in the run's process for 1 process, else on the "
        "multiprocess executor (spawned step processes, each loading the code location), the "
        "`seneca_gold` pool at the process count, "
        f"rebuilding the hourly then the daily rollups of {backfill_days} days in the middle of "
        "the corpus, on a copy of its lake with every rollup built (so that the checks, which "
        f"judge every closed hour and day, pass); {args.repeats} alternating runs each, timed "
        "around `execute_job` (with 2 and 4 processes, three waves of step processes: the "
        "plan, the chunks, the checks); chunks = first chunk's start to last chunk's end, "
        "including the recording of their partitions; the speedup is against 1 "
        "process. Every backfill records one materialization per partition and table in the "
        "instance's SQLite event log. Commits: "
        f"{COMMITS_PER_WRITER} per writer, each writer a spawned process, through `Lake.write`, "
        "into a fresh `gold/activity_hourly`; a lost commit is one missing from the table's "
        "versions, and every row is checked.",
        rows,
        record=not args.no_record,
    )


if __name__ == "__main__":
    main()
