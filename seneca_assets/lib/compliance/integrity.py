"""Whether the record can be trusted and replayed: the audit chain, and the lake's versions.

The chain is verified with `lib/audit_chain.verify` (every content and chain hash recomputed).
The state of the lake at the period's end is each table's last Delta version committed by then,
which `lib/query`'s `Lake.as_of` reads; snapshots in and around the period name other states.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from seneca_assets.lib.audit_chain import AUDIT_CHAIN, verify
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.compliance.section import (
    Commits,
    Context,
    Evidence,
    Section,
    Status,
    Topic,
    count,
    first_row,
    when,
)
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.model.tables import SYSTEM_EVENTS
from seneca_assets.lib.schemas import SNAPSHOTS

CHAIN_STATE = """SELECT count(*) AS chained_rows,
       max(ingest_batch) AS last_batch,
       arg_max(chain_sha256, seq) AS head
FROM ops_audit_chain"""

CHAIN_COVERAGE = """SELECT count(*) AS events,
       count(c.event_id) AS chained,
       count(*) - count(c.event_id) AS not_chained
FROM silver_system_events AS e
LEFT JOIN ops_audit_chain AS c ON c.event_id = e.event_id
WHERE e.event_time >= $1 AND e.event_time < $2"""

CHAIN_BREAK = """SELECT coalesce(c.event_id, e.event_id) AS event_id, c.seq, c.ingest_batch,
       e.event_time, e.actor, e.action, e.event_type
FROM (SELECT event_id, seq, ingest_batch FROM ops_audit_chain WHERE event_id = $1) AS c
FULL JOIN (SELECT event_id, event_time, actor, action, event_type
           FROM silver_system_events WHERE event_id = $1) AS e
  ON e.event_id = c.event_id"""


CHAIN = Topic(
    "audit-chain",
    "Audit chain: is the audit trail intact?",
    "Is the audit trail complete and unchanged: does every audit row still match the hash chain, "
    "and are the period's rows chained?",
)


def audit_chain(ctx: Context) -> Section:
    """Whether the audit trail is intact: the hash chain verified, or the first row breaking it."""
    if ctx.absent(SYSTEM_EVENTS):
        return CHAIN.missing(SYSTEM_EVENTS, "there is no audit row to chain.")
    check = verify(ctx.storage)
    verdict = Evidence(
        "The verification (every content and chain hash recomputed when the report was built)",
        f"seneca_assets.lib.audit_chain.verify(Lake({ctx.storage.location!r}))",
        (),
        pl.DataFrame(
            [
                {
                    "rows": check.rows,
                    "intact": check.intact,
                    "broken_at": check.broken_at,
                    "reason": check.reason,
                }
            ],
            schema={
                "rows": pl.Int64,
                "intact": pl.Boolean,
                "broken_at": pl.String,
                "reason": pl.String,
            },
        ),
        "python",
    )
    state = ctx.ask("The chain", CHAIN_STATE, ())
    coverage = ctx.ask("The period's audit rows in the chain", CHAIN_COVERAGE)
    s, c = first_row(state), first_row(coverage)
    in_period = _coverage(c)
    if not check.intact:
        broken = ctx.ask("The first row that breaks the chain", CHAIN_BREAK, [str(check.broken_at)])
        row = broken.frame.row(0, named=True) if broken.frame.height else {}
        answer = (
            f"The audit chain is BROKEN at audit row {check.broken_at} (chain position "
            f"{row.get('seq', 'none')}, {when(row.get('event_time'))}): {check.reason}. The "
            f"rows from there on cannot be shown to be unchanged. {in_period}"
        )
        return CHAIN.answer(answer, verdict, broken, state, coverage, status="attention")
    if ctx.absent(AUDIT_CHAIN) or not check.rows:
        answer = (
            "The audit trail is not chained: ops/audit_chain holds no row, so no audit row can "
            f"be shown to be unchanged (materialize ops/audit_chain, or `seneca run`). {in_period}"
        )
        return CHAIN.answer(answer, verdict, state, coverage, status="attention")
    answer = (
        f"The audit chain is intact: all {check.rows:,} chained audit rows match "
        "silver/system_events (or ops/audit_retired, for those retention deleted), and the chain "
        "links from its first row to its head "
        f"{s['head']} (bronze batch {s['last_batch']}). {in_period}"
    )
    status: Status = "attention" if c["not_chained"] else "answered"
    return CHAIN.answer(answer, verdict, state, coverage, status=status)


def _coverage(totals: dict[str, object]) -> str:
    """How many of the period's audit rows the chain holds, in words."""
    if not totals["events"]:
        return "The period has no audit row."
    said = f"{count(totals['chained'])} of the period's {count(totals['events'])} audit rows are"
    if not totals["not_chained"]:
        return f"{said} chained."
    return (
        f"{said} chained; {count(totals['not_chained'])} are not yet (ops/audit_chain extends "
        "the chain as silver/system_events grows)."
    )


SNAPSHOTS_AROUND = """WITH taken AS (
    SELECT name, min(taken_at) AS taken_at, count(*) AS tables
    FROM ops_snapshots
    GROUP BY name
)
SELECT name, taken_at, tables,
       CASE WHEN taken_at < $1 THEN 'before' WHEN taken_at >= $2 THEN 'after'
            ELSE 'during' END AS relation
FROM taken
WHERE (taken_at >= $1 AND taken_at < $2)
   OR taken_at = (SELECT max(taken_at) FROM taken WHERE taken_at < $1)
   OR taken_at = (SELECT min(taken_at) FROM taken WHERE taken_at >= $2)
ORDER BY taken_at, name
LIMIT 50"""


