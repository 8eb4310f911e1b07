"""Forecasts of every series: 7 days hourly, 30 days daily, with intervals and a backtest.

The method is the robust decomposition's (`seasonal.py`), over the daily cycle for hourly
buckets and the weekly cycle for daily ones: the next buckets are the latest level (the median
of the last turn's values without their shape) plus the shape. Its intervals are not assumed but
measured: the 80% and 95% quantiles of its absolute errors when it forecast the horizon before
the latest from the history before that. Its quality is measured on the latest horizon, forecast
from the history before it: sMAPE beside the seasonal-naive forecast's (each bucket as the same
phase of the last turn seen) and how often the 80% interval held the actual value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table, share
from seneca_assets.lib.analytics.seasonal import DAILY_CYCLE, SERIES, WEEKLY_CYCLE, Cycle, decompose
from seneca_assets.lib.analytics.tables import METRIC_FORECASTS
from seneca_assets.lib.analytics.trends import trend

TURNS = 3
"""Turns of the cycle (days, or weeks) of history a forecast needs for its shape."""
WEEKDAY_DAYS = 14
"""Days of hourly history from which a forecast adds weekday offsets. Fewer than the
anomalies' 21, so that with four weeks of history the week whose errors make the intervals
(forecast from two weeks) is forecast the same way as the next: from three weeks, the
intervals of series with a weekend dip held 97% instead of 80%."""
TREND_TURNS = 8
"""Turns of the cycle over which the trend is tested and measured."""


@dataclass(frozen=True)
class Horizon:
    """What is forecast from one rollup tier: how far ahead, over which cycle."""

    resolution: str
    cycle: Cycle
    steps: int
    unit: str
    """What a turn of the cycle is called, for people."""


HOURLY = Horizon("hourly", DAILY_CYCLE, 7 * 24, "day")
"""The next 7 days, hourly, over the daily cycle."""
DAILY = Horizon("daily", WEEKLY_CYCLE, 30, "week")
"""The next 30 days, daily, over the weekly cycle."""
HORIZON_HOURS = HOURLY.steps


def metric_forecasts(
    hourly: pl.DataFrame, now: datetime, daily: pl.DataFrame | None = None
) -> pl.DataFrame:
    """gold/metric_forecasts: per series, the next 7 days hourly and 30 days daily.

    The daily forecasts are made when the daily tier's rows are given.
    """
    out: list[dict[str, object]] = []
    for horizon, tier in ((HOURLY, hourly), (DAILY, daily)):
        if tier is None:
            continue
        rows = tier.filter(
            (pl.col("bucket") >= now - horizon.cycle.history)
            & (pl.col("bucket") < now)
            & pl.col("mean").is_finite()
        ).sort(*SERIES, "bucket")
        for (name, tags), series in rows.group_by(list(SERIES), maintain_order=True):
            out += [
                {"name": name, "tags": tags, "resolution": horizon.resolution, **row}
                for row in _series(series, horizon)
            ]
    frame = pl.DataFrame(out, schema=_SCHEMA) if out else pl.DataFrame(schema=_SCHEMA)
    return frame.with_columns(computed_at=pl.lit(now, pl.Datetime("us", "UTC")))


def _grid(series: pl.DataFrame, cycle: Cycle) -> tuple[datetime, np.ndarray]:
    """The series on a full grid of the tier's buckets from its first (missing ones are NaN)."""
    first = series.item(0, "bucket")
    offsets = ((series.get_column("bucket") - first) / cycle.step).cast(pl.Int64).to_numpy()
    values = np.full(int(offsets.max()) + 1, np.nan)
    values[offsets] = series.get_column("mean").to_numpy()
    return first, values


