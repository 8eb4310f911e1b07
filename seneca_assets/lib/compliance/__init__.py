"""Compliance reports: the design's audit questions answered for a period, each with its query.

`build_report(lake_root, period)` answers every question of `QUESTIONS` (each a function
`(Context) -> Section`) from the lake pinned at its versions of the moment; `write(report, folder)`
writes `compliance-<from>-<to>.md` and its JSON twin. Every table in a section comes from a query
run through the read-only SQL API (`lib/query`) with bound parameters, printed beside it, or from
a library call printed the same way. A new question is one more function appended to `QUESTIONS`.
"""

from seneca_assets.lib.compliance.integrity import versions_at
from seneca_assets.lib.compliance.period import Period, month_before, period_between
from seneca_assets.lib.compliance.render import as_json, markdown, summary, write
from seneca_assets.lib.compliance.report import QUESTIONS, Report, build_report
from seneca_assets.lib.compliance.section import Context, Evidence, Section

__all__ = [
    "QUESTIONS",
    "Context",
    "Evidence",
    "Period",
    "Report",
    "Section",
    "as_json",
    "build_report",
    "markdown",
    "month_before",
    "period_between",
    "summary",
    "versions_at",
    "write",
]