def commit_times(root: str | Path) -> dict[str, dict[int, int]]:
    """Per table of the lake, the commit time (ms since the epoch) of each version in its log."""
    storage = StorageLake(root)
    return {
        spec.name: {c["version"]: c["timestamp"] for c in DeltaTable(storage.uri(spec)).history()}
        for spec in TABLES
        if storage.exists(spec)
    }


def version_at(commits: Mapping[int, int], at: datetime) -> int | None:
    """The last version committed at or before `at` (the rule of `Lake.as_of`), or None."""
    ms = at.timestamp() * 1000
    before = [version for version, stamp in commits.items() if stamp <= ms]
    return max(before) if before else None


def pinned(commits: Commits, at: datetime) -> dict[str, int]:
    """The version of every table at `at`, as `Lake.as_of(at)` reads them."""
    found = {table: version_at(versions, at) for table, versions in commits.items()}
    return {table: version for table, version in found.items() if version is not None}


def versions_at(root: str | Path, at: datetime, commits: Commits | None = None) -> pl.DataFrame:
    """Every table at `at`: its version, when that was committed, its rows, whether it reads.

    A version reads while its data files are on disk: vacuum removes the files no version of the
    last 7 days needs, unless a snapshot records the version. A table created after `at` has no
    version; one whose log no longer reaches back to `at` says so.
    """
    storage = StorageLake(root)
    commits = commits if commits is not None else commit_times(root)
    rows: list[tuple[str, int | None, datetime | None, int | None, str]] = []
    for spec in TABLES:
        versions = commits.get(spec.name)
        if versions is None:
            continue
        version = version_at(versions, at)
        if version is None:
            state = "created later" if 0 in versions else "log no longer reaches back"
            rows.append((spec.name, None, None, None, state))
            continue
        table = DeltaTable(storage.uri(spec), version=version)
        actions = pl.DataFrame(table.get_add_actions(flatten=True))
        records = int(actions["num_records"].sum()) if actions.height else 0
        if storage.remote:  # a HEAD per file on an object store: not worth it here
            state = "in the log (files not checked on an object store)"
        else:
            gone = sum(not os.path.exists(uri) for uri in table.file_uris())
            state = "readable" if not gone else f"{gone:,} data files vacuumed"
        committed = datetime.fromtimestamp(versions[version] / 1000, at.tzinfo)
        rows.append((spec.name, version, committed, records, state))
    return pl.DataFrame(
        rows,
        schema={"table": pl.String, "version": pl.Int64,
                "committed_at": pl.Datetime("us", "UTC"), "rows": pl.Int64, "state": pl.String},
        orient="row",
    )  # fmt: skip


REPRODUCIBILITY = Topic(
    "reproducibility",
    "Reproducibility: the lake as it was",
    "Can the state of the system at the period's end, or at any moment, be reproduced, and how?",
)


def reproducibility(ctx: Context) -> Section:
    """How to see the lake as it was: at the period's end, in snapshots, as this report read it."""
    root = ctx.storage.location
    ended = ctx.period.end <= ctx.built_at
    at = ctx.period.end if ended else ctx.built_at
    moment = at.isoformat()
    states = versions_at(root, at, ctx.commits)
    caption = "Every table as it was at the period's end" if ended else "Every table when built"
    table = Evidence(
        caption,
        f"seneca_assets.lib.compliance.versions_at({root!r}, datetime.fromisoformat({moment!r}))",
        (),
        states,
        "python",
    )
    read = Evidence(
        "The versions this report read",
        f"Lake({root!r}).as_of({ctx.built_at.isoformat()!r})",
        (),
        pl.DataFrame(
            sorted(ctx.read.items()), schema={"table": pl.String, "version": pl.Int64}, orient="row"
        ),
        "python",
    )
    existing = states.filter(pl.col("version").is_not_null())
    unreadable = existing.filter(pl.col("state") != "readable").get_column("table")
    answer = (
        f"The lake as it was at the period's end is `Lake({root!r}).as_of({moment!r})`"
        if ended
        else "The period had not ended when this report was built, so its end state is not "
        f"known yet; the lake as it was when built is `Lake({root!r}).as_of({moment!r})`"
    )
    if not existing.height:
        answer += ": no table had been created yet. "
    elif unreadable.len():
        answer += (
            f" (lib/query): {existing.height:,} tables at the versions below, of which "
            f"{unreadable.len():,} no longer read ({', '.join(unreadable)}: their files were "
            "vacuumed; restore a backup made before then with `seneca backup restore`). "
        )
    else:
        answer += f" (lib/query): {existing.height:,} tables at the versions below, all readable. "
    evidence = [table]
    if ctx.absent(SNAPSHOTS):
        answer += "No snapshot has been taken (`seneca snapshot take NAME` records one). "
    else:
        snapshots = ctx.ask(
            "Snapshots in the period, and the nearest before and after", SNAPSHOTS_AROUND
        )
        evidence.append(snapshots)
        named = ", ".join(
            f"{r['name']} ({r['relation']}, {when(r['taken_at'])})"
            for r in snapshots.frame.iter_rows(named=True)
        )
        answer += (
            f"Snapshots: {named or 'none'}; `Lake({root!r}).as_of(NAME)` reads one and "
            "`seneca snapshot restore NAME` returns the tables to it. "
        )
    answer += (
        "Every answer of this report is reproduced exactly by "
        f"`Lake({root!r}).as_of({ctx.built_at.isoformat()!r}).sql(query, params)`."
    )
    return REPRODUCIBILITY.answer(answer, *evidence, read)
