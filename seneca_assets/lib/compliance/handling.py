"""What Seneca did with the data in the period: redactions, retention, backups."""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.backup.tables import BACKUP_LOG
from seneca_assets.lib.compliance.activity import TOP_ROWS
from seneca_assets.lib.compliance.section import (
    Context,
    Counted,
    Evidence,
    Section,
    Topic,
    count,
    counted,
    first_row,
    when,
)
from seneca_assets.lib.retention_log import RETENTION_LOG
from seneca_assets.lib.schemas import REDACTIONS

REDACTION_TOTALS = """SELECT count(*) AS redactions,
       count(DISTINCT row_id) AS rows,
       count(DISTINCT kind) AS kinds,
       min(redacted_at) AS first_redaction,
       max(redacted_at) AS last_redaction
FROM ops_redactions
WHERE redacted_at >= $1 AND redacted_at < $2"""

REDACTIONS_BY_KIND = f"""SELECT r.kind,
       coalesce(e.stream, q.stream) AS stream,
       r."table" AS stored_in,
       count(*) AS redactions,
       count(DISTINCT r.row_id) AS rows
FROM ops_redactions AS r
LEFT JOIN bronze_events AS e ON e.event_id = r.row_id
LEFT JOIN bronze_quarantine AS q ON q.quarantine_id = r.row_id
WHERE r.redacted_at >= $1 AND r.redacted_at < $2
GROUP BY ALL
ORDER BY redactions DESC, kind, stream NULLS LAST, stored_in
LIMIT {TOP_ROWS}"""


REDACTIONS_TOPIC = Topic(
    "redactions",
    "Sensitive data: secrets redacted before storage",
    "How was sensitive data handled in the period: which kinds of secret were found, where, and "
    "were they kept out of the lake?",
)


@Counted(
    REDACTIONS_TOPIC, REDACTIONS, REDACTION_TOTALS, "no redaction is on record.",
    "No secret was found in the lines stored in this period, so none was redacted (every line "
    "is scanned before storage).",
)  # fmt: skip
def redactions(ctx: Context, totals: Evidence) -> Section:
    """How sensitive data was handled: secrets redacted before storage, by kind and stream.

    Only kinds, streams and counts are read: ops/redactions has no column for a secret, and
    neither its field paths nor the redacted rows are shown. Redactions count by when the line
    was stored (ingestion redacts before storing).
    """
    t = first_row(totals)
    by_kind = ctx.ask("Redactions by kind of secret and stream", REDACTIONS_BY_KIND)
    per_kind = by_kind.frame.group_by("kind").agg(pl.col("redactions").sum())
    kinds = ", ".join(
        f"{count(n)} {kind}" for kind, n in per_kind.sort(["redactions", "kind"]).reverse().rows()
    )
    answer = (
        f"{count(t['redactions'])} secrets of {count(t['kinds'])} kinds were redacted from "
        f"{count(t['rows'])} stored rows before storage ({kinds}). Each was replaced in the "
        "stored line by `[REDACTED:<kind>]`; ops/redactions records the kind and where, never "
        "the value, so no secret is in the lake or in this report."
    )
    return REDACTIONS_TOPIC.answer(answer, totals, by_kind)


MOVED_IN = "starts_with(predicate, 'append of ')"
"""A tier move's rows written into the colder table (lib/tiering logs them `append of N rows`;
the log has no column for the kind of change)."""

RETENTION_TOTALS = f"""SELECT "table",
       count(*) AS transactions,
       CAST(coalesce(sum(rows) FILTER (WHERE NOT {MOVED_IN}), 0) AS BIGINT) AS rows_deleted,
       CAST(coalesce(sum(rows) FILTER (WHERE {MOVED_IN}), 0) AS BIGINT) AS rows_moved_in,
       max(boundary) AS boundary
FROM ops_retention_log
WHERE "at" >= $1 AND "at" < $2
GROUP BY "table"
ORDER BY "table"
LIMIT 100"""

