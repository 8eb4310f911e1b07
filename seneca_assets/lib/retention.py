"""Retention that cannot lose data by policy: declared, validated, applied behind guards.

The policies are configuration in code (`POLICIES`, one per data class), validated when the
definitions load: a policy that would delete a tier's source before the tier above is built from
it, or keep a rollup for less time than its source, is refused with the reason.

- **Metrics** (the design's tiers): raw points 30 days, hourly rollups a year, daily five, monthly
  forever; activity rollups the same. A tier's rows are deleted only up to the first bucket the
  tier above does not hold yet: raw points up to the first hour whose hourly rollup is missing or
  disagrees with them (`stale_hours`), hourly rows up to the first day whose daily rollup does not
  sum them (`unsettled`), daily rows likewise for months. The rollups never judge or rebuild a
  bucket before the logged boundary (`rollup_build.judged_from`).
- **System events** by class (`category`): errors 2 years, audit 7, debug 7 days, performance 90.
  Audit rows are recorded in ops/audit_retired before they go, so the hash chain still verifies.
- **Conversations** move hot → warm → cold and are deleted at 10 years (`lib/tiering.py`).
- **Everything else** that has a data time keeps it for `DEFAULT_KEEP` (a year) unless declared
  otherwise; bronze/events only once silver is built from it. Derived tables (rebuilt whole from
  the rest) and the platform's own registers (snapshots, holds, the retention log itself, the
  audit chain) are never deleted by age.

Rows under a legal hold (`lib/holds.py`) are never deleted. Each deletion is one Delta
transaction, logged in ops/retention_log with its predicate, rows, the versions before and after,
and the reason. A run with nothing to delete commits nothing, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib import holds as H
from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.analytics.tables import ANALYTICS_TABLES
from seneca_assets.lib.audit_chain import AUDIT_CHAIN, AUDIT_RETIRED, retire
from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.config import ConfigurationError
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake, time_literal
from seneca_assets.lib.model.build import APP_ID as SILVER_APP
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.model.tables import (
    AGENTS,
    CONVERSATIONS,
    DECISIONS,
    MESSAGES,
    METRICS,
    SILVER_TABLES,
    SYSTEM_EVENTS,
    TASK_EVENTS,
    TASKS,
)
from seneca_assets.lib.quality.tables import QUALITY_TABLES
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.rollup_build import stale_hours, unsettled
from seneca_assets.lib.schemas import (
    EVENTS,
    INGEST_FILES,
    REDACTIONS,
    SNAPSHOTS,
    TableSpec,
)
from seneca_assets.lib.search.tables import SEMANTIC_TABLES
from seneca_assets.lib.tier_tables import CONVERSATION_FLAGS, TIERING_TABLES

RAW_DAYS = 30
YEAR = timedelta(days=365)
DEFAULT_KEEP = YEAR
"""What a table with a data time keeps when no policy names it (the design's default)."""
CONVERSATION_YEARS = 10

Guard = Callable[[Lake, datetime], tuple[datetime, str | None]]
"""Given the cutoff, the boundary up to which rows may go, and why it is held back (if it is)."""


@dataclass(frozen=True)
class Policy:
    """How long one class of a table's rows is kept, and what must be built from them first."""

    data_class: str
    table: TableSpec
    keep: timedelta | None
    """None: forever."""
    where: tuple[str, str] | None = None
    """(column, value): the class's rows, where the table holds several classes."""
    source_of: tuple[str, ...] = ()
    """The tables built from these rows."""
    built_after: timedelta = timedelta(0)
    """How long after a row's time the tables above are built from it, at the latest."""
    guard: Guard | None = None
    """Holds the deletion back to what the tables above already hold."""
    grain: str = "1h"
    """Rows go a whole bucket at a time: the cutoff is truncated to it."""
    rollup: bool = False
    """The tables above stand for these rows once they go (a rollup tier): they must then be
    kept at least as long."""

    @property
    def time_column(self) -> str:
        """The column the age of a row is measured on."""
        column = "bucket" if self.table.name.startswith("gold/") else self.table.time_column
        assert column is not None, self.table.name
        return column


def _rolled_up(lake: Lake, cutoff: datetime) -> tuple[datetime, str | None]:
    stale = stale_hours(lake, cutoff)
    if stale and stale[0] < cutoff:
        return stale[0], f"held at {stale[0]:%Y-%m-%d %H:00} UTC, whose hourly rollup is not built"
    return cutoff, None


def _settled(grain: str) -> Guard:
    def guard(lake: Lake, cutoff: datetime) -> tuple[datetime, str | None]:
        waiting = unsettled(lake, grain, cutoff)
        if waiting:
            return waiting[0], f"held at {waiting[0]:%Y-%m-%d}, whose {grain} rollup is not built"
        return cutoff, None

    return guard


def _silver_built(lake: Lake, cutoff: datetime) -> tuple[datetime, str | None]:
    """bronze/events goes only where every silver table has been built from it."""
    marks = [lake.txn_version(t, SILVER_APP) for t in SILVER_TABLES if lake.exists(t)]
    built = min(marks, default=0)
    pending = (
        lake.scan(EVENTS).filter(pl.col("ingest_batch") > built).select(pl.col("event_time").min())
    )
    first = pending.collect().item()
    if first is not None and first < cutoff:
        return first, f"held at {first:%Y-%m-%d %H:%M} UTC, not yet built into silver"
    return cutoff, None


def _tiers(name: str, hourly: TableSpec, daily: TableSpec, monthly: TableSpec) -> list[Policy]:
    return [
        Policy(f"hourly {name}", hourly, YEAR, source_of=(daily.name,),
               built_after=timedelta(days=2), guard=_settled("daily"), grain="1d", rollup=True),
        Policy(f"daily {name}", daily, 5 * YEAR, source_of=(monthly.name,),
               built_after=timedelta(days=32), guard=_settled("monthly"), grain="1mo",
               rollup=True),
        Policy(f"monthly {name}", monthly, None),
    ]  # fmt: skip


def _events(data_class: str, keep: timedelta, feeds: tuple[str, ...] = ()) -> Policy:
    return Policy(
        f"{data_class} events", SYSTEM_EVENTS, keep, where=("category", data_class), source_of=feeds
    )


ACTIVITY_SOURCE = (TIERS["hourly"][1].name,)
POLICIES: tuple[Policy, ...] = (
    Policy("raw metrics", METRICS, timedelta(days=RAW_DAYS),
           source_of=(TIERS["hourly"][0].name,), built_after=timedelta(hours=2),
           guard=_rolled_up, rollup=True),
    *_tiers("metrics", *(TIERS[g][0] for g in ("hourly", "daily", "monthly"))),
    *_tiers("activity", *(TIERS[g][1] for g in ("hourly", "daily", "monthly"))),
    _events("error", 2 * YEAR, ACTIVITY_SOURCE),
    _events("audit", 7 * YEAR, ACTIVITY_SOURCE),
    _events("debug", timedelta(days=7)),
    _events("performance", timedelta(days=90)),
    Policy("bronze events", EVENTS, DEFAULT_KEEP, source_of=tuple(t.name for t in SILVER_TABLES),
           built_after=timedelta(hours=1), guard=_silver_built),
    Policy("redactions", REDACTIONS, 7 * YEAR),
    Policy("backup log", BACKUP_LOG, 7 * YEAR),
    *(Policy("conversation data", t, CONVERSATION_YEARS * YEAR, grain="1d")
      for t in (DECISIONS, TASK_EVENTS, TASKS)),
)  # fmt: skip
"""The declared policies. Conversations and their messages are tiered by `lib/tiering.py`."""

NEVER_BY_AGE: tuple[TableSpec, ...] = (
    INGEST_FILES, AGENTS, SNAPSHOTS, AUDIT_CHAIN, AUDIT_RETIRED, RETENTION_LOG,
    H.LEGAL_HOLDS, CONVERSATION_FLAGS, CONVERSATIONS, MESSAGES,
    *TIERING_TABLES, *ANALYTICS_TABLES, *SEMANTIC_TABLES, *QUALITY_TABLES,
)  # fmt: skip
"""Registers kept whole (file offsets, entities, snapshots, the audit chain and its retirements,
this log, holds), tables tiered elsewhere (conversations), and derived tables rebuilt whole from
the rest at each run (analytics, semantic model, data-quality findings and scores)."""


def declared(tables: tuple[TableSpec, ...]) -> tuple[Policy, ...]:
    """`POLICIES`, plus the default keep for every table of `tables` no policy names."""
    named = {p.table.name for p in POLICIES} | {t.name for t in NEVER_BY_AGE}
    defaults = tuple(
        Policy("default", t, DEFAULT_KEEP)
        for t in tables
        if t.name not in named and t.time_column is not None
    )
    return POLICIES + defaults


def validate(policies: tuple[Policy, ...] = POLICIES) -> None:
    """Refuse, with the reason, a policy that would delete a source before its tier is built."""
    kept = {p.table.name: p.keep for p in policies if p.where is None}
    for policy in policies:
        if not policy.source_of or policy.keep is None:
            continue
        if policy.keep <= policy.built_after:
            raise ConfigurationError(
                f"retention of {policy.data_class} in {policy.table.name} "
                f"({policy.keep.days} days) would delete rows before {policy.source_of[0]} is "
                f"built from them ({policy.built_after} after their time): keep them longer"
            )
        if policy.guard is None:  # sources with no guard must outlive what is built from them
            for above in policy.source_of:
                other = kept.get(above)
                if other is None or other > policy.keep:
                    shown = "forever" if other is None else f"{other.days} days"
                    raise ConfigurationError(
                        f"retention of {policy.data_class} ({policy.keep.days} days) is shorter "
                        f"than of {above} ({shown}), which is rebuilt from them: keep them longer"
                    )
            continue
        for above in policy.source_of if policy.rollup else ():
            other = kept.get(above)
            if other is not None and other < policy.keep:
                raise ConfigurationError(
                    f"retention of {above} ({other.days} days) is shorter than of its source "
                    f"{policy.table.name} ({policy.keep.days} days): the rollup would go first"
                )


def apply(lake: Lake, now: datetime, policies: tuple[Policy, ...] | None = None) -> pl.DataFrame:
    """Delete every class of rows past its keep, behind its guard and the legal holds.

    Returns the rows logged in ops/retention_log (one per deletion made).
    """
    from seneca_assets.lib.catalog import TABLES  # the catalogue imports this module's tables

    policies = policies or declared(TABLES)
    validate(policies)
    held = H.held(H.in_force(lake))
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):
        logged = [
            row
            for policy in policies
            if policy.keep is not None and lake.exists(policy.table)
            for row in [_apply(lake, policy, now, held)]
            if row is not None
        ]
    return pl.DataFrame(logged, schema=RETENTION_LOG.schema)


