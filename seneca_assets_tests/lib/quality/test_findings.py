"""Data quality: each problem injected into simulated logs is found, naming its subject and
its first evidence; the same logs undamaged give no finding at all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.quality.findings import assess, summary
from seneca_assets.lib.quality.tables import DQ_FINDINGS, DQ_PLACEHOLDERS, DQ_SCORES
from seneca_assets.lib.schemas import EVENTS
from seneca_assets.lib.simulate import simulate_deployment
from seneca_assets.lib.simulate_faults import Fault, inject
from seneca_assets_tests.lib.model.pipeline import run_pipeline

START = datetime(2026, 11, 2, tzinfo=UTC)
NOW = datetime(2026, 11, 8, tzinfo=UTC)


def _lake(root: Path, damaged: bool) -> tuple[Lake, list[Fault]]:
    simulate_deployment(root / "logs", days=5, agents=4, seed=11, start=START)
    faults = inject(root / "logs", START) if damaged else []
    return run_pipeline(root / "logs", root / "lake"), faults


MARCUS_PLACEHOLDERS = {
    ("realtime", "project_state_refreshed", "project_state.blocked_tasks"),
    ("realtime", "project_state_refreshed", "project_state.team_velocity"),
    ("conversations", "system_state", "tasks_blocked"),
}
"""The constants Marcus itself writes (and the generator with it): always 0 and 0.0. The third
is a real count that is 0 at every snapshot of these five days (no task was blocked when one
was taken): nothing in the records can tell it from a placeholder until it moves."""


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    lake, _ = _lake(tmp_path_factory.mktemp("clean"), damaged=False)
    found = assess(lake, NOW)
    return found.findings, found.placeholders, found.scores


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory):
    lake, faults = _lake(tmp_path_factory.mktemp("damaged"), damaged=True)
    found = assess(lake, NOW)
    return found.findings, faults, lake, found.placeholders, found.scores


def test_the_clean_corpus_yields_no_finding(clean):
    clean, marked, _ = clean
    assert clean.schema == DQ_FINDINGS.schema
    assert clean.is_empty(), clean.select("check", "subject", "observed").rows()
    assert summary(clean) == "No findings: every check passed."
    # Marcus's own placeholders are marked for analytics to leave out; nothing else is.
    DQ_PLACEHOLDERS.model.validate(marked)
    assert set(marked.select("stream", "kind", "field").iter_rows()) == MARCUS_PLACEHOLDERS


def test_every_injected_problem_is_found_with_its_evidence(damaged):
    table, faults, lake, marked, _ = damaged
    DQ_FINDINGS.model.validate(table)
    placeholders = {
        (s, f"{k}.{f}") for s, k, f in marked.select("stream", "kind", "field").iter_rows()
    }
    found = {(row["check"], row["subject"]) for row in table.iter_rows(named=True)} | {
        ("placeholder", subject) for stream, subject in placeholders
    }
    found -= {("placeholder", f"{k}.{f}") for _, k, f in MARCUS_PLACEHOLDERS}
    for fault in faults:
        assert (fault.check, fault.subject) in found, fault
    # Nothing else: each finding is one of the injected problems.
    assert found == {(fault.check, fault.subject) for fault in faults}
    # Every finding names events that exist, the first first.
    events = lake.scan(EVENTS).select("event_id", "event_time").collect()
    for row in table.iter_rows(named=True):
        shown = events.filter(pl.col("event_id").is_in(row["evidence"]))
        if row["table"] == "bronze/events":
            assert shown.height == len(set(row["evidence"])) > 0, row["check"]
    retyped = table.filter(pl.col("check") == "schema.type").row(0, named=True)
    assert "as string" in retyped["observed"] and "as number" in retyped["expected"]
    offset = table.filter(pl.col("check") == "alignment.file_offset").row(0, named=True)
    assert "+2.0 h" in offset["observed"] and "UTC+02:00" in offset["observed"]
    silent = table.filter(pl.col("check") == "timeliness.silent_stream").row(0, named=True)
    assert (silent["window_end"] - silent["window_start"]).total_seconds() >= 30 * 3600


def test_scores_are_perfect_on_clean_days_and_mark_the_damaged_ones(clean, damaged):
    _, _, perfect = clean
    DQ_SCORES.model.validate(perfect)
    dims = ["completeness", "validity", "consistency", "timeliness"]
    assert perfect.height > 0
    assert perfect.select(pl.min_horizontal(dims).min()).item() == 1.0
    scores = damaged[4]
    DQ_SCORES.model.validate(scores)
    by = {(r["stream"], r["day"].day): r for r in scores.iter_rows(named=True)}
    # The audit log was silent from day 3 (Nov 4) 00:00 for 30 hours.
    assert by["audit", 4]["completeness"] <= 0.05
    assert by["audit", 2]["completeness"] == 1.0
    # Day 3's agent events were written two hours off: every one of its records is touched.
    assert by["agent_events", 4]["consistency"] < 0.5
    assert by["agent_events", 2]["consistency"] == 1.0
    # The burst of broken lines and the half-written tail count against validity.
    assert min(r["validity"] for r in scores.iter_rows(named=True) if r["quarantined"]) < 1.0
