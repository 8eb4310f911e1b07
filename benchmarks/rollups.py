"""Rollup speed and storage against the targets of the rollups issue.

Builds a silver/metrics table of POINTS synthetic raw points (series of lognormal, bimodal and
zero-heavy values over 60 days), then measures, each in a fresh process and timed around the
call only:
- the baseline: DuckDB's GROUP BY (hour, name, tags; count, sum, min, max, exact quantiles) over
  the same Delta table (registered through Arrow);
- `rollups.from_points` over the same table (hourly rows with sketches and percentiles);
- daily rows from the hourly rows, and monthly rows from the daily rows (`rollups.from_tier`);
and the bytes each tier takes on disk per million raw points. A section is appended to
benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/rollups.py [--points 10000000] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, for machine())

WORK = HERE / "work" / "rollups"
PYTHON = sys.executable
DAYS = 60
SERIES = 240
RUNS = 7
"""Runs of the baseline and of the hourly rollup, alternating; their medians are compared."""

MAKE = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import numpy as np, polars as pl
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.metrics import finish
    from seneca_assets.lib.model.tables import METRICS
    lake = Lake(sys.argv[1])
    points, days, series = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(1)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    step = 2_000_000
    for first in range(0, points, step):
        n = min(step, points - first)
        which = rng.integers(0, series, n)
        kind = which % 3
        bimodal = np.where(rng.random(n) < 0.5, rng.normal(20, 2, n), rng.normal(900, 50, n))
        zeros = np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(1, 2, n))
        values = np.where(kind == 0, rng.lognormal(5, 1.3, n), np.where(kind == 1, bimodal, zeros))
        micros = np.sort(rng.integers(0, days * 86_400_000_000, n))
        frame = pl.DataFrame({
            "timestamp": pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC") + (start - datetime(1970, 1, 1, tzinfo=UTC)),
            "name": [f"metric_{w % 40}" for w in which],
            "value": values,
            "unit": "ms",
            "tags": [f'{{"agent":"a{w // 40}"}}' for w in which],
            "source": "bench", "derivation": "given", "subject": None,
            "event_id": pl.Series([f"{first + i:032x}" for i in range(n)]),
        })
        lake.write(METRICS, finish(frame))
    print("made")
    """
)

STEP = textwrap.dedent(
    """
    import json, resource, sys, time
    import polars as pl
    from deltalake import DeltaTable
    from seneca_assets.lib import rollups as R
    from seneca_assets.lib.gold_tables import TIERS
    from seneca_assets.lib.lake import Lake
    from seneca_assets.lib.model.tables import METRICS
    step, root = sys.argv[1], sys.argv[2]
    lake = Lake(root)
    out = {}
    if step == "duckdb":
        import duckdb
        con = duckdb.connect()
        con.register("points", DeltaTable(lake.uri(METRICS)).to_pyarrow_dataset())
        start = time.perf_counter()
        rows = con.sql(
            "SELECT date_trunc('hour', timestamp) AS bucket, name, tags, count(value), sum(value), "
            "min(value), max(value), quantile_disc(value, [0.5, 0.9, 0.95, 0.99]) "
            "FROM points GROUP BY ALL"
        ).to_arrow_table()
        wall = time.perf_counter() - start
        out["rows"] = rows.num_rows
    elif step == "hourly":
        start = time.perf_counter()
        points = lake.scan(METRICS).select("timestamp", "name", "tags", "value", "unit")
        rows = R.from_points(points, "1h")
        wall = time.perf_counter() - start
        lake.write(TIERS["hourly"][0], rows, mode="overwrite")
        out["rows"] = rows.height
    else:
        finer = {"daily": "hourly", "monthly": "daily"}[step]
        start = time.perf_counter()
        rows = R.from_tier(lake.scan(TIERS[finer][0]), R.GRAINS[step])
        wall = time.perf_counter() - start
        lake.write(TIERS[step][0], rows, mode="overwrite")
        out["rows"] = rows.height
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_mb": peak, **out}))
    """
)


def run(*args: str) -> dict:
    done = subprocess.run([PYTHON, "-c", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1]) if "{" in done.stdout else {}


def _median(runs: list[dict]) -> dict:
    """The run of median wall time."""
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def size(folder: Path) -> int:
    """Bytes of the files the table's current version uses (older versions' files excluded)."""
    from deltalake import DeltaTable

    actions = DeltaTable(str(folder)).get_add_actions(flatten=True)
    return int(sum(actions.column("size_bytes").to_pylist()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    lake = WORK / f"lake_{args.points}"
    if not (lake / "silver" / "metrics").exists():
        shutil.rmtree(lake, ignore_errors=True)
        subprocess.run(
            [PYTHON, "-c", MAKE, str(lake), str(args.points), str(DAYS), str(SERIES)], check=True
        )
    duck, hourly = [], []
    for _ in range(RUNS):  # alternating, so that the machine's moods fall on both alike
        duck.append(run(STEP, "duckdb", str(lake)))
        hourly.append(run(STEP, "hourly", str(lake)))
    daily = _median([run(STEP, "daily", str(lake)) for _ in range(3)])
    monthly = _median([run(STEP, "monthly", str(lake)) for _ in range(3)])
    best_duck = sorted(d["wall_s"] for d in duck)[RUNS // 2]
    best_hourly = sorted(h["wall_s"] for h in hourly)[RUNS // 2]
    millions = args.points / 1e6
    tiers = {t: size(lake / "gold" / f"metrics_{t}") for t in ("hourly", "daily", "monthly")}
    raw = size(lake / "silver" / "metrics")
    ratio = best_hourly / best_duck
    rows = [
        (
            "raw points",
            f"{args.points:,} in silver/metrics ({SERIES} series, {DAYS} days); "
            f"{raw / millions / 1e6:.1f} MB per million",
            "10 M",
            "",
        ),
        (
            "DuckDB GROUP BY hour (baseline)",
            f"{best_duck:.2f} s (median of {[round(d['wall_s'], 2) for d in duck]})",
            "",
            "",
        ),
        (
            "hourly rollup with sketches",
            f"{best_hourly:.2f} s (median of {[round(h['wall_s'], 2) for h in hourly]}), "
            f"{hourly[0]['peak_mb']:.0f} MB peak, {hourly[0]['rows']:,} rows",
            "",
            "",
        ),
        ("hourly vs DuckDB", f"{ratio:.2f}x", "<= 1.5x", "met" if ratio <= 1.5 else "NOT met"),
        (
            "daily from hourly",
            f"{daily['wall_s']:.2f} s, {daily['rows']:,} rows",
            "<= 1 s",
            "met" if daily["wall_s"] <= 1 else "NOT met",
        ),
        (
            "monthly from daily",
            f"{monthly['wall_s']:.2f} s, {monthly['rows']:,} rows",
            "<= 1 s",
            "met" if monthly["wall_s"] <= 1 else "NOT met",
        ),
        (
            "storage per million raw points",
            ", ".join(f"{t} {b / millions / 1e6:.2f} MB" for t, b in tiers.items()),
            "",
            "",
        ),
    ]
    ingest_bench.publish(
        "Rollups",
        "Each step in a fresh process (`benchmarks/rollups.py`), timed around the call only; "
        f"DuckDB and the hourly rollup are medians of {RUNS} alternating runs, daily and monthly "
        "medians of 3.",
        rows,
        record=not args.no_record,
    )


if __name__ == "__main__":
    main()
