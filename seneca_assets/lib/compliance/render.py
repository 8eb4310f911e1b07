"""A compliance report as Markdown for people and as JSON with the same content for programs."""

from __future__ import annotations

import html
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.compliance.report import Report
from seneca_assets.lib.compliance.section import Evidence, Section
from seneca_assets.lib.export import replace_text

STATUS_WORDS = {
    "answered": "answered",
    "nothing": "nothing in this period",
    "missing": "no records",
    "attention": "NEEDS ATTENTION",
    "failed": "NOT ANSWERED",
}


def title(report: Report) -> str:
    """The report's title: `Compliance report, 2026-11-01 to 2026-11-30`."""
    return f"Compliance report, {report.period.label}"


def reproduce(report: Report) -> str:
    """The call that reads the lake exactly as the report did."""
    return f"Lake({str(report.lake)!r}).as_of({report.built_at.isoformat()!r})"


def summary(report: Report) -> str:
    """One line per question, with its status: the report at a glance (Markdown)."""
    return "\n".join(
        f"{n}. **{s.title}** ({STATUS_WORDS[s.status]}): {s.answer}"
        for n, s in enumerate(report.sections, 1)
    )


def markdown(report: Report) -> str:
    """The whole report as Markdown: header, summary, then each section with its evidence."""
    out = [
        f"# {title(report)}",
        "",
        f"- **Period:** {report.period.describe()}",
        f"- **Built:** {report.built_at.isoformat()}",
        f"- **Lake:** `{report.lake}`",
        f"- **Read as:** every table at its version when the report was built, "
        f"`{reproduce(report)}`",
        "",
        "Every answer below comes from the queries printed under it, run through Seneca's "
        "read-only SQL API with their parameters bound, never pasted into the text. To ask the "
        "lake as it is now, give a query to `seneca sql QUERY --param $1 --param $2` (the values "
        f"shown); to ask it exactly as this report did, add `--as-of "
        f"{report.built_at.isoformat()}`, or call `{reproduce(report)}.sql(query, params)` "
        "(`from seneca_assets.lib.query import Lake`). Times are UTC. No "
        "secret appears in this report: redactions are counted by kind, never shown.",
        "",
        "## Summary",
        "",
        summary(report),
    ]
    for n, section in enumerate(report.sections, 1):
        out += ["", *_section(n, section)]
    return "\n".join(out) + "\n"


def _section(n: int, section: Section) -> list[str]:
    out = [
        f"## {n}. {section.title}",
        "",
        f"**Question.** {section.question}",
        "",
        f"**Answer ({STATUS_WORDS[section.status]}).** {section.answer}",
    ]
    for evidence in section.evidence:
        out += ["", *_evidence(evidence)]
    return out


def _evidence(evidence: Evidence) -> list[str]:
    frame = evidence.frame
    rows = [[_cell(v) for v in row] for row in frame.iter_rows()]
    table = markdown_table(frame.columns, rows)[1:] if frame.height else ["(no rows)"]
    out = [
        f"### {evidence.caption}",
        "",
        *table,
        "",
        f"```{evidence.language}",
        evidence.query,
        "```",
    ]
    if evidence.params:
        bound = ", ".join(f"`${i}` = `{value}`" for i, value in enumerate(evidence.params, 1))
        out += ["", f"Parameters: {bound}."]
    return out


def _cell(value: object) -> str:
    """A value as table text: times to the second, yes/no, text with markup escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value), quote=False)


def as_json(report: Report) -> str:
    """The report's content, machine-readable: the same answers, tables, queries and params."""
    document = {
        "title": title(report),
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat(),
                   "label": report.period.label},
        "built_at": report.built_at.isoformat(),
        "lake": str(report.lake),
        "reproduce": reproduce(report),
        "read_versions": report.read,
        "sections": [
            {
                "key": s.key, "title": s.title, "question": s.question, "answer": s.answer,
                "status": s.status,
                "evidence": [_evidence_json(e) for e in s.evidence],
            }
            for s in report.sections
        ],
    }  # fmt: skip
    return json.dumps(document, indent=2, ensure_ascii=False, default=_jsonable) + "\n"


def _evidence_json(evidence: Evidence) -> dict[str, Any]:
    return {
        "caption": evidence.caption,
        "language": evidence.language,
        "query": evidence.query,
        "params": list(evidence.params),
        "columns": [{"name": n, "type": str(t)} for n, t in evidence.frame.schema.items()],
        "rows": evidence.frame.to_dicts(),
    }


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write `<stem>.md` and its JSON twin into `folder` (created); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = report.period.stem
    paths = folder / f"{stem}.md", folder / f"{stem}.json"
    replace_text(paths[0], markdown(report))
    replace_text(paths[1], as_json(report))
    return paths
