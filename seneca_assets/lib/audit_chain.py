"""A tamper-evident audit trail: a hash chain over silver/system_events.

Each audit row has a content hash, the SHA-256 of every one of its columns in the table's order
(text, with a marker for null), and a chain hash, the SHA-256 of the previous row's chain hash
and its own content hash, in a stable order: the bronze batch that stored the row, then its
time, then its event id (rows are only ever appended batch by batch). The chain is kept in
ops/audit_chain, extended as silver grows, rather than in silver/system_events itself: the
silver build appends 1.35 M audit rows of the benchmark corpus in slices, and hashing them there
would cost about 2 s of a build that must stay within 1.5x ingestion. The guarantees are the
same: a changed, removed or inserted audit row, or a rewritten chain, breaks the chain at a row
`verify` names; each backup manifest records the chain head, so the whole chain cannot be
rewritten unseen either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.duck import sql_frame
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.model.tables import HEX_ID, SYSTEM_EVENTS
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

GENESIS = "0" * 64
ORDER = ("ingest_batch", "event_time", "event_id")


class AuditChainModel(TableModel):
    """ops/audit_chain: the hash chain over silver/system_events, a row per audit row."""

    seq: int = pa.Field(ge=0, unique=True, description="The row's place in the chain, from 0.")
    event_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="The audit row.")
    ingest_batch: int = pa.Field(ge=1, description="The bronze batch that stored it.")
    content_sha256: str = pa.Field(description="SHA-256 of every column of the audit row.")
    chain_sha256: str = pa.Field(description="SHA-256 of the previous chain hash and this content.")


AUDIT_CHAIN = TableSpec("ops/audit_chain", AuditChainModel)


class AuditRetiredModel(TableModel):
    """ops/audit_retired: an audit row retention deleted by policy, recorded before it went.

    The chain keeps the row's hashes, so the chain still verifies end to end; a row the chain
    holds that is gone from silver/system_events and is not recorded here breaks it.
    """

    event_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="The audit row.")
    category: str = pa.Field(description="Its retention class.")
    event_time: UtcTime = pa.Field(description="Its time.")
    retired_at: UtcTime = pa.Field(description="When retention deleted it.")
    reason: str = pa.Field(description="The policy that deleted it.")


AUDIT_RETIRED = TableSpec("ops/audit_retired", AuditRetiredModel)


def retire(lake: Lake, rows: pl.DataFrame, reason: str, now: datetime) -> None:
    """Record audit rows (`event_id`, `category`, `event_time`) that retention is deleting."""
    known = lake.scan(AUDIT_RETIRED).select("event_id") if lake.exists(AUDIT_RETIRED) else None
    fresh = rows.select("event_id", "category", "event_time")
    if known is not None:
        fresh = fresh.join(known.collect(), on="event_id", how="anti")
    if fresh.height:
        stamped = fresh.with_columns(retired_at=pl.lit(now), reason=pl.lit(reason))
        lake.write(AUDIT_RETIRED, stamped.cast(AUDIT_RETIRED.schema))


def content_hashes(rows: pl.DataFrame) -> pl.DataFrame:
    """`event_id`, `ingest_batch` and `content_sha256` of audit rows, in the chain's order."""
    columns = list(SYSTEM_EVENTS.schema)
    text = ", ".join(
        f'coalesce(CAST(epoch_us("{c}") AS VARCHAR), chr(30))'
        if isinstance(SYSTEM_EVENTS.schema[c], pl.Datetime)
        else f'coalesce(CAST("{c}" AS VARCHAR), chr(30))'
        for c in columns
    )
    ordered = rows.select(columns).sort(ORDER)
    hashed = sql_frame(
        f"SELECT sha256(concat_ws(chr(31), {text})) AS content_sha256 FROM rows",
        {"rows": ordered},
    )
    return ordered.select("event_id", "ingest_batch").with_columns(hashed.to_series())


