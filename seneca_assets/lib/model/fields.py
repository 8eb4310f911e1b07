"""Typed fields out of bronze payloads, in one DuckDB pass, with a reason for every unusable value.

A silver table declares the fields it reads (`Field`: a name, the JSON paths where Marcus may
write it, first present wins, and the type its meaning needs) and the columns it computes from
them in SQL. `extract` parses each payload once, types every field, and returns the rows plus one
data-quality issue per value that was present but unusable (kept as null) or coerced: a progress
of "fifty", a task id written as a number, metadata that is a string. Rows are never dropped.

Every SQL fragment here is built from the caller's constants (paths, names); no value from the
data is ever formatted into SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from seneca_assets.lib.duck import hex_ids, sql_frame
from seneca_assets.lib.model.tables import DATA_QUALITY

Kind = Literal["text", "id", "number", "integer", "object", "list", "bool"]
_NUMERIC = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_VALUE_CHARS = 200
LIFTED = ("agent_id", "task_id", "project_id")
"""bronze/events columns renamed `event_<name>` in the SQL of `extract`."""


@dataclass(frozen=True)
class Field:
    """A value a silver table reads from the payload.

    Attributes:
        name: Column name in the SQL of the table (and in data-quality issues).
        paths: JSON paths where Marcus writes it, first present (and not null) wins.
        kind: What its meaning needs: text, an id (text; a number is kept as its text), a number,
            an integer, a JSON object or list (kept as JSON text), or a boolean.
        table: The silver table the issue is reported against.
        low: Smallest usable number, if bounded.
        high: Largest usable number, if bounded.
        column: The table column an unusable value leaves null (by default `name`); None for a
            value the table only reads to decide something, whose issues another table reports.
    """

    name: str
    paths: tuple[str, ...]
    kind: Kind
    table: str
    low: float | None = None
    high: float | None = None
    column: str | None = ""

    @property
    def reported_as(self) -> str | None:
        """The column its issues name, or None if they are not reported."""
        return self.name if self.column == "" else self.column


def _number(text: str, kind_of: str) -> str:
    """SQL for the number a JSON value holds: a JSON number, or text that reads as one."""
    return (
        f"CASE WHEN {kind_of} IN {_NUMERIC} THEN CAST({text} AS DOUBLE) "
        f"WHEN {kind_of} = 'VARCHAR' THEN TRY_CAST(trim({text}) AS DOUBLE) END"
    )


def _typed(field: Field, text: str, kind_of: str, number: str) -> tuple[str, str]:
    """SQL for the usable value and for the reason it is not usable (or was coerced).

    `text` is the field's value as text (a string unquoted, anything else as JSON), `kind_of`
    its JSON type and `number` its `_number` (column names, each computed once per row).
    """
    found = f"'found ' || lower({kind_of})"
    if field.kind == "text":
        return (
            f"CASE WHEN {kind_of} = 'VARCHAR' THEN {text} END",
            f"CASE WHEN {kind_of} <> 'VARCHAR' THEN 'expected text, ' || {found} "
            "|| '; kept as null' END",
        )
    if field.kind == "id":
        return (
            f"CASE WHEN {kind_of} = 'VARCHAR' AND {text} <> '' THEN {text} "
            f"WHEN {kind_of} IN ('BIGINT', 'UBIGINT') THEN {text} END",
            f"CASE WHEN {kind_of} IN ('BIGINT', 'UBIGINT') THEN 'an id written as a number; "
            f"kept as its text' WHEN {kind_of} = 'VARCHAR' AND {text} = '' THEN 'an empty id; "
            f"kept as null' WHEN {kind_of} <> 'VARCHAR' THEN 'expected an id, ' || {found} "
            "|| '; kept as null' END",
        )
    if field.kind in ("number", "integer"):
        bounds = []
        if field.low is not None:
            bounds.append(f"{number} < {field.low!r}")
        if field.high is not None:
            bounds.append(f"{number} > {field.high!r}")
        limits = (
            f"outside [{field.low:g}, {field.high:g}]"
            if field.low is not None and field.high is not None
            else f"below {field.low:g}"
            if field.low is not None
            else f"above {field.high:g}"
            if field.high is not None
            else ""
        )
        outside = " OR ".join(bounds) or "FALSE"
        usable = f"({number} IS NOT NULL AND isfinite({number}) AND NOT ({outside}))"
        value = f"CASE WHEN {usable} THEN {number} END"
        fraction = "FALSE"
        if field.kind == "integer":
            value = f"CASE WHEN {usable} THEN CAST(round({number}) AS BIGINT) END"
            fraction = f"{number} <> round({number})"
        reason = (
            f"CASE WHEN {number} IS NULL THEN 'expected a number, ' || {found} "
            f"|| ' ' || left({text}, 40) || '; kept as null' "
            f"WHEN NOT isfinite({number}) THEN 'not a finite number; kept as null' "
            f"WHEN {outside} THEN '{limits}; kept as null' "
            f"WHEN {fraction} THEN 'a fraction where a whole number belongs; rounded' "
            f"WHEN {kind_of} = 'VARCHAR' THEN 'a number written as text; converted' END"
        )
        return value, reason
    expected = {"object": "OBJECT", "list": "ARRAY", "bool": "BOOLEAN"}[field.kind]
    value = f"CASE WHEN {kind_of} = '{expected}' THEN {text} END"
    if field.kind == "bool":
        value = f"CASE WHEN {kind_of} = 'BOOLEAN' THEN {text} = 'true' END"
    label = {"object": "an object", "list": "a list", "bool": "true or false"}[field.kind]
    return value, (
        f"CASE WHEN {kind_of} <> '{expected}' THEN 'expected {label}, ' || {found} "
        "|| '; kept as null' END"
    )


def extract(
    rows: pl.DataFrame,
    fields: Sequence[Field],
    columns: Mapping[str, str],
    where: str = "TRUE",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type `fields` out of each row's `payload` and compute `columns` (SQL over them).

    Args:
        rows: bronze/events rows (at least `event_id`, `stream`, `event_time`, `payload`,
            `ingest_batch`).
        fields: The values to read.
        columns: Output columns as SQL over the typed fields and the bronze columns of `rows`;
            the identities bronze lifted are there as `event_agent_id`, `event_task_id` and
            `event_project_id`, so that a field may take their names.
        where: A SQL filter over the same (a constant of the caller).

    Returns:
        The computed columns, one row per input row kept by `where`; and the data-quality
        issues (ops/data_quality rows) of those rows.
    """
    paths = [path for field in fields for path in field.paths]
    index = {path: i + 1 for i, path in enumerate(dict.fromkeys(paths))}
    located, kinds, typed, why = [], [], [], []
    for field in fields:
        name = field.name
        present = [(index[p], f"coalesce(t[{index[p]}] <> 'NULL', false)") for p in field.paths]
        position = " ".join(f"WHEN {found} THEN {i}" for i, found in present)
        located.append(f'CASE {position} END AS "_pos_{name}"')
        pos, kind_of = f'"_pos_{name}"', f'"_kind_{name}"'
        text, number = f'"_text_{name}"', f'"_num_{name}"'
        kinds.append(f"t[{pos}] AS {kind_of}, s[{pos}] AS {text}")
        if field.kind in ("number", "integer"):
            kinds.append(f"{_number(f's[{pos}]', f't[{pos}]')} AS {number}")
        value, reason = _typed(field, text, kind_of, number)
        typed.append(f'{value} AS "{name}", {reason} AS "_why_{name}"')
        # Where and what the value was: only worked out for the rare rows with an issue.
        local = " ".join(f"WHEN {i} THEN {k}" for k, (i, _) in enumerate(present))
        written = f"CASE WHEN {kind_of} = 'VARCHAR' THEN to_json({text})::VARCHAR ELSE {text} END"
        why.append(
            f'"_why_{name}", CASE WHEN "_why_{name}" IS NOT NULL THEN left({written}, '
            f'{_VALUE_CHARS}) END AS "_val_{name}", CASE WHEN "_why_{name}" IS NOT NULL THEN '
            f'CASE {pos} {local} END END AS "_at_{name}"'
        )
    path_list = ", ".join(f"'{path}'" for path in index)
    select = ", ".join(f'{expression} AS "{name}"' for name, expression in columns.items())
    query = f"""
        WITH parsed AS (SELECT *, json_type(payload, [{path_list}]) AS t,
                               json_extract_string(payload, [{path_list}]) AS s FROM rows),
        located AS (SELECT *, {", ".join(located)} FROM parsed),
        kinds AS (SELECT *, {", ".join(kinds)} FROM located),
        typed AS (SELECT *, {", ".join(typed)} FROM kinds)
        SELECT {select}, event_id AS "_event_id", stream AS "_stream",
               event_time AS "_event_time", ingest_batch AS "_batch", {", ".join(why)}
        FROM typed WHERE {where}
    """
    lifted = {c: f"event_{c}" for c in LIFTED if c in rows.columns}
    out = sql_frame(query, {"rows": rows.rename(lifted)})
    issues = _issues(out, fields)
    return out.select(list(columns)), issues


