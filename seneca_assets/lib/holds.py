"""Legal holds: data under a hold is never deleted by retention and never moved to a colder tier.

A hold names a conversation, a task, an agent or a project; it stays in force until released
(the row is kept, with the time of its release, so the holds table is its own history).
Retention reads the holds in force when it runs and leaves every row that names a held subject
where it is (`excluded`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

KINDS = {"conversation": "id", "task": "task_id", "agent": "agent_id", "project": "project_id"}
"""What a hold can name, and the column that names it in the tables retention touches."""
SUBJECT = re.compile(r"^[A-Za-z0-9_.:@/-]{1,200}$")
"""Subjects are ids: letters, digits and `_.:@/-`. Anything else is refused when placing a hold,
so a subject can be written into a Delta predicate as a literal."""


class LegalHoldModel(TableModel):
    """ops/legal_holds: one legal hold, in force from `placed_at` until `released_at`."""

    hold_id: str = pa.Field(unique=True, description="The hold's id (given to release it).")
    kind: str = pa.Field(isin=list(KINDS), description="What it holds: " + ", ".join(KINDS) + ".")
    subject: str = pa.Field(description="The id of the held conversation, task, agent or project.")
    reason: str = pa.Field(description="Why (a matter, a request).")
    placed_at: UtcTime = pa.Field(description="When it was placed.")
    released_at: UtcTime = pa.Field(nullable=True, description="When it was released, if it was.")


LEGAL_HOLDS = TableSpec("ops/legal_holds", LegalHoldModel)


class HoldError(ValueError):
    """A hold that cannot be placed or released; the message says why."""


def place(lake: Lake, kind: str, subject: str, reason: str, now: datetime) -> str:
    """Place a hold on `subject` (a `kind`); its id. HoldError for a bad kind or subject."""
    if kind not in KINDS:
        raise HoldError(f"a hold names a {', '.join(KINDS)}, not {kind!r}")
    if not SUBJECT.match(subject):
        raise HoldError(f"{subject!r} is not an id (letters, digits and _.:@/- only)")
    if not reason.strip():
        raise HoldError("a hold needs a reason")
    hold_id = hashlib.sha256(f"{kind}\0{subject}\0{now.isoformat()}".encode()).hexdigest()[:16]
    row = {
        "hold_id": hold_id,
        "kind": kind,
        "subject": subject,
        "reason": reason,
        "placed_at": now,
        "released_at": None,
    }
    lake.write(LEGAL_HOLDS, pl.DataFrame([row], schema=LEGAL_HOLDS.schema))
    return hold_id


def release(lake: Lake, hold_id: str, now: datetime) -> None:
    """Release the hold `hold_id` (one commit); HoldError if no hold in force has that id."""
    if not re.fullmatch(r"[0-9a-f]{16}", hold_id):
        raise HoldError(f"{hold_id!r} is not a hold id")
    rows = in_force(lake).filter(pl.col("hold_id") == hold_id)
    if rows.is_empty():
        raise HoldError(f"no hold in force has the id {hold_id}")
    lake.write(
        LEGAL_HOLDS,
        rows.with_columns(released_at=pl.lit(now).cast(LEGAL_HOLDS.schema["released_at"])),
        mode="overwrite",
        predicate=f"hold_id = '{hold_id}'",
    )


def in_force(lake: Lake) -> pl.DataFrame:
    """The holds not released."""
    if not lake.exists(LEGAL_HOLDS):
        return LEGAL_HOLDS.empty()
    return lake.scan(LEGAL_HOLDS).filter(pl.col("released_at").is_null()).collect()


def held(holds: pl.DataFrame) -> dict[str, list[str]]:
    """The held subjects by the column that names them (`id`, `task_id`, ...)."""
    out: dict[str, list[str]] = {}
    for kind, subject in holds.select("kind", "subject").iter_rows():
        out.setdefault(KINDS[kind], []).append(subject)
    return out


def excluded(holds: dict[str, list[str]], columns: list[str]) -> str | None:
    """A Delta predicate true for the rows no hold names, over the `columns` a table has.

    None when no hold applies to the table. A null column names nothing, so it holds nothing.
    """
    terms = []
    for column, subjects in sorted(holds.items()):
        if column in columns:
            listed = ", ".join(f"'{s}'" for s in sorted(set(subjects)))
            terms.append(f"coalesce({column} IN ({listed}), false)")
    return f"NOT ({' OR '.join(terms)})" if terms else None


def held_rows(holds: dict[str, list[str]], columns: list[str]) -> pl.Expr:
    """A Polars expression true for the rows some hold names (the same rule as `excluded`)."""
    expr = pl.lit(False)
    for column, subjects in holds.items():
        if column in columns:
            expr = expr | pl.col(column).is_in(subjects).fill_null(False)
    return expr
