"""What each section of the report shows: one function `(Lake) -> str` per section.

A section reads the tables it needs and returns an HTML fragment (`html.section`). When its
table is not in the lake or is empty it says so in one line instead of failing. Times are those
of the data, not of the clock: "the last day" is the last day the tables hold, so a report on an
old lake still shows its latest data. The sections' order is `contents.SECTIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

import polars as pl

from seneca_assets.lib.analytics.tables import (
    AGENT_PERFORMANCE,
    METRIC_ANOMALIES,
    METRIC_FORECASTS,
    METRIC_SEASONALITY,
    METRIC_TRENDS,
    PROJECT_OUTCOMES,
)
from seneca_assets.lib.gold_tables import METRICS_HOURLY
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.report.html import Html, note, section, table
from seneca_assets.lib.report.svg import Forecast, SeriesPlot, series_plot, spark_bars
from seneca_assets.lib.report.text import (
    MISSING,
    esc,
    moment,
    number,
    p_value,
    share,
    signed_share,
    tags_html,
    tags_text,
)
from seneca_assets.lib.schemas import TableSpec

Section = Callable[[Lake], str]
"""A section of the report: the lake in, an HTML fragment out."""

MAIN_SERIES = 12
"""Series plotted, at most."""
PLOT_DAYS = 14
"""Days of hourly means in each plot, up to the latest bucket."""
TABLE_ROWS = 30
"""Rows shown in a table; the rest are counted."""
TOP_TRENDS = 10
"""Strongest trends listed per resolution."""
SERIES = ["name", "tags"]
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_PERIODS = {"hourly": "hour", "daily": "day", "monthly": "month"}


def load(lake: Lake, spec: TableSpec) -> pl.DataFrame | Html:
    """The table, or one line saying why there is nothing to show."""
    if not lake.exists(spec):
        return _absent(spec)
    frame = lake.read(spec)
    if frame.is_empty():
        return note(f"{spec.name} has no rows yet.")
    return frame


def _absent(spec: TableSpec) -> Html:
    return note(f"{spec.name} is not in the lake yet: `seneca run` builds it.", "missing")


def _scan(lake: Lake, spec: TableSpec) -> pl.LazyFrame:
    """The table, or its empty schema when it is not in the lake."""
    return lake.scan(spec) if lake.exists(spec) else spec.empty().lazy()


def _more(shown: int, total: int, what: str) -> str:
    return note(f"{total - shown:,} more {what} not shown.") if total > shown else ""


def _series_cells(name: str, tags: str) -> list[object]:
    return [Html(f'<span class="metric">{esc(name)}</span>'), Html(tags_html(tags))]


def data_end(lake: Lake) -> datetime | None:
    """The end of the latest hourly bucket in the lake (None without hourly rollups)."""
    latest = lake.latest(METRICS_HOURLY, "bucket") if lake.exists(METRICS_HOURLY) else None
    return None if latest is None else latest.replace(minute=0, second=0, microsecond=0) + _HOUR


# -- main series ------------------------------------------------------------------------------


def choose_series(
    hourly: pl.DataFrame,
    anomalies: pl.DataFrame,
    trends: pl.DataFrame,
    since: datetime,
    limit: int = MAIN_SERIES,
) -> list[tuple[str, str, str]]:
    """The series worth plotting, as (name, tags, why), most important first.

    Series anomalous since `since` (the strongest anomaly first), then those with a significant
    trend (the smallest p-value, then the largest relative change), then those with the most
    hours of data; only series with hourly means to plot.
    """
    counts = (
        hourly.filter(pl.col("mean").is_finite())
        .group_by(SERIES)
        .agg(points=pl.len())
        .sort(pl.col("points"), *SERIES, descending=[True, False, False])
    )
    plotted = {(n, t) for n, t, _ in counts.iter_rows()}
    chosen: dict[tuple[str, str], str] = {}

    def take(key: tuple[str, str], why: str) -> None:
        if key in plotted and key not in chosen and len(chosen) < limit:
            chosen[key] = why

    recent = (
        anomalies.filter(pl.col("is_anomaly") & (pl.col("bucket") >= since))
        .group_by(SERIES)
        .agg(strongest=pl.col("score").abs().max(), hours=pl.len())
        .sort("strongest", "hours", *SERIES, descending=[True, True, False, False])
    )
    for name, tags, _, hours in recent.iter_rows():
        take((name, tags), f"{hours:,} anomalous hour(s) in the last day")
    trending = trends.filter(
        (pl.col("status") == "ok") & pl.col("direction").is_in(["increasing", "decreasing"])
    ).sort(
        pl.col("p_value"),
        pl.col("change_per_period").abs(),
        *SERIES,
        descending=[False, True, False, False],
        nulls_last=True,
    )
    for row in trending.iter_rows(named=True):
        take(
            (row["name"], row["tags"]),
            f"{row['direction']} {row['resolution']} trend (p {p_value(row['p_value'])})",
        )
    for name, tags, points in counts.iter_rows():
        take((name, tags), f"{points:,} hours of data")
    return [(name, tags, why) for (name, tags), why in chosen.items()]


def _forecast_points(rows: pl.DataFrame) -> list[Forecast]:
    return [
        Forecast(*row)
        for row in rows.select(
            "bucket", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"
        ).iter_rows()
    ]


def main_series(lake: Lake) -> str:
    """Plots of the main series: hourly means, expected band, anomalies and forecast."""
    title = "Main series"
    if not lake.exists(METRICS_HOURLY):
        return section("main-series", title, _absent(METRICS_HOURLY))
    end = data_end(lake)
    if end is None:
        return section("main-series", title, note(f"{METRICS_HOURLY.name} has no rows yet."))
    start = end - timedelta(days=PLOT_DAYS)
    window = pl.col("bucket") >= start
    hourly = (
        lake.scan(METRICS_HOURLY)
        .filter(window)
        .select(*SERIES, "unit", "bucket", "mean")
        .sort(*SERIES, "bucket")
        .collect()
    )
    anomalies = _scan(lake, METRIC_ANOMALIES).filter(window).sort(*SERIES, "bucket").collect()
    forecasts = (
        _resolution(_scan(lake, METRIC_FORECASTS).collect())
        .filter((pl.col("status") == "ok") & (pl.col("resolution") == "hourly"))
        .sort(*SERIES, "bucket")
    )
    trends = _scan(lake, METRIC_TRENDS).collect()
    chosen = choose_series(hourly, anomalies, trends, end - _DAY)
    missing = [
        spec.name
        for spec in (METRIC_ANOMALIES, METRIC_FORECASTS, METRIC_TRENDS)
        if not lake.exists(spec)
    ]
    series_count = hourly.select(SERIES).unique().height
    intro = note(
        f"{len(chosen)} of the {series_count:,} series with hourly data in the {PLOT_DAYS} days "
        f"to {moment(end)}: those anomalous in the last day first, then the strongest trends, then "
        "those with the most data. Hover a red point for why it is anomalous."
    )
    parts: list[str] = [intro]
    if missing:
        parts.append(note(f"Not in the lake yet, so not drawn: {', '.join(missing)}.", "missing"))
    figures = []
    for name, tags, why in chosen:

        def of(frame: pl.DataFrame, name: str = name, tags: str = tags) -> pl.DataFrame:
            return frame.filter((pl.col("name") == name) & (pl.col("tags") == tags))

        observed = of(hourly)
        judged = of(anomalies)
        marked = judged.filter("is_anomaly")
        ahead = of(forecasts)
        unit = observed.get_column("unit").drop_nulls().first()
        first = observed.get_column("bucket").min()
        last_forecast = ahead.get_column("bucket").max() if ahead.height else None
        label = f"{name} {tags_text(tags)}"
        plot = SeriesPlot(
            label=label,
            start=first if isinstance(first, datetime) else start,
            end=max(end, last_forecast + _HOUR) if isinstance(last_forecast, datetime) else end,
            observed=list(observed.select("bucket", "mean").iter_rows()),
            band=list(judged.select("bucket", "lower", "upper").iter_rows()),
            anomalies=[
                (t, v, reason or "")
                for t, v, reason in marked.select("bucket", "value", "reason").iter_rows()
            ],
            forecast=_forecast_points(ahead),
            cut=ahead.item(0, "bucket") if ahead.height else None,
        )
        last = observed.row(-1, named=True)
        facts = [f"latest {number(last['mean'])} at {moment(last['bucket'])}"]
        if marked.height:
            facts.append(f"{marked.height:,} anomalous hour(s) shown")
        if ahead.height:
            day = ahead.filter(pl.col("bucket") < ahead.item(0, "bucket") + _DAY)
            facts.append(
                f"next day's forecast mean {number(day.get_column('forecast').mean())} "
                f"(80%: {number(day.get_column('lower_80').mean())} to "
                f"{number(day.get_column('upper_80').mean())})"
            )
        figures.append(
            f'<figure class="series" data-name="{esc(name)}" data-tags="{esc(tags)}">'
            f'<figcaption><span class="metric">{esc(name)}</span> {tags_html(tags)}'
            + (f' <span class="unit">{esc(unit)}</span>' if isinstance(unit, str) else "")
            + f' <span class="why">{esc(why)}</span></figcaption>'
            f'{series_plot(plot)}<p class="facts">{esc("; ".join(facts))}.</p></figure>'
        )
    if not figures:
        parts.append(note("No series has hourly data in that window."))
    parts.append(f'<div class="figures">{"".join(figures)}</div>')
    return section("main-series", title, *parts)


# -- tables -----------------------------------------------------------------------------------


def trends(lake: Lake) -> str:
    """The strongest trends per resolution, and how many series trend each way."""
    title = "Strongest trends"
    found = load(lake, METRIC_TRENDS)
    if isinstance(found, str):
        return section("trends", title, found)
    parts: list[str] = [
        note(
            "Corrected Mann-Kendall test at 5%; the Theil-Sen slope per period with its 95% "
            "interval; the change per period relative to the median bucket mean."
        )
    ]
    for resolution, period in _PERIODS.items():
        rows = found.filter(pl.col("resolution") == resolution)
        if rows.is_empty():
            continue
        counted = dict(
            rows.group_by(pl.col("direction").fill_null("insufficient data")).len().iter_rows()
        )
        summary = ", ".join(
            f"{counted[d]:,} {d}"
            for d in ("increasing", "decreasing", "no trend", "insufficient data")
            if d in counted
        )
        strongest = rows.filter(pl.col("direction").is_in(["increasing", "decreasing"])).sort(
            pl.col("p_value"),
            pl.col("change_per_period").abs(),
            descending=[False, True],
            nulls_last=True,
        )
        parts.append(f"<h3>{esc(resolution.capitalize())}</h3>")
        parts.append(note(f"{rows.height:,} series tested: {summary}."))
        if strongest.is_empty():
            continue
        parts.append(
            table(
                [
                    "metric",
                    "tags",
                    "direction",
                    "p-value",
                    f"slope per {period}",
                    "95% interval",
                    f"change per {period}",
                    "points",
                    "from",
                    "to",
                ],
                [
                    [
                        *_series_cells(r["name"], r["tags"]),
                        Html(_direction(r["direction"])),
                        p_value(r["p_value"]),
                        number(r["slope"]),
                        f"{number(r['slope_low'])} to {number(r['slope_high'])}",
                        signed_share(r["change_per_period"]),
                        f"{r['points']:,}",
                        moment(r["first"]),
                        moment(r["last"]),
                    ]
                    for r in strongest.head(TOP_TRENDS).iter_rows(named=True)
                ],
                numeric=(3, 4, 6, 7),
            )
        )
        parts.append(_more(min(strongest.height, TOP_TRENDS), strongest.height, "trends"))
    return section("trends", title, *parts)


def _direction(direction: str | None) -> str:
    arrows = {"increasing": "\u2191 increasing", "decreasing": "\u2193 decreasing"}
    text = arrows.get(direction or "", direction or MISSING)
    return f'<span class="{esc(direction or "none")}">{esc(text)}</span>'


def anomalies(lake: Lake) -> str:
    """The anomalous hours of the last day the table holds, the strongest first."""
    title = "Current anomalies"
    found = load(lake, METRIC_ANOMALIES)
    if isinstance(found, str):
        return section("anomalies", title, found)
    last = found.get_column("bucket").max()
    assert isinstance(last, datetime)
    flagged = found.filter("is_anomaly")
    recent = flagged.filter(pl.col("bucket") > last - _DAY).sort(
        pl.col("score").abs(), descending=True
    )
    parts: list[str] = [
        note(
            f"{recent.height:,} anomalous hour(s) in {recent.select(SERIES).unique().height:,} "
            f"series in the last day judged (to {moment(last + _HOUR)}); {flagged.height:,} "
            f"anomalous of {found.height:,} hours judged in all."
        )
    ]
    if recent.height:
        parts.append(
            table(
                ["hour", "metric", "tags", "value", "expected", "band", "score", "method"],
                [
                    [
                        moment(r["bucket"]),
                        *_series_cells(r["name"], r["tags"]),
                        number(r["value"]),
                        number(r["expected"]),
                        f"{number(r['lower'])} to {number(r['upper'])}",
                        _score(r["score"]),
                        r["method"],
                    ]
                    for r in recent.head(TABLE_ROWS).iter_rows(named=True)
                ],
                numeric=(3, 4, 6),
            )
        )
        parts.append(_more(min(recent.height, TABLE_ROWS), recent.height, "anomalous hours"))
    return section("anomalies", title, *parts)


def _score(score: float | None) -> str:
    if score is None or math.isnan(score):
        return MISSING
    if math.isinf(score):
        return "+\u221e" if score > 0 else "\u2212\u221e"
    return f"{score:+.1f}"


_HORIZONS = {
    "hourly": ("Hourly: the next 7 days", "the latest 7 days"),
    "daily": ("Daily: the next 30 days", "the latest 30 days"),
}
"""Each forecast resolution's heading and the days its backtest covers."""


