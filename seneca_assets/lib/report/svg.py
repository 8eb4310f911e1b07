"""Inline SVG for the report: a series plot with its bands, anomalies and forecast; spark bars.

Plain strings, no plotting library. Every coordinate is finite and inside the viewBox: values
that are not finite are left out, and the scales are fitted to what is drawn. Styles are CSS
classes (the page's stylesheet), so a plot carries no colours of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seneca_assets.lib.report.text import esc, number, ticks

WIDTH, HEIGHT = 720, 250
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 30, 26
"""Margins of the plot area: axis labels left and below, the legend above."""
_HOUR = timedelta(hours=1)
_TIME_STEPS = tuple(timedelta(hours=h) for h in (1, 2, 3, 6, 12, 24, 48, 7 * 24, 14 * 24, 28 * 24))
_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)
"""Week ticks fall on Mondays."""


@dataclass(frozen=True)
class Forecast:
    """One future hour: the forecast and its 80% and 95% intervals."""

    time: datetime
    value: float
    low_80: float
    high_80: float
    low_95: float
    high_95: float


@dataclass
class SeriesPlot:
    """What one series' plot shows; times are UTC, one point per hourly bucket."""

    label: str
    start: datetime
    end: datetime
    observed: list[tuple[datetime, float]] = field(default_factory=list)
    band: list[tuple[datetime, float, float]] = field(default_factory=list)
    anomalies: list[tuple[datetime, float, str]] = field(default_factory=list)
    forecast: list[Forecast] = field(default_factory=list)
    cut: datetime | None = None
    """Where the data ends and the forecast begins (a dashed vertical line)."""


def _finite(*values: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], float]:
    """Round tick values covering `low`..`high` (1, 2, 2.5 or 5 times a power of ten); the step."""
    if not _finite(low, high):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [i * step for i in range(first, last + 1)], step


def time_ticks(start: datetime, end: datetime, count: int = 8) -> list[datetime]:
    """Round UTC times between `start` and `end`: hours, days or Mondays, at most about `count`."""
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= count), _TIME_STEPS[-1])
    origin = _MONDAY if step >= timedelta(days=7) else datetime(1970, 1, 1, tzinfo=UTC)
    first = origin + math.ceil((start - origin) / step) * step
    ticks = []
    moment = first
    while moment <= end:
        ticks.append(moment)
        moment += step
    return ticks


def _time_label(moment: datetime) -> str:
    return moment.strftime("%b %d") if (moment.hour, moment.minute) == (0, 0) else f"{moment:%H:%M}"


class _Scale:
    """Data to viewBox coordinates for one plot."""

    def __init__(self, start: datetime, end: datetime, low: float, high: float) -> None:
        self.start = start
        self.seconds = max((end - start).total_seconds(), 1.0)
        self.low, self.high = low, high
        self.width = WIDTH - LEFT - RIGHT
        self.height = HEIGHT - TOP - BOTTOM

    def x(self, moment: datetime) -> float:
        share = (moment - self.start).total_seconds() / self.seconds
        return LEFT + min(max(share, 0.0), 1.0) * self.width

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return TOP + (1 - min(max(share, 0.0), 1.0)) * self.height


def _runs(times: Sequence[datetime], gap: timedelta = _HOUR) -> list[tuple[int, int]]:
    """Index ranges [i, j) of consecutive buckets no more than `gap` apart."""
    runs: list[tuple[int, int]] = []
    begin = 0
    for i in range(1, len(times) + 1):
        if i == len(times) or times[i] - times[i - 1] > gap:
            runs.append((begin, i))
            begin = i
    return [r for r in runs if r[1] > r[0]]


def _xy(x: float, y: float) -> str:
    return f"{x:.1f},{y:.1f}"


