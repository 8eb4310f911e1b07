"""Source reliability: files whose lines could not be used, and files left half-written.

Marcus writes one file per server process (conversations) or per day (the other streams), so a
file is the unit a broken writer shows up in.
- **Quarantined lines**: a file with at least MIN_QUARANTINED lines in bronze/quarantine and at
  least MAX_SHARE of its lines there (its last line apart, which the next check judges).
- **An abandoned tail**: a file whose last line was half-written (quarantined, and the last
  line of the file), when a later file of the same stream exists: the process that wrote it
  stopped mid-line and never came back to it.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.quality.finding import Finding

MIN_QUARANTINED = 3
MAX_SHARE = 0.01
CHECK_QUARANTINE, CHECK_TAIL = "reliability.quarantined_lines", "reliability.abandoned_tail"


def unreliable_files(
    events: pl.DataFrame, quarantine: pl.DataFrame, files: pl.DataFrame
) -> list[Finding]:
    """Findings per file.

    `events`: bronze `event_id`, `source_file`; `quarantine`: bronze/quarantine; `files`:
    bronze/ingest_files (`path`, `stream`, `lines`, `updated_at`).
    """
    stored = events.group_by("source_file").agg(stored=pl.len())
    last = files.select("path", "stream", "lines", "updated_at")
    marked = quarantine.join(last, left_on="source_file", right_on="path", how="left").with_columns(
        tail=pl.col("line_number") == pl.col("lines")
    )
    bad = (
        marked.filter(~pl.col("tail"))
        .sort("line_number")
        .group_by("source_file", "stream")
        .agg(
            quarantined=pl.len(),
            first=pl.col("ingested_at").min(),
            lines=pl.col("line_number"),
            reasons=pl.col("reason").unique().sort(),
        )
        .join(stored, on="source_file", how="left")
        .with_columns(pl.col("stored").fill_null(0))
        .filter(
            (pl.col("quarantined") >= MIN_QUARANTINED)
            & (pl.col("quarantined") >= MAX_SHARE * (pl.col("quarantined") + pl.col("stored")))
        )
        .sort("source_file")
    )
    out = [
        Finding(
            check=CHECK_QUARANTINE,
            severity="error",
            stream=row["stream"],
            table="bronze/quarantine",
            subject_kind="file",
            subject=row["source_file"],
            observed=f"{row['quarantined']:,} of its {row['quarantined'] + row['stored']:,} "
            f"lines quarantined (lines {_lines(row['lines'])}): {'; '.join(row['reasons'][:3])}",
            expected=f"fewer than {MIN_QUARANTINED} lines, or {MAX_SHARE:.0%} of them",
        )
        for row in bad.iter_rows(named=True)
    ]
    newest = files.group_by("stream").agg(newest=pl.col("path").max())
    tails = (
        marked.filter(pl.col("tail"))
        .join(newest, on="stream")
        .filter(pl.col("source_file") < pl.col("newest"))
        .sort("source_file")
    )
    out += [
        Finding(
            check=CHECK_TAIL,
            severity="warning",
            stream=row["stream"],
            table="bronze/quarantine",
            subject_kind="file",
            subject=row["source_file"],
            observed=f"line {row['line_number']:,}, its last, half-written ({row['reason']}), "
            f"and the stream went on in {row['newest']}",
            expected="a file that ends with a complete line",
        )
        for row in tails.iter_rows(named=True)
    ]
    return out


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(f"{n:,}" for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5:,} more" if len(numbers) > 5 else "")