def _resolution(frame: pl.DataFrame) -> pl.DataFrame:
    """Forecasts with their resolution (hourly, for a table written before there were two)."""
    if "resolution" in frame.columns:
        return frame
    return frame.with_columns(resolution=pl.lit("hourly"))


def forecast_quality(lake: Lake) -> str:
    """Per series: the method's backtest sMAPE beside seasonal-naive's, and the 80% coverage."""
    title = "Forecast quality"
    found = load(lake, METRIC_FORECASTS)
    if isinstance(found, str):
        return section("forecasts", title, found)
    first_day = pl.col("bucket") < pl.col("bucket").min() + _DAY
    per_series = (
        _resolution(found)
        .sort("bucket")
        .group_by(*SERIES, "resolution", maintain_order=True)
        .agg(
            status=pl.col("status").first(),
            reason=pl.col("reason").first(),
            smape=pl.col("backtest_smape").first(),
            naive=pl.col("naive_smape").first(),
            coverage=pl.col("coverage_80").first(),
            start=pl.col("bucket").min(),
            day=pl.col("forecast").filter(first_day).mean(),
            low=pl.col("lower_80").filter(first_day).mean(),
            high=pl.col("upper_80").filter(first_day).mean(),
        )
    )
    parts: list[str] = [
        note(
            "Each method's backtest: its forecast of the latest days from the history before "
            "them, its sMAPE beside the seasonal-naive forecast's, and the share of those days "
            "inside its 80% interval (about 80% if the intervals are honest)."
        )
    ]
    for resolution in sorted(set(per_series.get_column("resolution")), key=_horizon_order):
        heading, window = _HORIZONS.get(resolution, (resolution.capitalize(), "the latest days"))
        rows = per_series.filter(pl.col("resolution") == resolution)
        done = rows.filter(pl.col("status") == "ok").sort(
            pl.col("smape").is_null(), "smape", *SERIES
        )
        tested = done.filter(pl.col("smape").is_not_null())
        better = tested.filter(pl.col("naive").is_not_null() & (pl.col("smape") < pl.col("naive")))
        parts.append(f"<h3>{esc(heading)}</h3>")
        parts.append(
            note(
                f"{done.height:,} series forecast, {rows.height - done.height:,} with too little "
                f"history; {tested.height:,} backtested on {window}, {better.height:,} of them "
                "better than seasonal-naive."
            )
        )
        if done.is_empty():
            continue
        parts.append(
            table(
                [
                    "metric",
                    "tags",
                    "sMAPE",
                    "naive sMAPE",
                    "vs naive",
                    "80% coverage",
                    "from",
                    "next day's mean (80%)",
                    "intervals",
                ],
                [
                    [
                        *_series_cells(r["name"], r["tags"]),
                        share(r["smape"]),
                        share(r["naive"]),
                        _versus(r["smape"], r["naive"]),
                        share(r["coverage"]),
                        moment(r["start"]),
                        f"{number(r['day'])} ({number(r['low'])} to {number(r['high'])})",
                        r["reason"] or "backtest",
                    ]
                    for r in done.head(TABLE_ROWS).iter_rows(named=True)
                ],
                numeric=(2, 3, 5),
            )
        )
        parts.append(_more(min(done.height, TABLE_ROWS), done.height, "series"))
    return section("forecasts", title, *parts)


