"""Forecasts of hourly series for the next 7 days, with intervals and an honest backtest.

The method is the robust decomposition's (`seasonal.py`): the next hours are the latest level
(the median of the last day's values without their daily shape) plus the daily shape. Its
intervals are not assumed but measured: the 80% and 95% quantiles of its absolute errors when it
forecast an earlier week from the history before it. Its quality is measured on the latest week,
forecast from the history before that week: sMAPE beside the seasonal-naive forecast's (each hour
as the same hour of the last day seen) and how often the 80% interval held the actual value.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.seasonal import HISTORY_DAYS, SEASONAL_DAYS, SERIES, decompose
from seneca_assets.lib.analytics.tables import METRIC_FORECASTS

HORIZON_HOURS = 7 * 24
MIN_DAYS = SEASONAL_DAYS
"""Days of history a forecast needs (the daily shape); its intervals need MIN_DAYS + 7."""
_HOUR = timedelta(hours=1)


def metric_forecasts(hourly: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """gold/metric_forecasts: per hourly series, the next HORIZON_HOURS with their intervals."""
    rows = hourly.filter(
        (pl.col("bucket") >= now - timedelta(days=HISTORY_DAYS)) & pl.col("mean").is_finite()
    ).sort(*SERIES, "bucket")
    out: list[dict[str, object]] = []
    for (name, tags), series in rows.group_by(list(SERIES), maintain_order=True):
        out += [{"name": name, "tags": tags, **row} for row in _series(series)]
    frame = pl.DataFrame(out, schema=_SCHEMA) if out else pl.DataFrame(schema=_SCHEMA)
    return frame.with_columns(computed_at=pl.lit(now, pl.Datetime("us", "UTC")))


def _grid(series: pl.DataFrame) -> tuple[datetime, np.ndarray]:
    """The series on a full hourly grid from its first bucket (missing hours are NaN)."""
    first = series.item(0, "bucket")
    offsets = ((series.get_column("bucket") - first) / _HOUR).cast(pl.Int64).to_numpy()
    values = np.full(int(offsets.max()) + 1, np.nan)
    values[offsets] = series.get_column("mean").to_numpy()
    return first, values


def _fit(series: pl.DataFrame, until: datetime) -> tuple[float, np.ndarray]:
    """The latest level and the 24-hour shape of the series' buckets before `until`.

    The shape is the robust decomposition's (`seasonal.decompose`); the level is the median of
    the last day's values without it.
    """
    parts = decompose(series.filter(pl.col("bucket") < until), until).collect()
    shape = np.zeros(24)
    by_hour = parts.group_by(pl.col("bucket").dt.hour()).agg(pl.col("shape").first())
    for hour, value in by_hour.iter_rows():
        shape[hour] = value
    recent = parts.filter(pl.col("bucket") >= until - timedelta(days=1))
    level = (recent if recent.height else parts).select(
        (pl.col("value") - pl.col("shape")).median()
    )
    return float(level.item()), shape


def _forecast(series: pl.DataFrame, until: datetime, horizon: int) -> np.ndarray:
    """The `horizon` hours from `until`, forecast from the buckets before it."""
    level, shape = _fit(series, until)
    return level + shape[(np.arange(horizon) + until.hour) % 24]


def _naive(values: np.ndarray, horizon: int) -> np.ndarray:
    """Each future hour as the same hour of the last day seen (24 hours back, repeated)."""
    last_day = values[-24:]
    return np.resize(last_day, horizon)


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
    series: pl.DataFrame, first: datetime, values: np.ndarray, cut: int
) -> tuple[np.ndarray, np.ndarray]:
    """Actual values of the week after hour `cut` and the method's forecast of them from before."""
    actual = values[cut : cut + HORIZON_HOURS]
    return actual, _forecast(series, first + cut * _HOUR, actual.size)


def _series(series: pl.DataFrame) -> list[dict[str, object]]:
    first, values = _grid(series)
    days = values.size / 24
    if days < MIN_DAYS or np.isfinite(values).sum() < MIN_DAYS * 12:
        return [
            {
                "status": "insufficient data",
                "reason": f"{days:.1f} day(s) of history; {MIN_DAYS} are needed",
            }
        ]
    week = HORIZON_HOURS
    quality: dict[str, object] = {}
    widths = None
    if values.size >= (MIN_DAYS * 24 + week):  # the latest week, forecast from before it
        actual, predicted = _errors(series, first, values, values.size - week)
        quality = {
            "backtest_smape": _smape(actual, predicted),
            "naive_smape": _smape(actual, _naive(values[: values.size - week], actual.size)),
        }
        if values.size >= (MIN_DAYS * 24 + 2 * week):  # intervals from the week before that
            earlier, before = _errors(series, first, values, values.size - 2 * week)
            misses = np.abs(earlier - before)[np.isfinite(earlier)]
            widths = (float(np.quantile(misses, 0.8)), float(np.quantile(misses, 0.95)))
            held = np.abs(actual - predicted) <= widths[0]
            quality["coverage_80"] = float(np.mean(held[np.isfinite(actual)]))
    start = first + values.size * _HOUR
    if widths is None:  # too short for an earlier week: the spread of the recent days instead
        level, shape = _fit(series, start)
        hours = (np.arange(values.size) + first.hour) % 24
        misses = np.abs(values - level - shape[hours])
        misses = misses[np.isfinite(misses)]
        widths = (float(np.quantile(misses, 0.8)), float(np.quantile(misses, 0.95)))
    forecast = _forecast(series, start, week)
    return [
        {
            "status": "ok",
            "reason": None
            if "coverage_80" in quality
            else "intervals from the fit, not a backtest",
            "bucket": start + step * _HOUR,
            "forecast": float(value),
            "lower_80": float(value - widths[0]),
            "upper_80": float(value + widths[0]),
            "lower_95": float(value - widths[1]),
            "upper_95": float(value + widths[1]),
            "method": "seasonal-median",
            **quality,
        }
        for step, value in enumerate(forecast)
    ]


_SCHEMA = pl.Schema({k: v for k, v in METRIC_FORECASTS.schema.items() if k != "computed_at"})


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def summary(table: pl.DataFrame, top: int = 10) -> str:
    """Markdown for people: each series' next-day forecast and its backtest beside naive."""
    done = table.filter(pl.col("status") == "ok")
    lines = [f"{done.select(SERIES).unique().height:,} series forecast for the next 7 days."]
    if done.height:
        first_day = done.filter(pl.col("bucket") < pl.col("bucket").min() + timedelta(days=1))
        rows = (
            first_day.group_by(SERIES, maintain_order=True)
            .agg(
                pl.col("forecast").mean(),
                pl.col("lower_80").mean(),
                pl.col("upper_80").mean(),
                pl.col("backtest_smape").first(),
                pl.col("naive_smape").first(),
            )
            .head(top)
        )
        lines += [
            "",
            "| metric | tags | next day mean | 80% | sMAPE | naive sMAPE |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows.iter_rows(named=True):
            smape, naive = (_share(row[c]) for c in ("backtest_smape", "naive_smape"))
            lines.append(
                f"| {row['name']} | {row['tags']} | {row['forecast']:.4g} | "
                f"{row['lower_80']:.4g} .. {row['upper_80']:.4g} | {smape} | {naive} |"
            )
    return "\n".join(lines)
