"""Ingestion speed, memory and size against the targets of the foundation issue.

Measures, in one run on one machine, whole processes started from scratch, each after the corpus
has been read once so that every contender starts with it in the page cache:
- bare DuckDB: `read_ndjson_objects` -> timestamp and payload -> zstd Parquet (no validation, no
  dedupe): the ceiling;
- the seed's reader: `json.loads` per line into a list of dicts, sorted by timestamp: the floor;
- `seneca ingest` on a fresh lake; then after appending ~1% new lines; then memory at 1/4, 1/2
  and all of the corpus; then a run with nothing new over 50,000 files.
Results are appended to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/ingest.py [--days 60] [--agents 60] [--skip-seed]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
PYTHON = sys.executable
SENECA = [PYTHON, "-m", "seneca_assets.cli"]

MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": wall, "peak_mb": peak_kb / 1024, "rc": done.returncode,
                      "stderr": done.stderr.decode()[-2000:]}))
    """
)

DUCKDB_BASELINE = textwrap.dedent(
    """
    import sys, duckdb
    src, out = sys.argv[1], sys.argv[2]
    duckdb.sql(f\"\"\"COPY (SELECT json_extract_string(json, '$.timestamp')::TIMESTAMPTZ AS ts,
                json AS payload FROM read_ndjson_objects('{src}/**/*.jsonl'))
               TO '{out}' (FORMAT parquet, COMPRESSION zstd)\"\"\")
    """
)

IN_RUN = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from seneca_assets.lib.config import IngestSettings
    from seneca_assets.lib.ingest import bronze_health, ingest
    from seneca_assets.lib.lake import Lake
    settings = IngestSettings(Path(sys.argv[1]), Path(sys.argv[2]))
    start = time.perf_counter()
    report = ingest(settings)
    bronze_health(Lake(settings.lake_dir), report.since_batch)
    print(json.dumps({"run_s": time.perf_counter() - start, "stored": report.events_stored}))
    """
)
"""The ingestion run alone (with its duplicate check), without interpreter and Dagster start-up."""

SEED_READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    records = []
    for path in sorted(Path(sys.argv[1]).rglob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    records.append(json.loads(line))
    records.sort(key=lambda r: r.get("timestamp", ""))
    print(len(records))
    """
)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall time and peak RSS of one whole process."""
    out = subprocess.run(
        [PYTHON, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env, check=True
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{cmd} failed: {result['stderr']}")
    return result


def in_run(logs: Path, lake: Path) -> dict:
    """Time of the ingestion run inside its process."""
    out = subprocess.run(
        [PYTHON, "-c", IN_RUN, str(logs), str(lake)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


REPEATS = 3
"""The fast contenders run this many times and the median counts (the VM is noisy)."""


def median_of(repeats: int, run, corpus: Path) -> dict:
    """The run with the median wall time of `repeats`, each started from a warm cache."""
    results = []
    for _ in range(repeats):
        warm(corpus)
        results.append(run())
    results.sort(key=lambda r: r["wall_s"])
    middle = dict(results[len(results) // 2])
    middle["all_wall_s"] = [round(r["wall_s"], 2) for r in results]
    return middle


def warm(folder: Path) -> None:
    """Settle pending writes, then read every file once: each contender starts alike."""
    os.sync()
    for path in folder.rglob("*.jsonl"):
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass


def corpus_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.jsonl"))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def generate(folder: Path, days: int, agents: int, seed: int, start: datetime) -> None:
    from seneca_assets.lib.simulate import simulate_deployment

    if (folder / "_seneca_ground_truth.json").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    simulate_deployment(folder, days=days, agents=agents, seed=seed, start=start)


def seneca_ingest(logs: Path, lake: Path, fresh: bool = True) -> dict:
    if fresh:
        shutil.rmtree(lake, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return measure([*SENECA, "ingest", "--logs", str(logs), "--lake", str(lake)], env=env)


def append_one_percent(
    corpus: Path, days: int, agents: int, later_days: int = 0
) -> tuple[dict[Path, int], int]:
    """Append new lines (a continuation of the deployment) to the newest file of each stream.

    `later_days` > 0 appends another continuation (another seed), starting that many days after
    the first: new lines for a lake that ingested the first one already (this benchmark leaves
    `WORK / "lake"` so).
    """
    extra = WORK / ("continuation" if not later_days else f"continuation_{later_days}")
    total = corpus_bytes(corpus)
    generate(
        extra,
        1,
        max(1, round(0.01 * days * agents)),
        seed=7 + later_days,
        start=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=days + later_days),
    )
    newest: dict[str, Path] = {}
    for path in sorted(corpus.rglob("*.jsonl")):
        newest[path.name.split("_2")[0]] = path
    original: dict[Path, int] = {}
    added = 0
    for path in sorted(extra.rglob("*.jsonl")):
        target = newest.get(path.name.split("_2")[0])
        if target is None or added > total // 100:
            continue
        original.setdefault(target, target.stat().st_size)
        data = path.read_bytes()
        with open(target, "ab") as handle:
            handle.write(data)
        added += len(data)
    return original, added


def subset(corpus: Path, share: float, name: str) -> Path:
    """A folder of links to the oldest `share` of the corpus's bytes."""
    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    files = sorted(corpus.rglob("*.jsonl"), key=lambda p: p.name.split("_")[-1])
    budget, used = share * corpus_bytes(corpus), 0
    for path in files:
        if used >= budget:
            break
        link = folder / path.relative_to(corpus)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)
        used += path.stat().st_size
    return folder


