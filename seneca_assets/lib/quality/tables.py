"""The data-quality tables, as `pandera.polars` models."""

from typing import Annotated

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.model.tables import HEX_ID
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

SEVERITIES = ("info", "warning", "error")


class FindingModel(TableModel):
    """ops/dq_findings: one thing Marcus wrote that is not as it should be."""

    finding_id: str = pa.Field(
        str_matches=HEX_ID, unique=True, description="Identity: the check, subject and window."
    )
    check: str = pa.Field(description="Which check found it (lib/quality).")
    severity: str = pa.Field(isin=list(SEVERITIES), description="info, warning or error.")
    stream: str = pa.Field(nullable=True, description="The stream, when it is about one.")
    table: str = pa.Field(nullable=True, description="The lake table, when it is about one.")
    subject_kind: str = pa.Field(
        isin=["stream", "kind", "field", "file", "process", "agent", "task", "project"],
        description="What the subject is.",
    )
    subject: str = pa.Field(description="The file, process, agent, task, project or field.")
    window_start: UtcTime = pa.Field(nullable=True, description="Where the finding begins.")
    window_end: UtcTime = pa.Field(nullable=True, description="Where it ends.")
    observed: str = pa.Field(description="What was seen.")
    expected: str = pa.Field(description="What should have been seen.")
    evidence: Annotated[pl.List, pl.String()] = pa.Field(
        description="Event ids that show it (the first first), at most 10."
    )
    computed_at: UtcTime = pa.Field(description="When the checks ran.")


class PlaceholderModel(TableModel):
    """ops/dq_placeholders: a field that holds one value where its meaning says it should vary.

    Analytics leave these values out: they look like measurements and are not.
    """

    stream: str = pa.Field(description="The stream.")
    kind: str = pa.Field(description="The record kind (empty when the record has none).")
    field: str = pa.Field(description="The field, `parent.child` for a nested one.")
    value: str = pa.Field(description="The one value it holds, as JSON text.")
    records: int = pa.Field(ge=0, description="Records that hold it.")
    days: int = pa.Field(ge=0, description="Days they span.")
    reason: str = pa.Field(description="Why it is taken for a placeholder (lib/quality).")
    first_event: str = pa.Field(str_matches=HEX_ID, description="The first record holding it.")
    first: UtcTime = pa.Field(description="Its time.")
    computed_at: UtcTime = pa.Field(description="When the checks ran.")


class ScoreModel(TableModel):
    """ops/dq_scores: how sound one stream's records of one day are, on four dimensions.

    1.0 is untouched by any finding; each score is one less the share of the day's records (or
    of the day, for a silence) the findings of its dimension touch (lib/quality/scores.py).
    """

    stream: str = pa.Field(description="The stream.")
    day: UtcTime = pa.Field(description="The day (UTC) of the records' times.")
    events: int = pa.Field(ge=0, description="Records of the stream that day.")
    quarantined: int = pa.Field(ge=0, description="Lines quarantined that day (by ingestion).")
    findings: int = pa.Field(ge=0, description="Findings that touch the day.")
    completeness: float = pa.Field(
        ge=0, le=1, description="Silences, missing fields and missing twins."
    )
    validity: float = pa.Field(
        ge=0, le=1, description="Schema changes, quarantined lines and broken files."
    )
    consistency: float = pa.Field(
        ge=0, le=1, description="Tasks in two projects and files off their twins."
    )
    timeliness: float = pa.Field(ge=0, le=1, description="Future times and lines out of order.")
    computed_at: UtcTime = pa.Field(description="When the checks ran.")


DQ_FINDINGS = TableSpec("ops/dq_findings", FindingModel)
DQ_SCORES = TableSpec("ops/dq_scores", ScoreModel)
DQ_PLACEHOLDERS = TableSpec("ops/dq_placeholders", PlaceholderModel)
QUALITY_TABLES: tuple[TableSpec, ...] = (DQ_FINDINGS, DQ_SCORES, DQ_PLACEHOLDERS)
