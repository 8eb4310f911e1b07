"""Conversation tiers: hot, warm, cold, then deleted, with what keeps a conversation hotter.

A conversation's age is the time since its last activity. By default it is hot (silver, in the
full-text index) for 30 days, warm (`warm/`, its own search path) until a year, cold (`archive/`)
until 10 years, and then deleted. A conversation that failed or was blocked (status abandoned or
blocked, or any blocker), or that spans an hour an anomaly was found in (`ops/conversation_flags`),
stays in the hotter tier longer: hot for a year, warm until 7 years, cold until 10. A
conversation on legal hold (`lib/holds.py`) is never moved or deleted, and one still in progress
is not moved (new messages may still join it).

Its messages move with it, except those another conversation that stays still holds. A move
writes the rows into the colder tier first (only those not already there), then deletes them
from the hotter one: one Delta transaction per table, each logged in ops/retention_log. A crash
between the two leaves the rows in both tiers, never in neither; the next run finishes the move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib import holds as H
from seneca_assets.lib.analytics.tables import METRIC_ANOMALIES
from seneca_assets.lib.ingest import LOCK_NAME as INGEST_LOCK
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.build import LOCK_NAME as SILVER_LOCK
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import TableSpec
from seneca_assets.lib.tier_tables import CONVERSATION_FLAGS, TIER_TABLES

YEAR = timedelta(days=365)
ORDER = ("hot", "warm", "cold", "deleted")


@dataclass(frozen=True)
class TierPolicy:
    """How long a conversation stays in each tier, by its last activity's age."""

    hot: timedelta = timedelta(days=30)
    warm: timedelta = YEAR
    cold: timedelta = 10 * YEAR
    kept_hot: timedelta = YEAR
    kept_warm: timedelta = 7 * YEAR
    """For conversations that failed, were blocked or contain an anomaly."""

    def validate(self) -> None:
        """Refuse bounds out of order or a deletion before the design's 10 years."""
        for bounds in (
            (self.hot, self.warm, self.cold),
            (self.kept_hot, self.kept_warm, self.cold),
        ):
            if not bounds[0] < bounds[1] < bounds[2]:
                raise ValueError(f"tier bounds must increase hot < warm < cold: {bounds}")
        if self.hot > self.kept_hot or self.warm > self.kept_warm:
            raise ValueError("conversations kept hotter must not move sooner than the others")


POLICY = TierPolicy()
KEPT_STATUSES = ("abandoned", "blocked")
OPEN = "in_progress"


def flag_anomalies(lake: Lake, now: datetime) -> int:
    """Flag the hot conversations that span an anomalous hour; how many were flagged anew."""
    hot = TIER_TABLES["hot"][0]
    if not (lake.exists(METRIC_ANOMALIES) and lake.exists(hot)):
        return 0
    hours = (
        lake.scan(METRIC_ANOMALIES)
        .filter("is_anomaly")
        .group_by("bucket")
        .agg(pl.col("name").first())
        .collect()
    )
    if hours.is_empty():
        return 0
    spans = _conversations(lake, hot).select(
        "id",
        start=pl.col("timestamp").dt.truncate("1h"),
        end=pl.col("last_activity_at"),
    )
    spanning = (
        spans.join_where(
            hours, pl.col("bucket") >= pl.col("start"), pl.col("bucket") <= pl.col("end")
        )
        .group_by("id")
        .agg(pl.col("name").first(), pl.col("bucket").min())
    )
    if lake.exists(CONVERSATION_FLAGS):
        known = lake.scan(CONVERSATION_FLAGS).select(id="conversation_id").collect()
        spanning = spanning.join(known, on="id", how="anti")
    if spanning.is_empty():
        return 0
    flags = spanning.select(
        conversation_id="id",
        flag=pl.lit("anomaly"),
        detail=pl.format("{} at {}", "name", pl.col("bucket").dt.to_string("%Y-%m-%d %H:00")),
        flagged_at=pl.lit(now),
    )
    lake.write(CONVERSATION_FLAGS, flags.cast(CONVERSATION_FLAGS.schema))
    return flags.height


def _conversations(lake: Lake, table: TableSpec) -> pl.DataFrame:
    """A tier's conversations: id, times, status, blockers and what holds may name."""
    return (
        lake.scan(table)
        .select(
            "id",
            "timestamp",
            last_activity_at=pl.col("metadata").struct.field("last_activity_at"),
            status=pl.col("outcomes").struct.field("status"),
            blockers=pl.col("outcomes").struct.field("blockers"),
            task_id=pl.col("context").struct.field("task_id"),
            agent_id=pl.col("context").struct.field("agent_id"),
            project_id=pl.col("context").struct.field("project_id"),
        )
        .collect()
    )


def targets(
    conversations: pl.DataFrame,
    flagged: pl.Series,
    holds: dict[str, list[str]],
    now: datetime,
    policy: TierPolicy = POLICY,
) -> pl.DataFrame:
    """Each conversation's `id` and the tier (`target`) its age and circumstances put it in."""
    last = pl.coalesce("last_activity_at", "timestamp")
    age = pl.lit(now) - last
    kept = (
        pl.col("status").is_in(KEPT_STATUSES)
        | (pl.col("blockers").fill_null(0) > 0)
        | pl.col("id").is_in(flagged.implode())
    )
    hot = pl.when(kept).then(pl.lit(policy.kept_hot)).otherwise(pl.lit(policy.hot))
    warm = pl.when(kept).then(pl.lit(policy.kept_warm)).otherwise(pl.lit(policy.warm))
    target = (
        pl.when(age < hot)
        .then(pl.lit("hot"))
        .when(age < warm)
        .then(pl.lit("warm"))
        .when(age < policy.cold)
        .then(pl.lit("cold"))
        .otherwise(pl.lit("deleted"))
    )
    pinned = (
        H.held_rows(holds, ["id", "task_id", "agent_id", "project_id"])
        | (pl.col("status") == OPEN)
        | last.is_null()  # no time to age it by: it stays where it is
    )
    return conversations.select("id", target=pl.when(pinned).then(None).otherwise(target))


