"""The real Marcus audit records and the format examples ingest completely and exactly once."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import EVENTS, QUARANTINE
from seneca_assets_tests.conftest import copy_tree


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip())


def test_real_audit_records_all_store_none_quarantined(samples: Path, settings: IngestSettings):
    copy_tree(samples / "real", settings.log_dir)
    report = ingest(settings)

    lake = Lake(settings.lake_dir)
    events = lake.read(EVENTS)
    assert lake.read(QUARANTINE).height == 0
    assert events.height == 1085 == report.events_stored
    per_file = dict(events.group_by("source_file").len().iter_rows())
    for path in (settings.log_dir / "audit_logs").glob("audit_*.jsonl"):
        assert per_file[f"audit_logs/{path.name}"] == _lines(path)
    assert events.get_column("time_zone_assumed").all()  # the samples are naive local time
    assert set(events.get_column("kind")) == {"tool_call", "access_denied", "client_registration"}


def test_decisions_copies_are_stored_once(samples: Path, settings: IngestSettings):
    copy_tree(samples / "synthetic", settings.log_dir)
    report = ingest(settings)

    events = Lake(settings.lake_dir).read(EVENTS)
    conversations = settings.log_dir / "conversations_20261127_100759.jsonl"
    decisions = settings.log_dir / "decisions_20261127_100759.jsonl"
    convo = events.filter(pl.col("stream") == "conversations")
    assert convo.height == _lines(conversations)
    assert report.duplicates_skipped == _lines(decisions)
    assert convo.get_column("source_file").unique().to_list() == [conversations.name]
    assert events.get_column("event_id").is_unique().all()


def test_a_second_run_reads_nothing_and_stores_nothing(samples: Path, settings: IngestSettings):
    copy_tree(samples, settings.log_dir)
    first = ingest(settings)
    second = ingest(settings)

    assert first.events_stored > 1085
    assert second.lines_read == second.events_stored == second.bytes_read == 0
    assert Lake(settings.lake_dir).read(EVENTS).height == first.events_stored