def _apply(
    lake: Lake, policy: Policy, now: datetime, held: dict[str, list[str]]
) -> dict[str, object] | None:
    """One policy's deletion (one commit), or None when nothing is past its keep.

    The deletion is logged before it is made: a crash between the two leaves a boundary for
    rows still there (the next run deletes them), never rows gone without their boundary, which
    the rollups' checks would take for stale and rebuild from nothing. Ingestion and the silver
    build are held off meanwhile, so the deletion is the table's next version.
    """
    assert policy.keep is not None
    cutoff = pl.select(pl.lit(now - policy.keep).dt.truncate(policy.grain)).item()
    boundary, held_back = policy.guard(lake, cutoff) if policy.guard else (cutoff, None)
    column = policy.time_column
    columns = list(policy.table.schema)
    condition = pl.col(column) < boundary
    predicate = f'"{column}" < {time_literal(boundary)}'
    if policy.where is not None:
        name, value = policy.where
        condition &= pl.col(name) == value
        predicate += f" AND {name} = '{value}'"
    spared = H.excluded(held, columns)
    if spared is not None:
        condition &= ~H.held_rows(held, columns)
        predicate += f" AND {spared}"
    doomed = lake.scan(policy.table).filter(condition)
    if policy.table is SYSTEM_EVENTS:
        going = doomed.select("event_id", "category", "event_time").collect()
        count = going.height
    else:
        count = int(doomed.select(pl.len()).collect().item())
    if count == 0:
        return None
    reason = f"{policy.data_class} are kept {_days(policy.keep)}"
    reason += f"; {held_back}" if held_back else ""
    if policy.table is SYSTEM_EVENTS:
        retire(lake, going, reason, now)
    before = lake.table(policy.table).version()
    row = {
        "table": policy.table.name,
        "predicate": predicate,
        "rows": count,
        "version_before": before,
        "version_after": before + 1,
        "boundary": boundary,
        "at": now,
        "reason": reason,
    }
    lake.write(RETENTION_LOG, pl.DataFrame([row], schema=RETENTION_LOG.schema))
    deleted = lake.delete(policy.table, predicate)
    after = lake.table(policy.table).version()
    if (deleted, after) != (count, before + 1):  # another writer came between: say so
        row |= {"rows": deleted, "version_after": after, "reason": reason + " (corrected)"}
        lake.write(RETENTION_LOG, pl.DataFrame([row], schema=RETENTION_LOG.schema))
    return row


def _days(keep: timedelta) -> str:
    years, days = divmod(keep.days, 365)
    return f"{years} year{'s' * (years != 1)}" if years and not days else f"{keep.days} days"


def retention_summary(done: pl.DataFrame, flagged: int = 0) -> str:
    """What a retention run did, in Markdown: a row per table, with the reasons."""
    if done.is_empty():
        head = "Nothing past its keep (or held back until the tier above holds it)."
    else:
        per_table = (
            done.group_by("table", maintain_order=True)
            .agg(pl.col("rows").sum(), pl.col("reason").unique().str.join("; "))
            .iter_rows()
        )
        head = "\n".join(markdown_table(["table", "rows", "why"], per_table))
    return head + (
        f"\n\n{flagged:,} conversations flagged as spanning an anomaly." if flagged else ""
    )


def rows_deleted(done: pl.DataFrame) -> int:
    """Rows a run deleted (tier moves' copies into the colder tier not counted)."""
    gone = done.filter(~pl.col("predicate").str.starts_with("append of"))
    return int(gone.get_column("rows").sum()) if gone.height else 0
