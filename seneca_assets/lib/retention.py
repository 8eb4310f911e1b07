"""Retention that cannot lose a rollup: declared policies, validated, applied behind a guard.

The policies are configuration in code (POLICIES), validated when the definitions load: a
policy that would delete a tier's source before the tier above is built from it is refused with
the reason. Raw metric points (silver/metrics) are kept RAW_DAYS; older ones are deleted only up
to the first hour whose hourly rollup is missing or disagrees with them (`stale_hours`), so an
hour is never deleted before its rollup holds it. Each deletion is one Delta transaction, logged
in ops/retention_log with its predicate, rows, the versions before and after, and the reason;
the rollups' reconciliation and rebuilds start at the logged boundary, so the hours whose raw
points are gone are not taken for stale (and rebuilt from nothing). A run with nothing to
delete commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.lake import Lake, time_bound
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.retention_log import RETENTION_LOG, retained_since
from seneca_assets.lib.rollup_build import stale_hours

RAW_DAYS = 30


@dataclass(frozen=True)
class Policy:
    """How long a table keeps its rows, and what must be built from them before they go."""

    table: str
    keep: timedelta | None
    """None: forever."""
    source_of: str | None = None
    """The table built from this one's rows."""
    built_after: timedelta = timedelta(0)
    """How long after a row's time the table above is built from it, at the latest."""


POLICIES: tuple[Policy, ...] = (
    Policy("silver/metrics", timedelta(days=RAW_DAYS), "gold/metrics_hourly", timedelta(hours=2)),
    Policy("gold/metrics_hourly", timedelta(days=365), "gold/metrics_daily", timedelta(days=2)),
    Policy(
        "gold/metrics_daily", timedelta(days=5 * 365), "gold/metrics_monthly", timedelta(days=32)
    ),
    Policy("gold/metrics_monthly", None),
)
"""The design's metric tiers: raw 30 days, hourly a year, daily five, monthly forever. Only
the raw points are deleted so far (`apply`); the others are declared and validated."""


def validate(policies: tuple[Policy, ...] = POLICIES) -> None:
    """Refuse, with the reason, a policy that deletes a source before its tier is built."""
    kept = {p.table: p.keep for p in policies}
    for policy in policies:
        if policy.source_of is None or policy.keep is None:
            continue
        if policy.keep <= policy.built_after:
            raise ConfigurationError(
                f"retention of {policy.table} ({policy.keep.days} days) would delete rows before "
                f"{policy.source_of} is built from them ({policy.built_after} after their time): "
                f"keep {policy.table} longer than that"
            )
        above = kept.get(policy.source_of)
        if above is not None and above < policy.keep:
            raise ConfigurationError(
                f"retention of {policy.source_of} ({above.days} days) is shorter than of its "
                f"source {policy.table} ({policy.keep.days} days): the rollup would go first"
            )


def apply(lake: Lake, now: datetime) -> pl.DataFrame:
    """Delete the raw metric points past their keep, behind the rollup guard; the log rows."""
    validate()
    policy = next(p for p in POLICIES if p.table == METRICS.name)
    assert policy.keep is not None
    cutoff = (now - policy.keep).replace(minute=0, second=0, microsecond=0)
    boundary, reason = cutoff, f"raw metric points are kept {policy.keep.days} days"
    stale = stale_hours(lake, cutoff)
    if stale:
        boundary = min(cutoff, stale[0])
        reason += f"; held at {boundary:%Y-%m-%d %H:00} UTC, whose hourly rollup is not built"
    done = retained_since(lake, METRICS.name)
    if not lake.exists(METRICS) or (done is not None and done >= boundary):
        return RETENTION_LOG.empty()
    oldest = time_bound(lake.table(METRICS), "timestamp", "min")
    if oldest is None or oldest >= boundary:  # nothing to delete: no commit, no log
        return RETENTION_LOG.empty()
    predicate = f"\"timestamp\" < '{boundary:%Y-%m-%dT%H:%M:%S}Z'"
    before = lake.table(METRICS).version()
    rows = lake.delete(METRICS, predicate)
    after = lake.table(METRICS).version()
    log = pl.DataFrame(
        [
            {
                "table": METRICS.name,
                "predicate": predicate,
                "rows": rows,
                "version_before": before,
                "version_after": after,
                "boundary": boundary,
                "at": now,
                "reason": reason,
            }
        ],
        schema=RETENTION_LOG.schema,
    )
    lake.write(RETENTION_LOG, log)
    return log