def _line(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(_xy(x, y) for x, y in points)


def _area(upper: list[tuple[float, float]], lower: list[tuple[float, float]]) -> str:
    return _line(upper + lower[::-1]) + " Z"


def _lines(scale: _Scale, times: list[datetime], values: list[float], css: str) -> list[str]:
    """A path per run of consecutive hours; a lone hour as a small dot."""
    out = []
    for i, j in _runs(times):
        if j - i == 1:
            out.append(
                f'<circle class="{css}-dot" cx="{scale.x(times[i]):.1f}" '
                f'cy="{scale.y(values[i]):.1f}" r="1.6"/>'
            )
        else:
            points = [(scale.x(times[k]), scale.y(values[k])) for k in range(i, j)]
            out.append(f'<path class="{css}" d="{_line(points)}"/>')
    return out


def _areas(
    scale: _Scale, times: list[datetime], lows: list[float], highs: list[float], css: str
) -> list[str]:
    """A filled band per run of consecutive hours; a lone hour as a short vertical bar."""
    out = []
    for i, j in _runs(times):
        if j - i == 1:
            x = scale.x(times[i])
            out.append(
                f'<path class="{css}-bar" d="M{_xy(x, scale.y(highs[i]))} '
                f'L{_xy(x, scale.y(lows[i]))}"/>'
            )
        else:
            upper = [(scale.x(times[k]), scale.y(highs[k])) for k in range(i, j)]
            lower = [(scale.x(times[k]), scale.y(lows[k])) for k in range(i, j)]
            out.append(f'<path class="{css}" d="{_area(upper, lower)}"/>')
    return out


def _legend(plot: SeriesPlot) -> str:
    """The keys of what the plot shows, in a row above it."""
    keys: list[tuple[str, str]] = [
        ('<path class="observed" d="M0,0 L16,0"/>', "hourly mean"),
    ]
    if plot.band:
        keys.append(('<rect class="band" x="0" y="-5" width="16" height="10"/>', "expected band"))
    if plot.anomalies:
        keys.append(('<circle class="anomaly-key" cx="8" cy="0" r="3"/>', "anomaly"))
    if plot.forecast:
        keys.append(('<path class="forecast" d="M0,0 L16,0"/>', "forecast"))
        keys.append(
            (
                '<rect class="fc95" x="0" y="-5" width="8" height="10"/>'
                '<rect class="fc80" x="8" y="-5" width="8" height="10"/>',
                "80% / 95% interval",
            )
        )
    parts = []
    x = float(LEFT)
    for mark, text in keys:
        parts.append(
            f'<g transform="translate({x:.0f},{TOP / 2:.0f})">{mark}'
            f'<text x="20" y="4">{esc(text)}</text></g>'
        )
        x += 30 + 6.5 * len(text)
    return f'<g class="legend">{"".join(parts)}</g>'


def series_plot(plot: SeriesPlot) -> str:
    """The plot as an `<svg class="plot">` element."""
    observed = [(t, v) for t, v in plot.observed if _finite(v)]
    band = [(t, lo, hi) for t, lo, hi in plot.band if _finite(lo, hi)]
    anomalies = [(t, v, why) for t, v, why in plot.anomalies if _finite(v)]
    forecast = [
        f for f in plot.forecast if _finite(f.value, f.low_80, f.high_80, f.low_95, f.high_95)
    ]
    values = [v for _, v in observed] + [v for _, v, _ in anomalies]
    values += [x for _, lo, hi in band for x in (lo, hi)]
    values += [x for f in forecast for x in (f.low_95, f.high_95, f.value)]
    levels, step = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    start, end = plot.start, max(plot.end, plot.start + _HOUR)
    scale = _Scale(start, end, levels[0], levels[-1])
    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{esc(plot.label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{esc(plot.label)}</title>",
        _legend(plot),
    ]
    for value, text in zip(levels, ticks(levels, step), strict=True):
        y = scale.y(value)
        parts.append(f'<path class="grid" d="M{_xy(LEFT, y)} L{_xy(WIDTH - RIGHT, y)}"/>')
        parts.append(f'<text class="ytick" x="{LEFT - 6}" y="{y + 3.5:.1f}">{esc(text)}</text>')
    for moment in time_ticks(start, end):
        x = scale.x(moment)
        parts.append(f'<path class="grid" d="M{_xy(x, TOP)} L{_xy(x, HEIGHT - BOTTOM)}"/>')
        anchor = "end" if x > WIDTH - RIGHT - 24 else "start" if x < LEFT + 24 else "middle"
        parts.append(
            f'<text class="xtick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}">'
            f"{esc(_time_label(moment))}</text>"
        )
    parts.append(
        f'<path class="axis" d="M{_xy(LEFT, TOP)} L{_xy(LEFT, HEIGHT - BOTTOM)} '
        f'L{_xy(WIDTH - RIGHT, HEIGHT - BOTTOM)}"/>'
    )
    if forecast:
        times = [f.time for f in forecast]
        parts += _areas(
            scale, times, [f.low_95 for f in forecast], [f.high_95 for f in forecast], "fc95"
        )
        parts += _areas(
            scale, times, [f.low_80 for f in forecast], [f.high_80 for f in forecast], "fc80"
        )
    if band:
        parts += _areas(
            scale, [t for t, _, _ in band], [lo for _, lo, _ in band], [hi for _, _, hi in band],
            "band",
        )  # fmt: skip
    if plot.cut is not None and start <= plot.cut <= end:
        x = scale.x(plot.cut)
        parts.append(f'<path class="cut" d="M{_xy(x, TOP)} L{_xy(x, HEIGHT - BOTTOM)}"/>')
    parts += _lines(scale, [t for t, _ in observed], [v for _, v in observed], "observed")
    if forecast:
        parts += _lines(scale, [f.time for f in forecast], [f.value for f in forecast], "forecast")
    for moment, value, why in anomalies:
        parts.append(
            f'<circle class="anomaly" cx="{scale.x(moment):.1f}" cy="{scale.y(value):.1f}" r="3">'
            f"<title>{esc(f'{moment:%Y-%m-%d %H:00} UTC: {number(value)}. {why}')}</title>"
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def spark_bars(values: Sequence[float], labels: Sequence[str], width: int = 120) -> str:
    """A small bar chart around zero (bars up for positive values, down for negative)."""
    finite = [v if _finite(v) else 0.0 for v in values]
    if not finite:
        return ""
    height = 28
    low, high = min(0.0, *finite), max(0.0, *finite)
    span = (high - low) or 1.0
    zero = 1 + (high / span) * (height - 2)
    bar = width / len(finite)
    parts = [
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="profile" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (value, label) in enumerate(zip(finite, labels, strict=False)):
        size = abs(value) / span * (height - 2)
        top = zero - size if value >= 0 else zero
        css = "up" if value >= 0 else "down"
        parts.append(
            f'<rect class="{css}" x="{i * bar + 0.5:.1f}" y="{top:.1f}" '
            f'width="{max(bar - 1, 0.5):.1f}" height="{max(size, 0.5):.1f}">'
            f"<title>{esc(label)}: {esc(number(value))}</title></rect>"
        )
    parts.append(f'<path class="zero" d="M0,{zero:.1f} L{width},{zero:.1f}"/></svg>')
    return "".join(parts)
