"""One finding of a data-quality check: a row of ops/dq_findings before its identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Finding:
    """What a check found, about what, where in time, and the events that show it."""

    check: str
    severity: str
    subject_kind: str
    subject: str
    observed: str
    expected: str
    stream: str | None = None
    table: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    evidence: Sequence[str] = ()