def _issues(out: pl.DataFrame, fields: Sequence[Field]) -> pl.DataFrame:
    """One ops/data_quality row per field of a row with a reason."""
    parts = [
        out.filter(pl.col(f"_why_{f.name}").is_not_null()).select(
            event_id=pl.col("_event_id"),
            event_time=pl.col("_event_time"),
            stream=pl.col("_stream"),
            table=pl.lit(f.table),
            column=pl.lit(f.reported_as),
            field_path=pl.col(f"_at_{f.name}").replace_strict(
                list(range(len(f.paths))), list(f.paths), return_dtype=pl.String
            ),
            reason=pl.col(f"_why_{f.name}"),
            value=pl.col(f"_val_{f.name}"),
            ingest_batch=pl.col("_batch"),
        )
        for f in fields
        if f.reported_as is not None and out.get_column(f"_why_{f.name}").null_count() < out.height
    ]
    if not parts:
        return DATA_QUALITY.empty()
    issues = pl.concat(parts)
    ids = hex_ids(issues, ["event_id", "table", "column"], "issue_id")
    return conform(issues.with_columns(ids), DATA_QUALITY.schema)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """`frame` with exactly the columns of `schema`, in its order and types (times in UTC).

    Columns `frame` lacks are null.
    """
    return frame.select(
        (
            pl.col(name).dt.convert_time_zone("UTC").cast(dtype)
            if isinstance(dtype, pl.Datetime)
            else pl.col(name).cast(dtype)
        )
        if name in frame.columns
        else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )
