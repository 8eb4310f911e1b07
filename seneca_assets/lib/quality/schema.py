"""Schema evolution: the fields each kind of record carries, and when that changes.

Marcus writes no schema version, and its fields change between releases. Per stream and kind,
every field (top-level keys, and the keys of top-level objects as `parent.child`) is seen with
its JSON type in every event. A finding is raised, naming the first event that shows it, when:
- **a field is new**: none of at least MIN_BEFORE earlier records of the kind had it, and at
  least NEW_SHARE (90%) of the kind's records from its first appearance on do;
- **a field vanished**: at least KEPT_SHARE of the kind's records up to its last appearance had
  it, and none of at least MIN_BEFORE later ones do;
- **a field changed type**: at least MIN_BEFORE earlier values of the field were of other types,
  and at least NEW_SHARE of its values from the new type's first appearance on are of it.
Types are JSON's (string, number, boolean, object, array): `1` and `1.0` are both numbers, and
null is no value, not a type.
Fields that come and go with a kind's variants (in a mix of its records) are neither new nor
vanished.
"""

from __future__ import annotations

import polars as pl

from seneca_assets.lib.duck import sql_frame
from seneca_assets.lib.quality.finding import Finding

MIN_BEFORE = 20
"""Records on each side of a change for it to be a change rather than a rare variant."""
NEW_SHARE = 0.9
"""A release that adds a field (or changes its type) writes it in (nearly) every later record;
a field of some of a kind's variants (a kanban call's `status`) is in a mix of them."""
KEPT_SHARE = 0.9
CHECK_NEW, CHECK_VANISHED, CHECK_TYPE = "schema.new_field", "schema.vanished_field", "schema.type"

_FIELDS = """
WITH top AS (
  SELECT event_id, stream, coalesce(kind, '') AS kind, event_time, payload,
         unnest(json_keys(payload)) AS key
  FROM events
), typed AS (
  SELECT event_id, stream, kind, event_time, key AS field,
         json_extract(payload, '$."' || replace(key, '"', '\\"') || '"') AS value
  FROM top
), nested AS (
  SELECT event_id, stream, kind, event_time, field, value,
         unnest(json_keys(value)) AS sub
  FROM typed WHERE json_type(value) = 'OBJECT'
), fields AS (
  SELECT event_id, stream, kind, event_time, field, value FROM typed
  UNION ALL
  SELECT event_id, stream, kind, event_time, field || '.' || sub,
         json_extract(value, '$."' || replace(sub, '"', '\\"') || '"') FROM nested
)
SELECT event_id, stream, kind, event_time, field,
       CASE WHEN json_type(value) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN 'number'
            WHEN json_type(value) = 'VARCHAR' THEN 'string'
            ELSE lower(json_type(value)) END AS type,
       CASE WHEN json_type(value) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN value::VARCHAR END
         AS value
FROM fields
"""


def fields(events: pl.DataFrame) -> pl.DataFrame:
    """Every field of every event, with its type and, for a number, its value as JSON text.

    Columns: `event_id`, `stream`, `kind`, `event_time`, `field`, `type`, `value`.

    `events` needs `event_id`, `stream`, `kind`, `event_time` and `payload` (bronze/events).
    """
    if events.is_empty():
        return pl.DataFrame(
            schema={
                "event_id": pl.String,
                "stream": pl.String,
                "kind": pl.String,
                "event_time": pl.Datetime("us", "UTC"),
                "field": pl.String,
                "type": pl.String,
                "value": pl.String,
            }
        )
    return sql_frame(_FIELDS, {"events": events})


def schema_findings(events: pl.DataFrame, seen: pl.DataFrame) -> list[Finding]:
    """New, vanished and retyped fields per stream and kind, each with its first evidence.

    `seen` is `fields(events)`.
    """
    records = events.select("event_id", "stream", pl.col("kind").fill_null(""), "event_time").sort(
        "event_time", "event_id"
    )
    return [
        *_appeared(seen, records),
        *_vanished(seen, records),
        *_retyped(seen.filter(pl.col("type") != "null")),
    ]


def _position(records: pl.DataFrame) -> pl.DataFrame:
    """Each record's place among its kind's records (0 first) and the kind's count."""
    return records.with_columns(
        place=pl.int_range(pl.len()).over("stream", "kind"),
        total=pl.len().over("stream", "kind"),
    )


