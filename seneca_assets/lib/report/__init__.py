"""`seneca report`: one static HTML page of the analytics, with plots of the main series.

`write_report(lake, folder)` renders every function of `SECTIONS` (each `(Lake) -> str`, an HTML
fragment that says in one line when its table is missing or empty) into `folder/index.html`:
inline SVG and CSS, no scripts, nothing fetched. A new section is one more function appended to
`SECTIONS`.
"""

from seneca_assets.lib.report.contents import SECTIONS
from seneca_assets.lib.report.page import Report, render, write_report
from seneca_assets.lib.report.sections import Section

__all__ = ["SECTIONS", "Report", "Section", "render", "write_report"]