@dataclass(frozen=True)
class _Fit:
    """What a forecast extends: the latest level, its trend, the cycle's shape and weekdays.

    The weekday offsets are learned for hourly buckets with three weeks of history.
    """

    cycle: Cycle
    level: float
    slope: float
    shape: np.ndarray
    week: np.ndarray
    """Seven offsets, Monday first (zeros when not learned)."""

    def seasonal(self, start: datetime, steps: int) -> np.ndarray:
        """The shape and weekday offsets of `steps` buckets from `start`."""
        buckets = pl.datetime_range(
            start, start + (steps - 1) * self.cycle.step, self.cycle.step, eager=True
        )
        phases = pl.select(
            phase=self.cycle.phase(pl.lit(buckets)), weekday=pl.lit(buckets).dt.weekday() - 1
        )
        return self.shape[phases["phase"].to_numpy()] + self.week[phases["weekday"].to_numpy()]

    def forecast(self, start: datetime, steps: int) -> np.ndarray:
        """The `steps` buckets from `start` (the end of the history fitted)."""
        ahead = np.arange(steps) + (self.cycle.length + 1) / 2  # from the last turn's middle
        return self.level + self.slope * ahead + self.seasonal(start, steps)


def _fit(series: pl.DataFrame, until: datetime, cycle: Cycle) -> _Fit:
    """The fit of the series' buckets before `until`.

    The shape and weekday offsets are the robust decomposition's (`seasonal.decompose`); the
    level is the median of the last turn's values without them, as of that turn's middle. The
    trend is the Theil-Sen slope of the values without them over the last TREND_TURNS turns, per
    bucket, when the corrected Mann-Kendall test (`trends.trend`) finds one; 0 otherwise.
    """
    parts = (
        decompose(series.filter(pl.col("bucket") < until), until, cycle, WEEKDAY_DAYS)
        .with_columns(seasonless=pl.col("value") - pl.col("shape") - pl.col("week"))
        .collect()
    )
    shape, week = np.zeros(cycle.length), np.zeros(7)
    by_phase = parts.group_by(cycle.phase(pl.col("bucket"))).agg(pl.col("shape").first())
    for phase, value in by_phase.iter_rows():
        shape[phase] = value
    by_weekday = parts.group_by(pl.col("bucket").dt.weekday() - 1).agg(pl.col("week").first())
    for weekday, value in by_weekday.iter_rows():
        week[weekday] = value
    recent = parts.filter(pl.col("bucket") >= until - cycle.length * cycle.step)
    level = (recent if recent.height else parts).get_column("seasonless").median()
    window = parts.filter(pl.col("bucket") >= until - TREND_TURNS * cycle.length * cycle.step)
    found = trend(
        ((window.get_column("bucket") - until) / cycle.step).to_numpy(),
        window.get_column("seasonless").to_numpy(),
    )
    slope = found.slope if found.direction in ("increasing", "decreasing") and found.slope else 0.0
    return _Fit(cycle, float(level), slope, shape, week)  # type: ignore[arg-type]


def _naive(values: np.ndarray, steps: int, cycle: Cycle) -> np.ndarray:
    """Each future bucket as the same phase of the last turn seen, repeated."""
    return np.resize(values[-cycle.length :], steps)


def _smape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    keep = np.isfinite(actual) & np.isfinite(predicted)
    a, p = actual[keep], predicted[keep]
    scale = np.abs(a) + np.abs(p)
    nonzero = scale > 0
    if not np.any(keep):
        return None
    terms = np.where(nonzero, 2 * np.abs(a - p) / np.where(nonzero, scale, 1), 0.0)
    return float(np.mean(terms))


def _errors(
    series: pl.DataFrame, first: datetime, values: np.ndarray, cut: int, horizon: Horizon
) -> tuple[np.ndarray, np.ndarray]:
    """Actual values of the horizon after bucket `cut` and the method's forecast from before."""
    actual = values[cut : cut + horizon.steps]
    cycle = horizon.cycle
    until = first + cut * cycle.step
    return actual, _fit(series, until, cycle).forecast(until, actual.size)


def _widths(misses: np.ndarray) -> tuple[float, float]:
    """The 80% and 95% interval half-widths: those quantiles of the absolute errors."""
    misses = misses[np.isfinite(misses)]
    return float(np.quantile(misses, 0.8)), float(np.quantile(misses, 0.95))


