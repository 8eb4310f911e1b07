"""The audit trail's hash chain: extended as silver grows, and broken, at the row named, by an
edited, removed or inserted audit row or a rewritten chain."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib import audit_chain as A
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import SYSTEM_EVENTS
from seneca_assets_tests.lib.query.conftest import built_lake, lake_copy  # noqa: F401


@pytest.fixture
def chained(lake_copy: Path) -> Lake:  # noqa: F811
    lake = Lake(lake_copy / "lake")
    assert A.extend(lake) == lake.read(SYSTEM_EVENTS).height > 0
    return lake


def _victim(lake: Lake) -> str:
    """An audit row from the middle of the chain."""
    chain = lake.read(A.AUDIT_CHAIN).sort("seq")
    return str(chain.item(chain.height // 2, "event_id"))


def test_the_chain_covers_every_row_once_and_rerunning_adds_nothing(chained: Lake):
    A.AUDIT_CHAIN.model.validate(chained.read(A.AUDIT_CHAIN))
    version = chained.table(A.AUDIT_CHAIN).version()
    assert A.extend(chained) == 0
    assert chained.table(A.AUDIT_CHAIN).version() == version
    check = A.verify(chained)
    assert check.intact and check.rows == chained.read(SYSTEM_EVENTS).height
    assert A.head(chained) == chained.read(A.AUDIT_CHAIN).sort("seq").item(-1, "chain_sha256")


def test_an_edited_audit_row_breaks_the_chain_where_it_is(chained: Lake):
    victim = _victim(chained)
    rows = chained.read(SYSTEM_EVENTS)
    edited = pl.when(pl.col("event_id") == victim).then(pl.lit("edited")).otherwise("error")
    chained.write(SYSTEM_EVENTS, rows.with_columns(error=edited), mode="overwrite")
    check = A.verify(chained)
    assert (check.broken_at, check.reason) == (victim, "the audit row was changed")


def test_a_removed_or_inserted_row_and_a_rewritten_chain_are_named(chained: Lake):
    victim = _victim(chained)
    rows = chained.read(SYSTEM_EVENTS)
    chained.write(SYSTEM_EVENTS, rows.filter(pl.col("event_id") != victim), mode="overwrite")
    assert A.verify(chained).broken_at == victim
    stranger = rows.filter(pl.col("event_id") == victim).with_columns(event_id=pl.lit("f" * 32))
    chained.write(SYSTEM_EVENTS, pl.concat([rows, stranger]), mode="overwrite")
    assert (A.verify(chained).broken_at, A.verify(chained).reason) == (
        "f" * 32,
        "an audit row the chain does not hold",
    )
    chained.write(SYSTEM_EVENTS, rows, mode="overwrite")
    # Someone changes a row and its content hash in the chain: the chain hashes no longer link.
    chain = chained.read(A.AUDIT_CHAIN)
    forged = chain.with_columns(
        content_sha256=pl.when(pl.col("event_id") == victim)
        .then(pl.lit("0" * 64))
        .otherwise("content_sha256")
    )
    chained.write(A.AUDIT_CHAIN, forged, mode="overwrite")
    check = A.verify(chained)
    assert check.broken_at == victim and not check.intact