def move(lake: Lake, now: datetime, policy: TierPolicy = POLICY) -> pl.DataFrame:
    """Move every conversation to the tier it belongs in, coldest moves first; the log rows."""
    policy.validate()
    holds = H.held(H.in_force(lake))
    flagged = lake.read(CONVERSATION_FLAGS).get_column("conversation_id")  # empty if none
    logged: list[dict[str, object]] = []
    with lake.lock(INGEST_LOCK), lake.lock(SILVER_LOCK):  # silver rebuilds conversations
        for tier in ORDER[:-1]:
            logged += _tier_moves(lake, tier, flagged, holds, now, policy)
    log = pl.DataFrame(logged, schema=RETENTION_LOG.schema)
    if log.height:
        lake.write(RETENTION_LOG, log)
    return log


def _tier_moves(
    lake: Lake,
    tier: str,
    flagged: pl.Series,
    holds: dict[str, list[str]],
    now: datetime,
    policy: TierPolicy,
) -> list[dict[str, object]]:
    """The moves out of one tier, to each colder one."""
    table = TIER_TABLES[tier][0]
    if not lake.exists(table):
        return []
    planned = targets(_conversations(lake, table), flagged, holds, now, policy)
    kept = {"hot": policy.hot, "warm": policy.warm, "cold": policy.cold}[tier]
    logged: list[dict[str, object]] = []
    for colder in ORDER[ORDER.index(tier) + 1 :]:
        ids = planned.filter(pl.col("target") == colder).get_column("id")
        if ids.len():
            logged += _move(lake, tier, colder, ids, now, now - kept)
    return logged


def _move(
    lake: Lake, tier: str, colder: str, ids: pl.Series, now: datetime, boundary: datetime
) -> list[dict[str, object]]:
    """Move the conversations `ids` and the messages only they hold from `tier` to `colder`.

    `boundary` is the age bound that moved them: conversations active since are not moved.
    """
    conversations, messages = TIER_TABLES[tier]
    moving = lake.scan(conversations).filter(pl.col("id").is_in(ids.implode())).collect()
    staying = lake.scan(conversations).filter(~pl.col("id").is_in(ids.implode()))
    still_held = staying.select(
        pl.col("messages").list.eval(pl.element().struct.field("message_id"))
    )
    kept_ids = still_held.explode("messages").collect().get_column("messages")
    message_ids = (
        moving.select(pl.col("messages").list.eval(pl.element().struct.field("message_id")))
        .explode("messages")
        .get_column("messages")
        .unique()
    )
    message_ids = message_ids.filter(~message_ids.is_in(kept_ids.implode()))
    said = lake.scan(messages).filter(pl.col("message_id").is_in(message_ids.implode())).collect()
    stamp = (now, boundary)
    out = []
    if colder != "deleted":
        target_conversations, target_messages = TIER_TABLES[colder]
        reason = f"moved from {tier} to {colder}: inactive past the {tier} tier's keep"
        out += _append(lake, target_conversations, moving, "id", stamp, reason)
        out += _append(lake, target_messages, said, "message_id", stamp, reason)
    else:
        reason = f"deleted from {tier}: conversations are kept 10 years"
    out += _delete(lake, conversations, "id", moving.get_column("id"), stamp, reason)
    out += _delete(lake, messages, "message_id", said.get_column("message_id"), stamp, reason)
    return out


Stamp = tuple[datetime, datetime]
"""When a move is made, and the age bound that made it."""


def _append(
    lake: Lake, table: TableSpec, rows: pl.DataFrame, key: str, stamp: Stamp, reason: str
) -> list[dict[str, object]]:
    """Write the rows the colder table does not hold yet (a retried move adds nothing twice)."""
    if lake.exists(table):
        rows = rows.join(lake.scan(table).select(key).collect(), on=key, how="anti")
    if rows.is_empty():
        return []
    before = lake.table(table).version()
    lake.write(table, rows)
    shown = f"append of {rows.height:,} rows"
    return [_logged(lake, table, shown, rows.height, before, stamp, reason)]


def _delete(
    lake: Lake,
    table: TableSpec,
    key: str,
    ids: pl.Series,
    stamp: Stamp,
    reason: str,
) -> list[dict[str, object]]:
    """Delete the rows `ids` names, in one commit."""
    if ids.is_empty():
        return []
    before = lake.table(table).version()
    rows = lake.delete_keys(table, key, ids)
    shown = f"{key} IN ({', '.join(sorted(ids.to_list())[:3])}{', ...' * (ids.len() > 3)})"
    return [_logged(lake, table, f"{shown}: {ids.len():,} ids", rows, before, stamp, reason)]


def _logged(
    lake: Lake, table: TableSpec, predicate: str, rows: int, before: int, stamp: Stamp, reason: str
) -> dict[str, object]:
    return {
        "table": table.name,
        "predicate": predicate,
        "rows": rows,
        "version_before": before,
        "version_after": lake.table(table).version(),
        "boundary": stamp[1],
        "at": stamp[0],
        "reason": reason,
    }