def _series(series: pl.DataFrame, horizon: Horizon) -> list[dict[str, object]]:
    cycle, steps = horizon.cycle, horizon.steps
    first, values = _grid(series, cycle)
    need = TURNS * cycle.length
    seen = int(np.isfinite(values).sum())
    reason = None
    if values.size < need:
        turns = np.floor(values.size / cycle.length * 10) / 10  # never rounded up to enough
        reason = f"{turns:.1f} {horizon.unit}(s) of history; {TURNS} are needed"
    elif seen < need / 2:
        reason = f"{seen} {horizon.resolution} values; at least {need // 2} are needed"
    if reason:
        return [{"status": "insufficient data", "reason": reason}]
    quality: dict[str, object] = {}
    widths = None
    if values.size >= need + steps:  # the latest horizon, forecast from before it
        actual, predicted = _errors(series, first, values, values.size - steps, horizon)
        quality = {
            "backtest_smape": _smape(actual, predicted),
            "naive_smape": _smape(actual, _naive(values[: values.size - steps], steps, cycle)),
        }
        if values.size >= need + 2 * steps:  # intervals from the horizon before that
            earlier, before = _errors(series, first, values, values.size - 2 * steps, horizon)
            widths = _widths(np.abs(earlier - before))
            held = np.abs(actual - predicted) <= widths[0]
            quality["coverage_80"] = float(np.mean(held[np.isfinite(actual)]))
    start = first + values.size * cycle.step
    fit = _fit(series, start, cycle)
    if widths is None:  # too short for an earlier horizon: the spread of the fit instead
        widths = _widths(np.abs(values - fit.level - fit.seasonal(first, values.size)))
    # A series that has never been negative (a duration, a count) is not forecast below 0.
    floor = 0.0 if np.nanmin(values) >= 0 else -np.inf
    forecast = fit.forecast(start, steps)
    return [
        {
            "status": "ok",
            "reason": None
            if "coverage_80" in quality
            else "intervals from the fit, not a backtest",
            "bucket": start + step * cycle.step,
            "forecast": float(max(value, floor)),
            "lower_80": float(max(value - widths[0], floor)),
            "upper_80": float(max(value + widths[0], floor)),
            "lower_95": float(max(value - widths[1], floor)),
            "upper_95": float(max(value + widths[1], floor)),
            "method": "seasonal-median",
            **quality,
        }
        for step, value in enumerate(forecast)
    ]


_SCHEMA = pl.Schema({k: v for k, v in METRIC_FORECASTS.schema.items() if k != "computed_at"})


def summary(table: pl.DataFrame, top: int = 10) -> str:
    """Markdown for people: per series and resolution, the mean forecast and the backtest.

    The mean is over the next day (hourly) or the next 30 days (daily).
    """
    done = table.filter(pl.col("status") == "ok")
    counts = {
        horizon.resolution: done.filter(pl.col("resolution") == horizon.resolution)
        .select(SERIES)
        .unique()
        .height
        for horizon in (HOURLY, DAILY)
    }
    lines = [
        f"{counts['hourly']:,} series forecast for the next 7 days hourly, "
        f"{counts['daily']:,} for the next 30 days daily."
    ]
    if done.height:
        first_day = done.filter(
            (pl.col("resolution") == "daily")
            | (pl.col("bucket") < pl.col("bucket").min().over("resolution") + timedelta(days=1))
        )
        rows = (
            first_day.group_by(*SERIES, "resolution", maintain_order=True)
            .agg(
                pl.col("forecast").mean(),
                pl.col("lower_80").mean(),
                pl.col("upper_80").mean(),
                pl.col("backtest_smape").first(),
                pl.col("naive_smape").first(),
            )
            .head(top)
        )
        lines += markdown_table(
            ["metric", "tags", "resolution", "mean forecast", "80%", "sMAPE", "naive sMAPE"],
            (
                (r["name"], r["tags"],
                 f"{r['resolution']} (next {'day' if r['resolution'] == 'hourly' else '30 days'})",
                 f"{r['forecast']:.4g}", f"{r['lower_80']:.4g} .. {r['upper_80']:.4g}",
                 share(r["backtest_smape"], 1), share(r["naive_smape"], 1))
                for r in rows.iter_rows(named=True)
            ),
        )  # fmt: skip
    return "\n".join(lines)
