"""Silver build speed, memory and size against the targets of the silver issue.

On the same corpus as benchmarks/ingest.py (same seed and start, generated if missing), each step
in a fresh process, timed inside it around the call only (no interpreter or import start-up):
- the ingestion run `lib.ingest.ingest` into a fresh lake: the baseline;
- `build_silver` on that lake: the full build, with the peak memory of its process;
  the pair runs REPEATS times (once if the first pair is slow) and the medians count;
- `build_silver` again with nothing new: its fixed cost;
- after appending ~1% new lines (`append_one_percent`; the corpus is restored afterwards): the
  incremental ingestion run, then the incremental `build_silver`, as a share of the full build;
- rows written per table by the full build, and silver's size on disk against bronze/events.
A section is appended to benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/silver.py [--days 60] [--agents 60] [--no-record]

Validate changes to this script on a small corpus: `--days 4 --agents 4 --no-record`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, not seneca_assets.lib.ingest)

WORK = ingest_bench.WORK
PYTHON = sys.executable
REPEATS = ingest_bench.REPEATS
SLOW_PAIR_S = 60.0
"""If the first ingest + full build pair takes longer than this, it runs only once."""

STEP = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    step, logs, lake = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if step == "ingest":
        from seneca_assets.lib.config import IngestSettings
        from seneca_assets.lib.ingest import ingest
        settings = IngestSettings(log_dir=logs, lake_dir=lake, tail_grace_s=0)
        start = time.perf_counter()
        report = ingest(settings)
        wall = time.perf_counter() - start
        out = {"events": report.events_stored, "bytes_read": report.bytes_read}
    else:
        from seneca_assets.lib.lake import Lake
        from seneca_assets.lib.model.build import build_silver
        start = time.perf_counter()
        report = build_silver(Lake(lake))
        wall = time.perf_counter() - start
        out = {"rows": report.rows, "summary": report.summary()}
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"wall_s": wall, "peak_mb": peak_kb / 1024, **out}))
    """
)
"""One step in a fresh process: its call timed alone, and the peak RSS of the whole process."""