def _appeared(seen: pl.DataFrame, records: pl.DataFrame) -> list[Finding]:
    placed = _position(records)
    present = seen.select("event_id", "field").unique().join(placed, on="event_id")
    first = (
        present.sort("place")
        .group_by("stream", "kind", "field")
        .agg(
            at=pl.col("place").first(),
            evidence=pl.col("event_id").head(10),
            since=pl.col("event_time").first(),
            with_it=pl.len(),
            total=pl.col("total").first(),
        )
        .filter(
            (pl.col("at") >= MIN_BEFORE)
            & (pl.col("with_it") >= NEW_SHARE * (pl.col("total") - pl.col("at")))
        )
    )
    return [
        _finding(
            CHECK_NEW,
            row,
            observed=f"`{row['field']}` in {row['with_it']:,} of the {row['total'] - row['at']:,} "
            "records from its first appearance",
            expected=f"the fields of the {row['at']:,} records before it",
        )
        for row in first.iter_rows(named=True)
    ]


def _vanished(seen: pl.DataFrame, records: pl.DataFrame) -> list[Finding]:
    placed = _position(records)
    present = seen.select("event_id", "field").unique().join(placed, on="event_id")
    last = (
        present.group_by("stream", "kind", "field")
        .agg(
            at=pl.col("place").max(),
            with_it=pl.len(),
            total=pl.col("total").first(),
            until=pl.col("event_time").max(),
        )
        .filter(
            (pl.col("total") - 1 - pl.col("at") >= MIN_BEFORE)
            & (pl.col("with_it") >= KEPT_SHARE * (pl.col("at") + 1))
        )
    )
    if last.is_empty():
        return []
    after = (
        placed.join(last.select("stream", "kind", "field", "at"), on=["stream", "kind"])
        .filter(pl.col("place") > pl.col("at"))
        .sort("place")
        .group_by("stream", "kind", "field")
        .agg(evidence=pl.col("event_id").head(10), since=pl.col("event_time").first())
    )
    rows = last.join(after, on=["stream", "kind", "field"])
    return [
        _finding(
            CHECK_VANISHED,
            row,
            observed=f"`{row['field']}` in none of the {row['total'] - 1 - row['at']:,} records "
            f"since {row['since']:%Y-%m-%d %H:%M} UTC",
            expected=f"`{row['field']}`, as in {row['with_it']:,} of the {row['at'] + 1:,} "
            "records before",
        )
        for row in rows.iter_rows(named=True)
    ]


def _retyped(seen: pl.DataFrame) -> list[Finding]:
    values = seen.sort("event_time", "event_id").with_columns(
        place=pl.int_range(pl.len()).over("stream", "kind", "field"),
        total=pl.len().over("stream", "kind", "field"),
    )
    firsts = (
        values.group_by("stream", "kind", "field", "type")
        .agg(
            at=pl.col("place").min(),
            since=pl.col("event_time").min(),
            evidence=pl.col("event_id").sort_by("place").head(10),
        )
        .filter(pl.col("at") >= MIN_BEFORE)
    )
    if firsts.is_empty():
        return []
    later = (
        values.join(
            firsts.select("stream", "kind", "field", "at", new="type"),
            on=["stream", "kind", "field"],
        )
        .group_by("stream", "kind", "field", "new")
        .agg(
            before=pl.col("type").filter(pl.col("place") < pl.col("at")).unique().sort(),
            newer=(pl.col("type") == pl.col("new")).filter(pl.col("place") >= pl.col("at")).sum(),
            after=(pl.col("place") >= pl.col("at")).sum(),
        )
        .filter(
            ~pl.col("new").is_in(pl.col("before"))
            & (pl.col("newer") >= NEW_SHARE * pl.col("after"))
        )
    )
    rows = later.join(firsts.rename({"type": "new"}), on=["stream", "kind", "field", "new"])
    return [
        _finding(
            CHECK_TYPE,
            row,
            observed=f"`{row['field']}` as {row['new']} in {row['newer']:,} of its "
            f"{row['after']:,} values from the first",
            expected=f"`{row['field']}` as {' or '.join(row['before'])}, as in its "
            f"{row['at']:,} earlier values",
        )
        for row in rows.iter_rows(named=True)
    ]


def _finding(check: str, row: dict, observed: str, expected: str) -> Finding:
    return Finding(
        check=check,
        severity="info" if check == CHECK_NEW else "warning",
        stream=row["stream"],
        table="bronze/events",
        subject_kind="field",
        subject=f"{row['kind'] or '(no kind)'}.{row['field']}",
        window_start=row["since"],
        observed=observed,
        expected=expected,
        evidence=row["evidence"],
    )
