"""A compliance report: every audit question answered for one period, from one pinned lake.

Every table is read at its version when the report is built (what `Lake.as_of(built_at)` reads),
so all the answers describe the same state of the lake and any of them can be reproduced later.
A question whose answer cannot be computed is reported as such (`failed`), not left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from seneca_assets.lib.compliance import activity, handling, integrity
from seneca_assets.lib.compliance.period import Period
from seneca_assets.lib.compliance.section import Context, Section
from seneca_assets.lib.config import QuerySettings
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.query import Lake as QueryLake

Question = Callable[[Context], Section]
"""One audit question: the section that answers it."""

QUESTIONS: tuple[Question, ...] = (
    activity.audit_trail,
    activity.decisions,
    handling.redactions,
    handling.retention,
    handling.backups,
    integrity.audit_chain,
    integrity.reproducibility,
)
"""The design's audit questions, in the order the report answers them."""


@dataclass(frozen=True)
class Report:
    """The answers for one period, and what they were read from."""

    period: Period
    built_at: datetime
    lake: str
    """The lake's folder or URL."""
    read: dict[str, int]
    """The Delta version of every table the answers were read at."""
    sections: tuple[Section, ...]

    @property
    def failed(self) -> list[Section]:
        """The questions that could not be answered."""
        return [s for s in self.sections if s.status == "failed"]

    @property
    def attention(self) -> list[Section]:
        """The answers a reader must act on: a broken chain, a backup that did not verify."""
        return [s for s in self.sections if s.status == "attention"]


def build_report(
    lake_root: str | Path,
    period: Period,
    *,
    questions: Sequence[Question] = QUESTIONS,
    settings: QuerySettings | None = None,
) -> Report:
    """Answer every question for `period` from the lake at `lake_root` as it is now."""
    root = StorageLake(lake_root).location
    built_at = datetime.now(UTC)
    commits = integrity.commit_times(root)
    read = integrity.pinned(commits, built_at)
    ctx = Context(
        period=period,
        lake=QueryLake(root, settings or QuerySettings.from_env(), pinned=read),
        storage=StorageLake(root),
        built_at=built_at,
        commits=commits,
        read=read,
    )
    return Report(period, built_at, root, read, tuple(_answer(q, ctx) for q in questions))


def _answer(question: Question, ctx: Context) -> Section:
    """The section of `question`, or one saying why it could not be answered."""
    try:
        return question(ctx)
    except Exception as exc:  # one failing question must not hide the other answers
        name = getattr(question, "__name__", repr(question))
        title = name.replace("_", " ").capitalize()
        answer = f"This question could not be answered: {type(exc).__name__}: {exc}"
        return Section(
            name.replace("_", "-"), title, (question.__doc__ or "").strip(), answer, "failed"
        )
