"""All the data-quality checks over the lake, as one ops/dq_findings table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.duck import hex_ids
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.fields import conform
from seneca_assets.lib.model.tables import TASK_EVENTS
from seneca_assets.lib.quality.completeness import partial_records
from seneca_assets.lib.quality.consistency import tasks_in_two_projects
from seneca_assets.lib.quality.finding import Finding
from seneca_assets.lib.quality.placeholders import placeholders
from seneca_assets.lib.quality.reliability import unreliable_files
from seneca_assets.lib.quality.schema import fields, schema_findings
from seneca_assets.lib.quality.scores import scores
from seneca_assets.lib.quality.tables import DQ_FINDINGS
from seneca_assets.lib.quality.timing import future_times, out_of_order, silent_streams, volume
from seneca_assets.lib.quality.twins import twin_findings
from seneca_assets.lib.schemas import EVENTS, INGEST_FILES, QUARANTINE

_EVENT_COLUMNS = (
    "event_id", "stream", "kind", "event_time", "ingested_at", "source_file", "line_number",
    "payload", "time_zone_assumed",
)  # fmt: skip


@dataclass(frozen=True)
class Assessment:
    """What the checks found: the three data-quality tables."""

    findings: pl.DataFrame
    scores: pl.DataFrame
    placeholders: pl.DataFrame


def assess(lake: Lake, now: datetime) -> Assessment:
    """Every check over bronze and silver/task_events: findings, scores and placeholders."""
    events = (
        lake.scan(EVENTS).select(_EVENT_COLUMNS).collect()
        if lake.exists(EVENTS)
        else EVENTS.empty().select(_EVENT_COLUMNS)
    )
    task_events, quarantine, files = (
        lake.read(spec) if lake.exists(spec) else spec.empty()
        for spec in (TASK_EVENTS, QUARANTINE, INGEST_FILES)
    )
    rows: list[Finding] = []
    marked = []
    # The fields of every event, a stream at a time (each check compares within a stream):
    # exploding every payload at once held 18 GB for 2.3 M events.
    for (_,), part in events.group_by(["stream"], maintain_order=True):
        seen = fields(part)
        rows += [*schema_findings(part, seen), *partial_records(part, seen)]
        marked.append(placeholders(seen, now))
        del seen
    rows += [
        *silent_streams(events),
        *volume(events, now),
        *future_times(events),
        *out_of_order(events),
        *tasks_in_two_projects(task_events),
        *unreliable_files(events, quarantine, files),
        *twin_findings(task_events, events),
    ]
    table = as_table(rows, now)
    found = pl.concat(marked) if marked else placeholders(fields(events), now)
    return Assessment(table, scores(events, table, quarantine, now), found.sort(found.columns[:3]))


def as_table(found: list[Finding], now: datetime) -> pl.DataFrame:
    """Findings as the table: identities from check, subject and start; sorted."""
    schema = DQ_FINDINGS.schema
    if not found:
        return DQ_FINDINGS.empty()
    frame = pl.DataFrame(
        [{**asdict(finding), "evidence": list(finding.evidence)} for finding in found],
        schema={k: v for k, v in schema.items() if k not in ("finding_id", "computed_at")},
    ).with_columns(computed_at=pl.lit(now))
    frame = frame.with_columns(hex_ids(frame, ["check", "subject", "window_start"], "finding_id"))
    return conform(frame, schema).sort("severity", "check", "subject", "window_start")


def summary(table: pl.DataFrame, top: int = 15) -> str:
    """Markdown for people: counts by check and severity, and the findings themselves."""
    if table.is_empty():
        return "No findings: every check passed."
    counts = table.group_by("check", "severity").len().sort("check")
    return "\n".join(
        [
            f"{table.height:,} finding(s).",
            *markdown_table(["check", "severity", "findings"], counts.iter_rows()),
            *markdown_table(
                ["check", "subject", "observed", "expected"],
                (
                    (r["check"], r["subject"], r["observed"], r["expected"])
                    for r in table.head(top).iter_rows(named=True)
                ),
            ),
        ]
    )