RETENTION_ACTIONS = f"""SELECT "at", "table", rows, version_before, version_after, boundary,
       reason, predicate
FROM ops_retention_log
WHERE "at" >= $1 AND "at" < $2
ORDER BY "at", "table"
LIMIT {TOP_ROWS}"""


RETENTION = Topic(
    "retention",
    "Retention: what was deleted or moved, and why",
    "What did retention delete or move in the period, how much, and under which policy?",
)


@Counted(
    RETENTION, RETENTION_LOG, RETENTION_TOTALS,
    "retention has never run, so nothing was deleted by it.",
    "Retention deleted and moved nothing in this period.",
)  # fmt: skip
def retention(ctx: Context, totals: Evidence) -> Section:
    """What retention deleted or moved in the period, how many rows, at which versions, why."""
    actions = ctx.ask(f"Each transaction (the first {TOP_ROWS})", RETENTION_ACTIONS)
    done = [
        f"{count(r['rows_deleted'])} rows deleted from {r['table']}"
        if r["rows_deleted"] or not r["rows_moved_in"]
        else f"{count(r['rows_moved_in'])} rows moved into {r['table']}"
        for r in totals.frame.iter_rows(named=True)
    ]
    answer = (
        f"Retention made {counted(totals.frame['transactions'].sum(), 'transaction')}: "
        f"{'; '.join(done)} (the boundaries and reasons are below). Each is one Delta "
        "transaction whose versions before and after are listed: deleted rows stay readable by "
        "time travel to the version before while vacuum keeps its files."
    )
    return RETENTION.answer(answer, totals, actions)


BACKUP_TOTALS = """SELECT kind,
       count(*) AS backups,
       count(*) FILTER (WHERE verified) AS verified,
       count(*) FILTER (WHERE NOT verified) AS not_verified,
       CAST(sum(bytes) AS BIGINT) AS bytes,
       max(verified_at) FILTER (WHERE verified) AS last_verified
FROM ops_backups
WHERE created_at >= $1 AND created_at < $2
GROUP BY kind
ORDER BY kind"""

BACKUP_LIST = f"""SELECT backup_id, kind, parent, created_at, tables, files, bytes, verified,
       verified_at, left(problems, 200) AS problems
FROM ops_backups
WHERE created_at >= $1 AND created_at < $2
ORDER BY verified, created_at DESC, backup_id
LIMIT {TOP_ROWS}"""


BACKUPS = Topic(
    "backups",
    "Backups: made and verified",
    "Which backups were made in the period, and was each verified by a full restore?",
)


@Counted(
    BACKUPS, BACKUP_LOG, BACKUP_TOTALS, "no scheduled backup has ever been logged.",
    "No backup was made in this period.",
)  # fmt: skip
def backups(ctx: Context, totals: Evidence) -> Section:
    """Which backups were made in the period and whether each was verified by a restore."""
    listed = ctx.ask(f"Backups, those not verified first ({TOP_ROWS} at most)", BACKUP_LIST)
    frame = totals.frame
    made, good = int(frame["backups"].sum()), int(frame["verified"].sum())
    kinds = ", ".join(f"{count(r['backups'])} {r['kind']}" for r in frame.iter_rows(named=True))
    answer = (
        f"{made:,} backups were made ({kinds}); {good:,} were verified by a restore into "
        f"scratch that checked every file's SHA-256 and every table's row count (the last at "
        f"{when(frame['last_verified'].max())})."
    )
    if made == good:
        return BACKUPS.answer(answer, totals, listed)
    first = listed.frame.filter(~pl.col("verified")).row(0, named=True)
    answer += (
        f" {made - good:,} did NOT verify, e.g. {first['backup_id']}: "
        f"{first['problems'] or 'no problem recorded'}."
    )
    return BACKUPS.answer(answer, totals, listed, status="attention")