def many_files(folder: Path, count: int) -> None:
    if folder.exists() and sum(1 for _ in folder.iterdir()) == count:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    line = (
        '{"timestamp": "2026-11-%02dT10:00:%02d.%06d+00:00", "event_type": "tool_call", '
        '"client_id": "agent-%d", "tool_name": "ping", "success": true, "details": {}}\n'
    )
    for i in range(count):
        text = "" if i % 10 == 0 else line % (1 + i % 28, i % 60, i, i % 7)
        (folder / f"audit_2026{i:08d}.jsonl").write_text(text)


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB, Python {platform.python_version()}"


def publish(title: str, intro: str, rows: list[tuple[str, str, str, str]], record: bool) -> str:
    """Print a dated RESULTS.md section (the machine, `intro`, a table of `rows`: measure,
    result, target, verdict) and append it to benchmarks/RESULTS.md when `record`."""
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    section = (
        f"\n## {title} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine()}. {intro}\n\n"
        "| measure | result | target | |\n|---|---|---|---|\n" + table + "\n"
    )
    print(section)
    if record:
        with open(Path(__file__).resolve().parent / "RESULTS.md", "a", encoding="utf-8") as out:
            out.write(section)
    return section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--skip-seed", action="store_true", help="skip the slow seed reader")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    corpus = WORK / f"corpus_{args.days}x{args.agents}"
    generate(corpus, args.days, args.agents, seed=1, start=datetime(2026, 9, 1, tzinfo=UTC))
    size = corpus_bytes(corpus)
    files = sum(1 for _ in corpus.rglob("*.jsonl"))
    lake = WORK / "lake"
    print(f"corpus: {size / 1e9:.2f} GB in {files:,} files")

    duck = median_of(
        REPEATS,
        lambda: measure([PYTHON, "-c", DUCKDB_BASELINE, str(corpus), str(WORK / "duckdb.parquet")]),
        corpus,
    )
    print("duckdb", duck)
    warm(corpus)
    seed = None if args.skip_seed else measure([PYTHON, "-c", SEED_READER, str(corpus)])
    print("seed", seed)
    full = median_of(REPEATS, lambda: seneca_ingest(corpus, lake), corpus)
    print("seneca full", full)
    events_bytes = folder_bytes(lake / "bronze" / "events")

    shutil.rmtree(WORK / "lake_run", ignore_errors=True)
    warm(corpus)
    full_run = in_run(corpus, WORK / "lake_run")
    original, added = append_one_percent(corpus, args.days, args.agents)
    try:
        incremental = seneca_ingest(corpus, lake, fresh=False)
        incremental_run = in_run(corpus, WORK / "lake_run")
    finally:
        for path, length in original.items():
            os.truncate(path, length)
    print("seneca +1%", added, incremental, full_run, incremental_run)

    memory = {}
    for share in (0.25, 0.5):
        part = subset(corpus, share, f"subset_{int(share * 100)}")
        warm(part)
        memory[share] = seneca_ingest(part, WORK / "lake_subset")
        print("memory", share, memory[share])
    memory[1.0] = full

    fifty = WORK / "files_50000"
    many_files(fifty, 50_000)
    seneca_ingest(fifty, WORK / "lake_50000")
    idle = seneca_ingest(fifty, WORK / "lake_50000", fresh=False)
    print("no-change over 50,000 files", idle)

    rows = [
        (
            "corpus",
            f"{size / 1e9:.2f} GB, {files:,} files ({args.days} days x {args.agents} "
            "agents, `simulate_deployment`)",
            "~1 GB",
            "",
        ),
        (
            "bare DuckDB conversion",
            f"{duck['wall_s']:.1f} s (median of {duck['all_wall_s']}), "
            f"{duck['peak_mb']:.0f} MB peak",
            "ceiling",
            "",
        ),
        (
            "seed reader",
            "skipped" if seed is None else f"{seed['wall_s']:.1f} s, {seed['peak_mb']:.0f} MB peak",
            "floor",
            "",
        ),
        (
            "`seneca ingest`, fresh lake",
            f"{full['wall_s']:.1f} s (median of {full['all_wall_s']}), "
            f"{full['peak_mb']:.0f} MB peak",
            "",
            "",
        ),
        (
            "throughput vs DuckDB",
            f"{duck['wall_s'] / full['wall_s']:.2f}",
            ">= 0.33",
            "met" if duck["wall_s"] / full["wall_s"] >= 1 / 3 else "NOT met",
        ),
    ]
    if seed is not None:
        ratio = seed["wall_s"] / full["wall_s"]
        rows.append(
            (
                "throughput vs seed reader",
                f"{ratio:.1f}x",
                ">= 4x",
                "met" if ratio >= 4 else "NOT met",
            )
        )
    peak = max(m["peak_mb"] for m in memory.values())
    rows += [
        (
            "peak memory at 1/4, 1/2, all",
            ", ".join(f"{memory[s]['peak_mb']:.0f} MB" for s in (0.25, 0.5, 1.0)),
            "<= 1,500 MB, flat",
            ("met" if peak <= 1500 else "bound NOT met")
            + ("" if peak <= 1.1 * memory[0.25]["peak_mb"] else ", not flat"),
        ),
        (
            "run after +1% lines, whole process",
            f"{incremental['wall_s']:.2f} s = "
            f"{100 * incremental['wall_s'] / full['wall_s']:.1f}% of full "
            f"({added / 1e6:.1f} MB added)",
            "<= 5%",
            "met" if incremental["wall_s"] <= 0.05 * full["wall_s"] else "NOT met",
        ),
        (
            "run after +1% lines, ingestion run only",
            f"{incremental_run['run_s']:.2f} s = "
            f"{100 * incremental_run['run_s'] / full_run['run_s']:.1f}% of the full run "
            f"({full_run['run_s']:.1f} s)",
            "<= 5%",
            "met" if incremental_run["run_s"] <= 0.05 * full_run["run_s"] else "NOT met",
        ),
        (
            "no-change run, 50,000 files",
            f"{idle['wall_s']:.2f} s",
            "<= 3 s",
            "met" if idle["wall_s"] <= 3 else "NOT met",
        ),
        (
            "bronze/events on disk",
            f"{events_bytes / 1e6:.0f} MB = 1/{size / events_bytes:.1f} of the JSONL",
            "<= 1/8",
            "met" if events_bytes * 8 <= size else "NOT met",
        ),
    ]
    lines = [
        "",
        f"## Ingestion — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. Whole processes (`benchmarks/ingest.py`); DuckDB and the "
        f"full ingest are medians of {REPEATS} runs, the rest single runs.",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    results = HERE / "RESULTS.md"
    if not results.exists():
        results.write_text(
            "# Benchmark results\n\nNewest last. Each section is one run of a "
            "script in this folder on the machine it names.\n"
        )
    with open(results, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
