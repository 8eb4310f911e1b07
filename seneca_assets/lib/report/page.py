"""The report's document: a header, the contents, every section, one self-contained file.

The page has its stylesheet inline and no scripts; it fetches nothing. A section that raises is
shown as one line saying so (and returned in `Report.failed`), so one broken table does not cost
the rest of the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from seneca_assets.lib.export import replace_text
from seneca_assets.lib.gold_tables import METRICS_HOURLY
from seneca_assets.lib.lake import Lake, time_bound
from seneca_assets.lib.report.contents import SECTIONS
from seneca_assets.lib.report.html import note, section
from seneca_assets.lib.report.sections import Section
from seneca_assets.lib.report.text import esc, moment

INDEX = "index.html"
_ANCHOR = re.compile(r'<section id="([^"]+)"><h2>(.*?)</h2>', re.S)

STYLE = """
:root { --ink: #1f2933; --muted: #61707f; --line: #d9dee4; --accent: #2563eb;
  --band: #2563eb2e; --fc80: #f59e0b44; --fc95: #f59e0b22; --bad: #dc2626; --good: #15803d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1180px; padding: 24px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
header dt { color: var(--muted); }
header dd { margin: 0; font-variant-numeric: tabular-nums; }
nav { margin: 12px 0 20px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
section { margin: 28px 0; }
h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.note { color: var(--muted); margin: 6px 0; }
p.missing, p.failed { color: var(--bad); margin: 6px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr));
  gap: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
figcaption { font-size: 13px; margin-bottom: 2px; }
figcaption .why { color: var(--muted); float: right; }
p.facts { color: var(--muted); font-size: 12px; margin: 2px 0 0; }
.metric { font-weight: 600; font-family: ui-monospace, monospace; }
.tag { display: inline-block; background: #eef2f7; border-radius: 3px; padding: 0 4px;
  font-size: 12px; margin: 1px 0; font-family: ui-monospace, monospace; }
.unit { color: var(--muted); font-size: 12px; }
.muted { color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: middle; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.increasing, .worsening, .bad { color: var(--bad); }
.decreasing, .improving, .good { color: var(--good); }
svg.plot { width: 100%; height: auto; display: block; }
svg.plot text { font-size: 11px; fill: var(--muted); }
svg.plot .ytick { text-anchor: end; }
svg .grid { stroke: #eef0f3; stroke-width: 1; }
svg .axis { stroke: var(--line); fill: none; }
svg .observed { stroke: var(--accent); stroke-width: 1.4; fill: none; }
svg .observed-dot { fill: var(--accent); }
svg .band { fill: var(--band); stroke: #2563eb55; stroke-width: 0.6; }
svg .band-bar { stroke: var(--band); stroke-width: 3; }
svg .fc95 { fill: var(--fc95); stroke: none; }
svg .fc95-bar { stroke: var(--fc95); stroke-width: 3; }
svg .fc80 { fill: var(--fc80); stroke: none; }
svg .fc80-bar { stroke: var(--fc80); stroke-width: 3; }
svg .forecast { stroke: #b45309; stroke-width: 1.4; stroke-dasharray: 4 3; fill: none; }
svg .forecast-dot { fill: #b45309; }
svg .anomaly, svg .anomaly-key { fill: var(--bad); stroke: #fff; stroke-width: 0.8; }
svg .cut { stroke: var(--muted); stroke-dasharray: 2 3; }
svg.spark, svg.effect { vertical-align: middle; }
svg .up { fill: var(--accent); }
svg .down { fill: #9aa5b1; }
svg .zero { stroke: #9aa5b1; stroke-width: 0.5; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
"""


@dataclass
class Report:
    """A written report: where, and the sections that could not be built (name, error)."""

    path: Path
    failed: list[tuple[str, str]] = field(default_factory=list)


def _span(lake: Lake) -> str:
    """The hourly rollups' first and last hours, or why there are none."""
    if not lake.exists(METRICS_HOURLY):
        return "no hourly rollups yet"
    table = lake.table(METRICS_HOURLY)
    first, last = time_bound(table, "bucket", "min"), time_bound(table, "bucket", "max")
    if first is None or last is None:
        return "no hourly rollups yet"
    series = lake.scan(METRICS_HOURLY).select("name", "tags").unique().collect().height
    return f"{moment(first)} to {moment(last)} (hourly rollups of {series:,} series)"


def _build(lake: Lake, sections: Sequence[Section]) -> tuple[list[str], list[tuple[str, str]]]:
    parts, failed = [], []
    for build in sections:
        name = getattr(build, "__name__", repr(build))
        try:
            parts.append(build(lake))
        except Exception as exc:  # one broken section must not sink the page
            error = f"{type(exc).__name__}: {exc}"
            failed.append((name, error))
            title = name.replace("_", " ").capitalize()
            parts.append(
                section(
                    name.replace("_", "-"),
                    title,
                    note(f"This section could not be built: {error}", "failed"),
                )
            )
    return parts, failed


def render(
    lake: Lake, sections: Sequence[Section] = SECTIONS, built_at: datetime | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The page's HTML, and the sections that failed (name, error)."""
    built_at = built_at or datetime.now(UTC)
    parts, failed = _build(lake, sections)
    contents = "".join(
        f'<a href="#{anchor}">{title}</a>' for anchor, title in _ANCHOR.findall("".join(parts))
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seneca analytics report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Seneca analytics report</h1>
<dl>
<dt>Built</dt><dd>{esc(moment(built_at))}</dd>
<dt>Lake</dt><dd>{esc(lake.root.resolve())}</dd>
<dt>Data</dt><dd>{esc(_span(lake))}</dd>
</dl>
</header>
<nav>{contents}</nav>
<main>
{"".join(parts)}
</main>
<footer>Written by <code>seneca report</code> from the lake's gold tables; times are UTC.</footer>
</body>
</html>
"""
    return page, failed


def write_report(lake: Lake, folder: Path, sections: Sequence[Section] = SECTIONS) -> Report:
    """Render the report and write `folder/index.html` (created, or replaced whole)."""
    page, failed = render(lake, sections)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / INDEX
    replace_text(path, page)  # never a half-written page; a symlinked index.html is replaced
    return Report(path, failed)
