"""The report's sections, in order: append a function `(Lake) -> str` to add one."""

from __future__ import annotations

from seneca_assets.lib.report import activity, sections
from seneca_assets.lib.report.sections import Section

SECTIONS: list[Section] = [
    sections.main_series,
    sections.trends,
    sections.anomalies,
    sections.forecast_quality,
    sections.seasonality,
    sections.agents,
    sections.outcomes,
    activity.conversations,
    activity.network,
    activity.capacity,
]