def chain(contents: list[str], head: str) -> list[str]:
    """The chain hashes of `contents` after `head`."""
    out, previous = [], bytes.fromhex(head)
    for content in contents:
        previous = hashlib.sha256(previous + bytes.fromhex(content)).digest()
        out.append(previous.hex())
    return out


def extend(lake: Lake) -> int:
    """Chain the audit rows of the batches after the chain's last one; how many were chained."""
    if not lake.exists(SYSTEM_EVENTS):
        return 0
    stored = lake.scan(AUDIT_CHAIN) if lake.exists(AUDIT_CHAIN) else AUDIT_CHAIN.empty().lazy()
    last = stored.sort("seq").tail(1).collect()
    after = int(last.item(0, "ingest_batch")) if last.height else 0
    fresh = lake.scan(SYSTEM_EVENTS).filter(pl.col("ingest_batch") > after).collect()
    if fresh.is_empty():
        return 0
    hashed = content_hashes(fresh)
    head = last.item(0, "chain_sha256") if last.height else GENESIS
    start = int(last.item(0, "seq")) + 1 if last.height else 0
    linked = hashed.with_columns(
        seq=pl.int_range(start, start + hashed.height, dtype=pl.Int64),
        chain_sha256=pl.Series(chain(hashed.get_column("content_sha256").to_list(), head)),
    ).select(AUDIT_CHAIN.schema.names())
    lake.write(AUDIT_CHAIN, linked.cast(AUDIT_CHAIN.schema))
    return linked.height


def head(lake: Lake) -> str | None:
    """The chain's last hash, or None before any audit row is chained."""
    if not lake.exists(AUDIT_CHAIN):
        return None
    last = lake.scan(AUDIT_CHAIN).sort("seq").tail(1).collect()
    return str(last.item(0, "chain_sha256")) if last.height else None


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on the chain: intact, or the first row that breaks it and how."""

    rows: int
    broken_at: str | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        """True when every audit row is chained, unchanged and in place."""
        return self.broken_at is None


def verify(lake: Lake) -> ChainCheck:
    """Recompute every content and chain hash and compare them with the stored chain."""
    stored = lake.read(AUDIT_CHAIN).sort("seq") if lake.exists(AUDIT_CHAIN) else None
    if stored is None or stored.is_empty():
        return ChainCheck(0)
    covered = int(stored.get_column("ingest_batch").max())  # type: ignore[arg-type]
    rows = lake.scan(SYSTEM_EVENTS).filter(pl.col("ingest_batch") <= covered).collect()
    now = content_hashes(rows).rename({"content_sha256": "now_sha256"})
    joined = stored.join(now.drop("ingest_batch"), on="event_id", how="full", coalesce=True)
    missing = joined.filter(pl.col("seq").is_null())
    if missing.height:
        first = missing.sort("event_id").item(0, "event_id")
        return ChainCheck(stored.height, first, "an audit row the chain does not hold")
    joined = joined.sort("seq")
    retired = lake.read(AUDIT_RETIRED).select("event_id") if lake.exists(AUDIT_RETIRED) else None
    gone = joined.filter(pl.col("now_sha256").is_null())
    if retired is not None:  # deleted by a retention policy, recorded: not a break
        gone = gone.join(retired, on="event_id", how="anti")
        joined = joined.with_columns(now_sha256=pl.coalesce("now_sha256", pl.col("content_sha256")))
    changed = joined.filter(pl.col("now_sha256") != pl.col("content_sha256"))
    expected = chain(joined.get_column("content_sha256").to_list(), GENESIS)
    relinked = joined.with_columns(expected=pl.Series(expected)).filter(
        pl.col("expected") != pl.col("chain_sha256")
    )
    breaks = [
        (frame.item(0, "seq"), frame.item(0, "event_id"), reason)
        for frame, reason in (
            (gone, "the audit row was removed"),
            (changed, "the audit row was changed"),
            (relinked, "the chain was rewritten here"),
        )
        if frame.height
    ]
    if not breaks:
        return ChainCheck(stored.height)
    _, event_id, reason = min(breaks)
    return ChainCheck(stored.height, event_id, reason)