def _horizon_order(resolution: str) -> tuple[int, str]:
    order = list(_HORIZONS)
    return (order.index(resolution) if resolution in order else len(order), resolution)


def _versus(smape: float | None, naive: float | None) -> Html:
    if smape is None or naive is None:
        return Html(MISSING)
    if smape < naive:
        return Html('<span class="good">better</span>')
    return Html('<span class="bad">worse</span>' if smape > naive else "same")


def seasonality(lake: Lake) -> str:
    """Each series' daily strength, dominant period and hour-of-day profile."""
    title = "Seasonality"
    found = load(lake, METRIC_SEASONALITY)
    if isinstance(found, str):
        return section("seasonality", title, found)
    learned = found.filter(pl.col("status") == "ok").sort(
        "daily_strength", *SERIES, descending=[True, False, False], nulls_last=True
    )
    strong = learned.filter(pl.col("daily_strength") >= 0.6).height
    parts: list[str] = [
        note(
            f"{learned.height:,} of {found.height:,} series with a pattern learned "
            f"({found.height - learned.height:,} with too little history); {strong:,} with a "
            "strong daily cycle (strength 0.6 or more). Hours: the hourly buckets with data, "
            "of the last 28 days; few of them make a weak pattern. The profile is each hour's "
            "median difference from its day, UTC hours 0 to 23."
        )
    ]
    if learned.height:
        hours = [f"{h:02d}:00" for h in range(24)]
        rows = []
        for r in learned.head(TABLE_ROWS).iter_rows(named=True):
            profile = r["hour_of_day"] or []
            finite = [(v, h) for h, v in enumerate(profile) if v is not None and math.isfinite(v)]
            peak = f"{max(finite)[1]:02d}:00" if finite else MISSING
            period = r["dominant_period_hours"]
            rows.append(
                [*_series_cells(r["name"], r["tags"]), f"{r['days']:,}", f"{r['points']:,}",
                 number(r["daily_strength"], 2), _period(period), peak,
                 Html(spark_bars([v or 0.0 for v in profile], hours)) if profile else MISSING]
            )  # fmt: skip
        parts.append(
            table(
                [
                    "metric",
                    "tags",
                    "days",
                    "hours",
                    "daily strength",
                    "dominant period",
                    "peak hour",
                    "hour-of-day profile",
                ],
                rows,
                numeric=(2, 3, 4, 5),
            )
        )
        parts.append(_more(min(learned.height, TABLE_ROWS), learned.height, "series"))
    return section("seasonality", title, *parts)