def step(name: str, logs: Path, lake: Path) -> dict:
    """Run `ingest` or `silver` on `lake` in a fresh process; its time and peak memory."""
    os.sync()
    done = subprocess.run(
        [PYTHON, "-c", STEP, name, str(logs), str(lake)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} on {lake} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def median_run(results: list[dict]) -> dict:
    """The result with the median wall time (as ingest.py's `median_of`), listing them all."""
    ordered = sorted(results, key=lambda r: r["wall_s"])
    middle = dict(ordered[len(ordered) // 2])
    middle["all_wall_s"] = [round(r["wall_s"], 2) for r in ordered]
    return middle


def full_pairs(corpus: Path, lake: Path) -> tuple[dict, dict]:
    """Fresh ingest then full silver build, REPEATS times (once if slow); the medians."""
    ingested: list[dict] = []
    built: list[dict] = []
    while len(built) < REPEATS:
        shutil.rmtree(lake, ignore_errors=True)
        ingest_bench.warm(corpus)
        ingested.append(step("ingest", corpus, lake))
        built.append(step("silver", corpus, lake))
        print(f"pair {len(built)}: ingest {ingested[-1]}\n  silver {built[-1]}", flush=True)
        if ingested[0]["wall_s"] + built[0]["wall_s"] > SLOW_PAIR_S:
            break
    return median_run(ingested), median_run(built)


def delta_sizes(folder: Path) -> tuple[int, int, int]:
    """Bytes on disk, bytes of the files the current versions use, and their count."""
    from deltalake import DeltaTable

    live = files = 0
    for log in folder.rglob("_delta_log"):
        actions = DeltaTable(str(log.parent)).get_add_actions(flatten=True)
        live += sum(actions.column("size_bytes").to_pylist())
        files += actions.num_rows
    return ingest_bench.folder_bytes(folder), live, files


def runs(result: dict) -> str:
    times = result["all_wall_s"]
    return f"median of {times}" if len(times) > 1 else "one run"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    corpus = WORK / f"corpus_{args.days}x{args.agents}"
    ingest_bench.generate(
        corpus, args.days, args.agents, seed=1, start=datetime(2026, 9, 1, tzinfo=UTC)
    )
    size = ingest_bench.corpus_bytes(corpus)
    files = sum(1 for _ in corpus.rglob("*.jsonl"))
    lake = WORK / "silver_lake"
    print(f"corpus: {size / 1e9:.2f} GB in {files:,} files", flush=True)

    ingested, built = full_pairs(corpus, lake)
    ratio = built["wall_s"] / ingested["wall_s"]
    events_disk, events_live, events_files = delta_sizes(lake / "bronze" / "events")
    silver_disk, silver_live, silver_files = delta_sizes(lake / "silver")
    quality_disk, _, _ = delta_sizes(lake / "ops" / "data_quality")

    idle = step("silver", corpus, lake)
    print("silver, nothing new", idle, flush=True)

    original, added = ingest_bench.append_one_percent(corpus, args.days, args.agents)
    try:
        ingest_bench.warm(corpus)
        more = step("ingest", corpus, lake)
        grown = step("silver", corpus, lake)
    finally:
        for path, length in original.items():
            os.truncate(path, length)
    print(f"+1% ({added:,} bytes): ingest {more}\n  silver {grown}", flush=True)
    share = grown["wall_s"] / built["wall_s"]

    rows = [
        (
            "corpus",
            f"{size / 1e9:.2f} GB, {files:,} files ({args.days} days x {args.agents} "
            f"agents, `simulate_deployment`), {ingested['events']:,} events",
            "~1 GB",
            "",
        ),
        (
            "ingestion run, fresh lake (baseline)",
            f"{ingested['wall_s']:.1f} s ({runs(ingested)}), {ingested['peak_mb']:.0f} MB peak",
            "",
            "",
        ),
        (
            "`build_silver`, full",
            f"{built['wall_s']:.1f} s ({runs(built)}), {built['peak_mb']:.0f} MB peak",
            "",
            "",
        ),
        ("full build vs ingestion run", f"{ratio:.2f}x", "<= 1.5x", verdict(ratio <= 1.5)),
        (
            "`build_silver`, nothing new",
            f"{idle['wall_s']:.2f} s = {100 * idle['wall_s'] / built['wall_s']:.1f}% of full",
            "",
            "",
        ),
        (
            "ingestion run after +1% lines",
            f"{more['wall_s']:.2f} s, {more['events']:,} events ({added / 1e6:.1f} MB added)",
            "",
            "",
        ),
        (
            "`build_silver` after +1% lines",
            f"{grown['wall_s']:.2f} s = {100 * share:.1f}% of the full build, "
            f"{grown['peak_mb']:.0f} MB peak",
            "<= 5%",
            verdict(share <= 0.05),
        ),
        (
            "rows written by the full build",
            ", ".join(f"{name} {count:,}" for name, count in built["rows"].items()),
            "",
            "",
        ),
        (
            "silver/ on disk",
            f"{silver_disk / 1e6:.1f} MB ({silver_live / 1e6:.1f} MB in the {silver_files:,} "
            f"files of the current versions) = {silver_live / events_live:.2f}x bronze/events "
            f"({events_disk / 1e6:.1f} MB; {events_live / 1e6:.1f} MB in {events_files:,} files); "
            f"ops/data_quality {quality_disk / 1e6:.1f} MB",
            "",
            "",
        ),
    ]
    lines = [
        "",
        f"## Silver build — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {ingest_bench.machine()}. Each step in a fresh process "
        "(`benchmarks/silver.py`), timed around the call only; peak memory is the whole "
        f"process's. The ingest and full build pair ran {len(built['all_wall_s'])} time(s) "
        "and the medians count; the rest are single runs.",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    print("\n".join(lines))
    if not args.no_record:
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines))


if __name__ == "__main__":
    main()
