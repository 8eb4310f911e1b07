"""Retention cannot lose data by policy: each tier goes only once the tier above holds it, in
one logged transaction; a second run changes nothing; the rollups are not taken for stale (or
rebuilt from nothing) afterwards; event classes keep their own time and the audit chain still
verifies; held rows stay; and a policy that would lose data is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from seneca_assets.lib import holds as H
from seneca_assets.lib.audit_chain import AUDIT_RETIRED, extend, verify
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.gold_tables import (
    ACTIVITY_DAILY,
    ACTIVITY_HOURLY,
    ACTIVITY_MONTHLY,
    METRICS_DAILY,
    METRICS_HOURLY,
    METRICS_MONTHLY,
)
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import METRICS, SYSTEM_EVENTS
from seneca_assets.lib.retention import RAW_DAYS, Policy, _rolled_up, apply, declared, validate
from seneca_assets.lib.retention_log import RETENTION_LOG, retained_since
from seneca_assets.lib.rollup_build import build_range, stale_hours, unsummed
from seneca_assets.lib.schemas import TableSpec
from seneca_assets_tests.lib.query.conftest import START, built_lake, lake_copy  # noqa: F401

# The simulated deployment runs 2026-11-01 to 11-04; judged as of 32 days after its start,
# retention deletes the points of its first two days.
NOW = START + timedelta(days=RAW_DAYS + 2, hours=5)


def _metrics_rows(log: pl.DataFrame) -> list[dict]:
    return list(log.filter(pl.col("table") == METRICS.name).iter_rows(named=True))


def _totals(lake: Lake, table: TableSpec) -> pl.DataFrame:
    keys = ["name"] if "name" in table.schema else ["agent_id", "kind"]
    return lake.read(table).group_by(keys).agg(pl.col("count").sum()).sort(keys)


def _hourly_totals(lake: Lake) -> pl.DataFrame:
    return lake.read(METRICS_HOURLY).group_by("bucket").agg(pl.col("count").sum()).sort("bucket")


def test_raw_points_go_once_rolled_up_and_a_second_run_changes_nothing(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    rollups = _hourly_totals(lake)
    raw = lake.read(METRICS)
    cutoff = (NOW - timedelta(days=RAW_DAYS)).replace(minute=0)
    (row,) = _metrics_rows(apply(lake, NOW))
    assert row["rows"] == raw.filter(pl.col("timestamp") < cutoff).height > 0
    assert row["version_after"] == row["version_before"] + 1 and row["boundary"] == cutoff
    assert lake.read(METRICS).get_column("timestamp").min() >= cutoff
    assert _hourly_totals(lake).equals(rollups), "no rollup was touched"
    # The hours whose points are gone are not stale: nothing rebuilds them from nothing.
    assert stale_hours(lake, NOW.replace(minute=0)) == []
    versions = {t.name: lake.table(t).version() for t in TABLES if lake.exists(t)}
    assert apply(lake, NOW).is_empty()
    assert {t.name: lake.table(t).version() for t in TABLES if lake.exists(t)} == versions
    assert _metrics_rows(lake.read(RETENTION_LOG)) != [] and lake.read(RETENTION_LOG).height == (
        lake.read(RETENTION_LOG).unique(["table", "predicate"]).height
    )
    assert retained_since(lake, METRICS.name) == cutoff


def test_an_hour_not_rolled_up_holds_the_deletion_back(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    hole = START + timedelta(days=1, hours=6)
    hourly = lake.read(METRICS_HOURLY)
    lake.write(METRICS_HOURLY, hourly.filter(pl.col("bucket") != hole), mode="overwrite")
    (row,) = _metrics_rows(apply(lake, NOW))
    assert row["boundary"] == hole and "not built" in row["reason"]
    kept = lake.read(METRICS).filter(pl.col("timestamp") >= hole)
    assert kept.filter(pl.col("timestamp") < hole + timedelta(hours=1)).height > 0
    # Once the hour is rolled up, the next run goes on to the policy's boundary.
    build_range(lake, "hourly", hole, hole + timedelta(hours=1))
    (later,) = _metrics_rows(apply(lake, NOW))
    assert later["boundary"] == (NOW - timedelta(days=RAW_DAYS)).replace(minute=0)


def test_a_policy_that_would_lose_a_rollup_is_refused():
    validate(declared(TABLES))  # the declared ones are sound
    hourly = Policy("hourly", METRICS_HOURLY, None)
    two_hours = timedelta(hours=2)

    def raw(keep: timedelta) -> Policy:
        return Policy("raw", METRICS, keep, source_of=(METRICS_HOURLY.name,),
                      built_after=two_hours, guard=_rolled_up, rollup=True)  # fmt: skip

    with pytest.raises(ConfigurationError, match="before gold/metrics_hourly is built"):
        validate((raw(timedelta(hours=1)), hourly))
    with pytest.raises(ConfigurationError, match="the rollup would go first"):
        validate((raw(timedelta(days=30)), Policy("hourly", METRICS_HOURLY, timedelta(days=7))))
    # A source nothing guards must outlive what is rebuilt from it.
    errors = Policy("error", SYSTEM_EVENTS, timedelta(days=30), where=("category", "error"),
                    source_of=(ACTIVITY_HOURLY.name,))  # fmt: skip
    with pytest.raises(ConfigurationError, match="which is rebuilt from them"):
        validate((errors, Policy("activity", ACTIVITY_HOURLY, timedelta(days=365))))


def test_every_tier_goes_only_once_the_tier_above_holds_it(lake_copy: Path):  # noqa: F811
    """Six years on: raw points, hours and days are gone, the months hold every count, and no
    rollup check or rebuild treats the missing tiers as stale."""
    lake = Lake(lake_copy / "lake")
    later = START + timedelta(days=6 * 365)
    totals = _totals(lake, METRICS_MONTHLY)
    activity = _totals(lake, ACTIVITY_MONTHLY)
    assert totals.height and activity.height
    done = apply(lake, later)
    for table in (METRICS, METRICS_HOURLY, METRICS_DAILY, ACTIVITY_HOURLY, ACTIVITY_DAILY):
        assert lake.read(table).is_empty(), table.name
        assert retained_since(lake, table.name) is not None
    assert _totals(lake, METRICS_MONTHLY).equals(totals)
    assert _totals(lake, ACTIVITY_MONTHLY).equals(activity)
    assert set(done.get_column("table")) >= {METRICS_DAILY.name, ACTIVITY_HOURLY.name}
    # Nothing judges the deleted tiers stale, and rebuilding them changes nothing.
    assert unsummed(lake, "daily") == 0 and unsummed(lake, "monthly") == 0
    assert stale_hours(lake, later) == []
    month = (START, START + timedelta(days=30))
    for grain in ("hourly", "daily", "monthly"):
        assert set(build_range(lake, grain, *month).values()) == {0}
    assert _totals(lake, METRICS_MONTHLY).equals(totals)
    assert apply(lake, later).is_empty()


def test_a_day_not_rolled_up_keeps_its_hours(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    hole = START + timedelta(days=1)
    daily = lake.read(METRICS_DAILY)
    lake.write(METRICS_DAILY, daily.filter(pl.col("bucket") != hole), mode="overwrite")
    done = apply(lake, START + timedelta(days=400))
    (row,) = done.filter(pl.col("table") == METRICS_HOURLY.name).iter_rows(named=True)
    assert row["boundary"] == hole and "daily rollup is not built" in row["reason"]
    assert lake.read(METRICS_HOURLY).get_column("bucket").min() == hole


def test_event_classes_keep_their_own_time_and_the_audit_chain_still_verifies(
    lake_copy: Path,  # noqa: F811
):
    lake = Lake(lake_copy / "lake")
    extend(lake)
    events = lake.read(SYSTEM_EVENTS)
    counts = dict(events.group_by("category").len().iter_rows())
    assert counts.get("debug", 0) > 0 and counts.get("audit", 0) > 0
    # Eight days on, the debug events are past their 7 days; the others are kept.
    apply(lake, START + timedelta(days=11))
    left = dict(lake.read(SYSTEM_EVENTS).group_by("category").len().iter_rows())
    assert "debug" not in left and left["audit"] == counts["audit"]
    assert lake.read(AUDIT_RETIRED).height == counts["debug"]
    assert verify(lake).intact, verify(lake)
    # A row removed by anyone else still breaks the chain, and is named.
    victim = lake.read(SYSTEM_EVENTS).filter(pl.col("category") == "audit").item(0, "event_id")
    lake.delete(SYSTEM_EVENTS, f"event_id = '{victim}'")
    assert verify(lake).broken_at == victim


def test_held_rows_are_never_deleted(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    events = lake.read(SYSTEM_EVENTS)
    agent = events.filter(pl.col("agent_id").is_not_null()).item(0, "agent_id")
    held = events.filter(pl.col("agent_id") == agent).height
    hold = H.place(lake, "agent", agent, "matter 42", START)
    apply(lake, START + timedelta(days=8 * 365))
    assert lake.read(SYSTEM_EVENTS).get_column("agent_id").unique().to_list() == [agent]
    assert lake.read(SYSTEM_EVENTS).height == held
    H.release(lake, hold, START + timedelta(days=8 * 365))
    apply(lake, START + timedelta(days=8 * 365))
    assert lake.read(SYSTEM_EVENTS).is_empty()


def test_a_bad_hold_is_refused_and_nothing_is_written(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    for kind, subject, reason in (
        ("planet", "x", "r"),
        ("agent", "x' OR '1'='1", "r"),
        ("agent", "agent-1", " "),
    ):
        with pytest.raises(H.HoldError):
            H.place(lake, kind, subject, reason, START)
    with pytest.raises(H.HoldError, match="no hold in force"):
        H.release(lake, "0" * 16, START)
    assert H.in_force(lake).is_empty()


def test_future_dated_points_are_never_taken_for_old(lake_copy: Path):  # noqa: F811
    lake = Lake(lake_copy / "lake")
    ahead = (
        lake.read(METRICS)
        .head(5)
        .with_columns(
            metric_id=pl.lit("e" * 28) + pl.int_range(5).cast(pl.String).str.zfill(4),
            timestamp=pl.col("timestamp") + timedelta(days=400),  # a clock a year ahead
        )
    )
    lake.write(METRICS, ahead)
    apply(lake, NOW)
    kept = lake.read(METRICS).filter(pl.col("metric_id").is_in(ahead["metric_id"].implode()))
    assert kept.height == 5