def _period(hours: float | None) -> str:
    if hours is None or not math.isfinite(hours):
        return "none"
    return f"{number(hours)} h" if hours < 48 else f"{number(hours / 24)} days"


def agents(lake: Lake) -> str:
    """Each agent's latest week, and whether its task durations trend."""
    title = "Agent performance"
    found = load(lake, AGENT_PERFORMANCE)
    if isinstance(found, str):
        return section("agents", title, found)
    latest = found.sort("week").group_by("agent_id", maintain_order=True).last().sort("agent_id")
    weeks = found.get_column("week").n_unique()
    parts: list[str] = [
        note(
            f"{latest.height:,} agents over {weeks:,} week(s); each agent's latest week (Monday, "
            "UTC) and the trend of its task durations over all its weeks."
        ),
        table(
            ["agent", "week", "completed", "assigned", "median hours", "actual / estimate",
             "blockers per task", "reassignments per task", "trend", "slope (h/week)",
             "p-value"],
            [
                [r["agent_id"], moment(r["week"], hour=False), f"{r['tasks_completed']:,}",
                 f"{r['tasks_assigned']:,}", number(r["median_actual_hours"]),
                 number(r["estimate_ratio"]), number(r["blockers_per_task"]),
                 number(r["reassignments_per_task"]),
                 Html(f'<span class="{esc(r["trend"])}">{esc(r["trend"])}</span>'),
                 number(r["duration_slope_hours_per_week"]), p_value(r["trend_p_value"])]
                for r in latest.iter_rows(named=True)
            ],
            numeric=(2, 3, 4, 5, 6, 7, 9, 10),
        ),
    ]  # fmt: skip
    return section("agents", title, *parts)


