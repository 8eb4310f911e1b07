"""The bronze checks see what they are meant to see: duplicates and the quarantine share."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seneca_assets.lib.config import IngestSettings
from seneca_assets.lib.ingest import bronze_health, ingest
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import EVENTS
from seneca_assets_tests.conftest import copy_tree


def test_a_duplicated_event_is_found_whole_table_and_by_window(
    samples: Path, settings: IngestSettings
):
    copy_tree(samples / "real", settings.log_dir)
    report = ingest(settings)
    lake = Lake(settings.lake_dir)
    assert bronze_health(lake).duplicate_event_ids == 0

    # Corrupt the table behind the ingestion's back: store one event a second time, as a later
    # batch would if deduplication failed.
    twin = lake.read(EVENTS).head(1).with_columns(ingest_batch=pl.lit(report.batches + 50))
    lake.write(EVENTS, twin)

    assert bronze_health(lake).duplicate_event_ids == 1
    windowed = bronze_health(lake, since_batch=report.batches + 49)
    assert windowed.duplicate_event_ids == 1
    assert windowed.checked_rows < windowed.events  # only the window was read


def test_quarantine_share_counts_both_tables(settings: IngestSettings):
    (settings.log_dir / "audit_20261127.jsonl").write_text(
        '{"timestamp": "2026-11-27T10:00:00Z", "event_type": "x"}\nnot json\nnot json either\n'
    )
    ingest(settings)
    health = bronze_health(Lake(settings.lake_dir))
    assert (health.events, health.quarantined) == (1, 2)
    assert abs(health.quarantine_share - 2 / 3) < 1e-9