def outcomes(lake: Lake) -> str:
    """Which features separate completed work from blocked or abandoned work, by how much."""
    title = "Project outcomes"
    found = load(lake, PROJECT_OUTCOMES)
    if isinstance(found, str):
        return section("outcomes", title, found)
    ordered = found.sort(
        pl.col("separates").fill_null(False),
        pl.col("effect_size").abs(),
        descending=[True, True],
        nulls_last=True,
    )
    separating = [
        f"{r['feature']} ({r['level']})"
        for r in ordered.filter(pl.col("separates").fill_null(False)).iter_rows(named=True)
    ]
    compared = found.filter(pl.col("status") == "ok").height
    verdict = (
        f"Features that separate completed from failed work at 5%: {', '.join(separating)}."
        if separating
        else "No feature separates completed from failed work at 5%."
    )
    parts: list[str] = [
        note(
            f"{verdict} {compared:,} of {found.height:,} comparisons had enough of both groups. "
            "Effect size: rank-biserial correlation, + when the completed have higher values."
        ),
        table(
            ["level", "feature", "completed", "failed", "completed median", "failed median",
             "effect size", "p-value", "separates", "note"],
            [
                [r["level"], r["feature"], f"{r['completed']:,}", f"{r['failed']:,}",
                 number(r["completed_median"]), number(r["failed_median"]),
                 Html(_effect(r["effect_size"])), p_value(r["p_value"]),
                 {True: "yes", False: "no"}.get(r["separates"], MISSING), r["reason"] or ""]
                for r in ordered.iter_rows(named=True)
            ],
            numeric=(2, 3, 4, 5, 6, 7),
        ),
    ]  # fmt: skip
    return section("outcomes", title, *parts)


def _effect(effect: float | None) -> str:
    """The effect size with a bar from the middle: right for +, left for -."""
    if effect is None or not math.isfinite(effect):
        return MISSING
    width = min(abs(effect), 1.0) * 30
    x = 30 if effect >= 0 else 30 - width
    return (
        f'<svg class="effect" viewBox="0 0 60 10" width="60" height="10" role="img" '
        f'aria-label="effect {effect:+.2f}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect class="{"up" if effect >= 0 else "down"}" x="{x:.1f}" y="1" '
        f'width="{max(width, 0.5):.1f}" height="8"/><path class="zero" d="M30,0 L30,10"/></svg>'
        f" {effect:+.2f}"
    )
