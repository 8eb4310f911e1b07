"""Analytics quality against the truth of labelled series, beside plain 3-sigma rules.

Series come from the labelled-series generator (`lib/simulate_series.py`): hourly buckets with a
level, a daily shape (and in some cases a weekend dip), iid or AR(1) noise, trends of known
slope and injected, labelled anomalies. The real functions of `lib/analytics` are called on them
and scored against what was put in; a plain rule is scored on the same data in the same run:
- anomalies (`metric_anomalies`) on hourly series with a daily cycle and 28, 14 or 3 days of
  history, a set of series per kind (spike, dip, level shift, variance burst, one anomaly per
  four days): precision, recall and F1 per bucket, per kind and pooled, the share of anomalies
  with at least one bucket found, and false alarms per 1,000 clean hours. 3-sigma: a bucket is
  anomalous when |value - mean| > 3 sd, mean and sd over the series' judged window;
- trends (`metric_trends`) at hourly resolution (28 days, without and with a daily cycle, AR(1)
  coefficients 0 to 0.7) and daily resolution (90 days of daily means, also with a weekend
  dip): the share of trending series (a total change of TREND_SDS noise sds over the window,
  the noise's marginal sd at that resolution) reported in the right direction, and the share
  of trendless ones reported as trending. 3-sigma: the ordinary least-squares slope when
  |t| > 3 (t = slope / its standard error, as if the points were independent), else no trend;
- seasonality (`metric_seasonality`, 28 days): whether the dominant period found is the true
  one (24 h for a daily shape, 168 h for a weekend dip alone, none for noise alone), and the
  Pearson correlation of the hour-of-day profile with the true daily shape. Plain rule: the
  hour-of-day means less the overall mean, and the periodogram's highest peak when its power is
  more than 3 sds above the mean power;
- forecasts (`metric_forecasts`, a seventh of the series starting on each weekday): hourly,
  from 28 days of history, sMAPE over the generated week that follows, beside the
  seasonal-naive forecast (the last day repeated); daily, from 120 days of daily means, over
  the 30 days that follow, beside the last week repeated; and how many of the actual values
  the 80% and 95% intervals held. Plain rule: seasonal-naive with intervals of +-1.28 and
  +-1.96 times the history's sd.

Anomalies are labelled per bucket: every hour of a level shift or variance burst counts, though
a burst's hour may look ordinary (with the true expected value and sd, a 3.5-sd rule finds
about 38% of them); the share of anomalies found counts each anomaly once.

Seeds: each case draws its series from its own seed, SEED and up (1000+). The methods' constants
(the anomaly threshold, the level window, the burst rule, the noise scale, the trend test's
level and correction, the periodogram's peak ratio, the forecast's windows) were chosen on the
series of `seneca_assets_tests` (seeds 0 to 32) and on tuning sets drawn from seeds 5000 and
up; these seeds are held apart from both, so the figures are out of sample. A section is
appended to benchmarks/RESULTS.md unless --no-record is given.

    .venv/bin/python benchmarks/analytics.py [--series 300] [--no-record]

About a minute on 2 cores; validate changes with `--series 30 --no-record`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest as ingest_bench  # noqa: E402  (benchmarks/ingest.py, for publish())

from seneca_assets.lib.analytics.anomalies import metric_anomalies  # noqa: E402
from seneca_assets.lib.analytics.forecasts import metric_forecasts  # noqa: E402
from seneca_assets.lib.analytics.seasonal import HISTORY_DAYS, metric_seasonality  # noqa: E402
from seneca_assets.lib.analytics.trends import metric_trends  # noqa: E402
from seneca_assets.lib.simulate_series import (  # noqa: E402
    BURST_FACTOR,
    BURST_HOURS,
    DEFAULT_START,
    KINDS,
    MAX_PHI,
    SHIFT_HOURS,
    SHIFT_SDS,
    SPIKE_SDS,
    LabelledSeries,
    Recipe,
    SeriesTruth,
    generate,
)

SEED = 1000
"""The first seed; the tests' seeds (0 to 32) and the tuning seeds (5000+) are held apart."""
SERIES = 300
"""Series per set (each set: one history length and anomaly kind, one phi and trend, ...)."""
HISTORIES = (28, 14, 3)
ANOMALIES_PER_DAY = 0.25
PHIS = (0.0, 0.3, 0.5, 0.7)
TREND_SDS = 4.0
"""A trend's total change over the tested window, in sds of the noise at that resolution."""
TREND_DAYS = {"hourly": 28, "daily": 90}
TREND_CASES = (
    ("hourly, no daily cycle", "hourly", False, False, PHIS),
    ("hourly, daily cycle", "hourly", True, False, PHIS),
    ("daily", "daily", True, False, (0.0, MAX_PHI)),
    ("daily, weekend dip", "daily", True, True, (0.5,)),
)
"""Label, resolution, daily shape, weekend dip, AR(1) coefficients. Hourly AR(1) noise of 0.7
or less leaves daily means nearly independent (0.7 ** 24 < 0.001)."""
FORECASTS = {"hourly": (HISTORY_DAYS, 7), "daily": (120, 30)}
"""Days of history and days forecast, per resolution (the daily forecast over the weekly cycle
needs 3 weeks of shape and two 30-day horizons for its measured intervals)."""
F1_TARGET = 0.8
DIRECTION_TARGET = 0.95
FALSE_TREND_TARGET = 0.05
COVERAGE_TARGET = (0.75, 0.85)

Row = tuple[str, str, str, str]


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _now(series: LabelledSeries) -> datetime:
    """The end of the series' last hour: the `now` the analytics are run at."""
    first = next(iter(series.truths.values()))
    return first.start + timedelta(hours=first.hours)


def _mean(values: pl.Series) -> float:
    """The mean of a Polars column as a float (0 when empty)."""
    mean = values.cast(pl.Float64).mean()
    return float(mean) if isinstance(mean, int | float) else 0.0


# Anomalies ------------------------------------------------------------------------------------


def judge_anomalies(series: LabelledSeries) -> pl.DataFrame:
    """Per judged bucket: the truth (`kind`, `is_anomaly`, `event`), ours and the 3-sigma flag."""
    now = _now(series)
    ours = metric_anomalies(series.frame, now).select("name", "bucket", ours="is_anomaly")
    window = series.frame.filter(pl.col("bucket") >= now - timedelta(days=HISTORY_DAYS))
    sigma = window.select(
        "name",
        "bucket",
        sigma=(pl.col("mean") - pl.col("mean").mean().over("name")).abs()
        > 3 * pl.col("mean").std().over("name"),
    )
    starts = pl.col("is_anomaly") & ~pl.col("is_anomaly").shift(1, fill_value=False)
    labels = series.labels.sort("name", "bucket").with_columns(
        event=pl.when("is_anomaly").then(starts.cum_sum().over("name"))
    )
    return labels.join(ours, on=["name", "bucket"]).join(sigma, on=["name", "bucket"])


def _prf(found: pl.Series, truth: pl.Series) -> tuple[float, float, float]:
    hits, flagged, labelled = (int(c.sum()) for c in (found & truth, found, truth))
    precision = hits / max(flagged, 1)
    recall = hits / max(labelled, 1)
    f1 = 2 * hits / max(flagged + labelled, 1)
    return precision, recall, f1


def anomaly_scores(judged: pl.DataFrame, rule: str) -> dict[str, float]:
    """Precision, recall, F1, share of anomalies found and false alarms per 1,000 clean hours."""
    precision, recall, f1 = _prf(judged.get_column(rule), judged.get_column("is_anomaly"))
    events = judged.filter("is_anomaly").group_by("name", "event").agg(pl.col(rule).any())
    clean = judged.filter(~pl.col("is_anomaly"))
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "events": _mean(events.get_column(rule)),
        "false_per_1000": 1000 * _mean(clean.get_column(rule)),
    }


def anomaly_sets(days: int, recipe: Recipe, seeds: Iterator[int], n: int) -> pl.DataFrame:
    """Judged buckets of one set of series per kind (column `set`: the kind injected)."""
    per_series = max(1, round(days * ANOMALIES_PER_DAY))
    out = []
    for kind in KINDS:
        made = generate(
            replace(recipe, days=days, kinds=(kind,), anomalies=per_series), next(seeds), n, kind
        )
        out.append(judge_anomalies(made).with_columns(set=pl.lit(kind)))
    return pl.concat(out)


def anomaly_rows(label: str, judged: pl.DataFrame, target: bool) -> list[Row]:
    """A row per kind and one pooled over all kinds (the target applies to the pooled one)."""
    rows = []
    for kind in (*KINDS, "all kinds"):
        part = judged if kind == "all kinds" else judged.filter(pl.col("set") == kind)
        ours, sigma = anomaly_scores(part, "ours"), anomaly_scores(part, "sigma")
        result = (
            f"F1 **{ours['f1']:.2f}** (3-sigma {sigma['f1']:.2f}); "
            f"precision {ours['precision']:.2f} ({sigma['precision']:.2f}), "
            f"recall {ours['recall']:.2f} ({sigma['recall']:.2f}); "
            f"anomalies found {ours['events']:.0%} ({sigma['events']:.0%}); "
            f"false alarms per 1,000 clean hours {ours['false_per_1000']:.1f} "
            f"({sigma['false_per_1000']:.1f})"
        )
        pooled = kind == "all kinds" and target
        rows.append(
            (
                f"anomalies, {label}: {kind}",
                result,
                f"F1 >= {F1_TARGET}" if pooled else "",
                _verdict(ours["f1"] >= F1_TARGET) if pooled else "",
            )
        )
    return rows


# Trends ---------------------------------------------------------------------------------------


def daily_noise_sds(phi: float) -> float:
    """The sd of a day's mean of 24 hourly AR(1) values, in sds of the hourly noise."""
    lags = np.arange(1, 24)
    variance = 1 + 2 * np.sum((1 - lags / 24) * phi**lags)
    return float(np.sqrt(variance / 24))


def daily_means(frame: pl.DataFrame) -> pl.DataFrame:
    """Daily rollup rows (the day's mean of the hourly means) from hourly rows."""
    return (
        frame.group_by("name", "tags", pl.col("bucket").dt.truncate("1d"))
        .agg(pl.col("mean").mean())
        .sort("name", "bucket")
    )


def ols_direction(values: np.ndarray) -> str:
    """The 3-sigma rule for trends: the OLS slope's direction when |slope / se| > 3."""
    fit = stats.linregress(np.arange(values.size, dtype=float), values)
    if fit.stderr > 0 and abs(fit.slope / fit.stderr) > 3:
        return "increasing" if fit.slope > 0 else "decreasing"
    return "no trend"


def judge_trends(series: LabelledSeries, resolution: str) -> pl.DataFrame:
    """Per series: the true direction, ours and the 3-sigma rule's, at `resolution`."""
    rows = series.frame if resolution == "hourly" else daily_means(series.frame)
    ours = metric_trends({resolution: rows}, _now(series))
    plain = rows.group_by("name", maintain_order=True).agg(pl.col("mean"))
    truth = pl.DataFrame(
        {
            "name": list(series.truths),
            "truth": [_direction(t) for t in series.truths.values()],
            "phi": [t.phi for t in series.truths.values()],
        }
    )
    return truth.join(ours.select("name", ours="direction"), on="name").join(
        plain.select(
            "name",
            sigma=pl.col("mean").map_elements(
                lambda v: ols_direction(v.to_numpy()), return_dtype=pl.String
            ),
        ),
        on="name",
    )


def _direction(truth: SeriesTruth) -> str:
    if truth.slope == 0:
        return "no trend"
    return "increasing" if truth.slope > 0 else "decreasing"


def trend_set(resolution: str, recipe: Recipe, trending: bool, seed: int, n: int) -> pl.DataFrame:
    """A set of `recipe` series with a trend of TREND_SDS (or none), judged at `resolution`."""
    scale = 1.0 if resolution == "hourly" else daily_noise_sds(recipe.phi[1])
    change = TREND_SDS * scale if trending else 0.0
    made = generate(replace(recipe, trend_sds=(change, change)), seed, n, "trend")
    return judge_trends(made, resolution)


def trend_rows(label: str, trending: pl.DataFrame, flat: pl.DataFrame) -> list[Row]:
    """Direction accuracy on trending series and false trends on trendless ones."""
    right = {r: _mean(trending[r] == trending["truth"]) for r in ("ours", "sigma")}
    false = {r: _mean(flat[r] != "no trend") for r in ("ours", "sigma")}
    return [
        (
            f"trends, {label}: direction right",
            f"**{right['ours']:.3f}** (3-sigma {right['sigma']:.3f}) of {trending.height}",
            f">= {DIRECTION_TARGET}",
            _verdict(right["ours"] >= DIRECTION_TARGET),
        ),
        (
            f"trends, {label}: false trends",
            f"**{false['ours']:.1%}** (3-sigma {false['sigma']:.1%}) of {flat.height}",
            f"<= {FALSE_TREND_TARGET:.0%}",
            _verdict(false["ours"] <= FALSE_TREND_TARGET),
        ),
    ]


# Seasonality ----------------------------------------------------------------------------------


def plain_profile(values: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """The plain hour-of-day profile: each hour's mean less the overall mean."""
    sums = np.bincount(hours, weights=values, minlength=24)
    return sums / np.maximum(np.bincount(hours, minlength=24), 1) - values.mean()


def plain_period(values: np.ndarray) -> float | None:
    """The plain period: the periodogram's highest peak (periods up to half the span) when its
    power is more than 3 sds above the mean power."""
    power = np.abs(np.fft.rfft(values - values.mean()))[1:] ** 2
    periods = 1 / np.fft.rfftfreq(values.size)[1:]
    power, periods = power[periods <= values.size / 2], periods[periods <= values.size / 2]
    peak = int(np.argmax(power))
    return float(periods[peak]) if power[peak] > power.mean() + 3 * power.std() else None


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def judge_seasonality(series: LabelledSeries) -> pl.DataFrame:
    """Per series: the periods and profile correlations found, ours and the plain rule's."""
    table = metric_seasonality(series.frame, _now(series))
    ours = {row["name"]: row for row in table.iter_rows(named=True)}
    rows = []
    for (name,), part in series.frame.group_by(["name"], maintain_order=True):
        truth = series.truths[str(name)]
        values = part.get_column("mean").to_numpy()
        hours = part.get_column("bucket").dt.hour().to_numpy()
        found = ours[name]
        profile = np.asarray(found["hour_of_day"] or np.zeros(24))
        rows.append(
            {
                "name": name,
                "ours_period": found["dominant_period_hours"],
                "sigma_period": plain_period(values),
                "ours_r": _correlation(profile, np.asarray(truth.daily_shape)),
                "sigma_r": _correlation(
                    plain_profile(values, hours), np.asarray(truth.daily_shape)
                ),
            }
        )
    return pl.DataFrame(
        rows, schema_overrides={"ours_period": pl.Float64, "sigma_period": pl.Float64}
    )


def seasonality_rows(sets: dict[str, tuple[float | None, pl.DataFrame]]) -> list[Row]:
    """Per set: the share with the true period, and for daily shapes the profiles' correlation."""
    rows = []
    for label, (period, judged) in sets.items():
        found = {r: judged[f"{r}_period"] for r in ("ours", "sigma")}
        right = {
            r: _mean(p.is_null() if period is None else (p == period).fill_null(False))
            for r, p in found.items()
        }
        shown = "no period reported for" if period is None else f"period {period:.0f} h found in"
        result = f"{shown} **{right['ours']:.0%}** (plain {right['sigma']:.0%})"
        if judged["ours_r"].is_not_nan().any():
            r = {c: judged[f"{c}_r"].fill_nan(0.0).to_numpy() for c in ("ours", "sigma")}
            median = {c: float(np.median(v)) for c, v in r.items()}
            low = {c: float(np.quantile(v, 0.05)) for c, v in r.items()}
            result += (
                f"; hour-of-day profile r: median **{median['ours']:.3f}** (plain "
                f"{median['sigma']:.3f}), 5th percentile {low['ours']:.3f} ({low['sigma']:.3f})"
            )
        rows.append((f"seasonality, {label}", result, "", ""))
    return rows


# Forecasts ------------------------------------------------------------------------------------


def smape(predicted: str) -> pl.Expr:
    """Symmetric mean absolute percentage error of column `predicted` against `actual`, as in
    `lib/analytics/forecasts.py` (a term with both zero counts 0)."""
    actual, forecast = pl.col("actual"), pl.col(predicted)
    terms = 2 * (actual - forecast).abs() / (actual.abs() + forecast.abs())
    return terms.fill_nan(0.0).mean()


def judge_forecasts(series: LabelledSeries, resolution: str = "hourly") -> pl.DataFrame:
    """Per series: sMAPE and interval hits over its last FORECASTS[resolution] days at that
    resolution, forecast from before them, ours and seasonal-naive's (the last turn of the
    cycle repeated: a day of hours, or a week of days)."""
    ahead = FORECASTS[resolution][1]
    now = _now(series) - timedelta(days=ahead)
    hourly = resolution == "hourly"
    rows = series.frame if hourly else daily_means(series.frame)
    history = rows.filter(pl.col("bucket") < now)
    phase = (pl.col("bucket").dt.hour() if hourly else pl.col("bucket").dt.weekday()).alias("phase")
    last_turn = history.filter(pl.col("bucket") >= now - timedelta(days=1 if hourly else 7))
    table = (
        metric_forecasts(history, now)
        if hourly
        else metric_forecasts(history.clear(), now, daily=history)
    )
    ours = table.filter(pl.col("resolution") == resolution).select(
        "name", "bucket", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
        reported_80="coverage_80",
    )  # fmt: skip
    ahead_rows = (
        rows.filter(pl.col("bucket") >= now)
        .select("name", "bucket", phase, actual="mean")
        .join(ours, on=["name", "bucket"])
        .join(last_turn.select("name", phase, naive="mean"), on=["name", "phase"])
        .join(history.group_by("name").agg(sd=pl.col("mean").std()), on="name")
    )
    miss = (pl.col("actual") - pl.col("naive")).abs()
    return ahead_rows.group_by("name").agg(
        ours=smape("forecast"),
        naive=smape("naive"),
        ours_80=pl.col("actual").is_between("lower_80", "upper_80").mean(),
        ours_95=pl.col("actual").is_between("lower_95", "upper_95").mean(),
        naive_80=(miss <= 1.28 * pl.col("sd")).mean(),
        naive_95=(miss <= 1.96 * pl.col("sd")).mean(),
        reported_80=pl.col("reported_80").first(),
    )


def forecast_rows(label: str, judged: pl.DataFrame) -> list[Row]:
    """sMAPE beside seasonal-naive, and the coverage of the 80% and 95% intervals."""
    mean = {c: _mean(judged[c]) for c in judged.columns if c != "name"}
    better = _mean(judged["ours"] < judged["naive"])
    low, high = COVERAGE_TARGET
    return [
        (
            f"forecasts, {label}: sMAPE",
            f"**{mean['ours']:.2%}** (seasonal-naive {mean['naive']:.2%}); "
            f"better than naive on {better:.0%} of series",
            "< seasonal-naive",
            _verdict(mean["ours"] < mean["naive"]),
        ),
        (
            f"forecasts, {label}: 80% intervals held",
            f"**{mean['ours_80']:.1%}** (naive +-1.28 sd {mean['naive_80']:.1%}); "
            f"the method's own backtest said {mean['reported_80']:.1%}",
            f"{low:.0%} to {high:.0%}",
            _verdict(low <= mean["ours_80"] <= high),
        ),
        (
            f"forecasts, {label}: 95% intervals held",
            f"**{mean['ours_95']:.1%}** (naive +-1.96 sd {mean['naive_95']:.1%})",
            "",
            "",
        ),
    ]


# The run --------------------------------------------------------------------------------------


def anomalies_section(seeds: Iterator[int], n: int) -> list[Row]:
    rows = []
    for days in HISTORIES:
        judged = anomaly_sets(days, Recipe(), seeds, n)
        rows += anomaly_rows(f"{days} days, iid noise", judged, target=True)
    realistic = Recipe(phi=(0.0, MAX_PHI), weekly=True)
    rows += anomaly_rows(
        "28 days, AR(1) phi 0-0.7 and a weekend dip", anomaly_sets(28, realistic, seeds, n), False
    )
    return rows


def trends_section(seeds: Iterator[int], n: int) -> list[Row]:
    rows = []
    for label, resolution, daily, weekly, phis in TREND_CASES:
        for phi in phis:
            recipe = Recipe(days=TREND_DAYS[resolution], daily=daily, weekly=weekly, phi=(phi, phi))
            trending = trend_set(resolution, recipe, True, next(seeds), n)
            flat = trend_set(resolution, recipe, False, next(seeds), n)
            rows += trend_rows(f"{label}, phi {phi}", trending, flat)
    return rows


def seasonality_section(seeds: Iterator[int], n: int) -> list[Row]:
    base = Recipe(phi=(0.0, MAX_PHI), trend_sds=(0.0, TREND_SDS))
    sets: dict[str, tuple[float | None, pl.DataFrame]] = {
        "daily shape": (24.0, judge_seasonality(generate(base, next(seeds), n, "s"))),
        "weekend dip only": (
            168.0,
            judge_seasonality(generate(replace(base, daily=False, weekly=True), next(seeds), n)),
        ),
        "noise only": (
            None,
            judge_seasonality(generate(replace(base, daily=False), next(seeds), n)),
        ),
        "daily shape and weekend dip": (
            24.0,
            judge_seasonality(generate(replace(base, weekly=True), next(seeds), n)),
        ),
    }
    return seasonality_rows(sets)


def forecasts_section(seeds: Iterator[int], n: int) -> list[Row]:
    realistic = Recipe(phi=(0.0, MAX_PHI), trend_sds=(0.0, TREND_SDS), kinds=KINDS, anomalies=2)
    sets = {
        "hourly, iid noise, daily shape": ("hourly", Recipe()),
        "hourly, AR(1) 0-0.7, trend, 2 anomalies": ("hourly", realistic),
        "hourly, the same with a weekend dip": ("hourly", replace(realistic, weekly=True)),
        "daily, AR(1) 0-0.7, trend, 4 anomalies, weekend dip": (
            "daily",
            replace(realistic, weekly=True, anomalies=4),
        ),
    }
    rows = []
    for label, (resolution, recipe) in sets.items():
        seed = next(seeds)
        days = sum(FORECASTS[resolution])
        judged = [
            judge_forecasts(
                generate(replace(recipe, days=days, start=start), seed * 10 + k, size),
                resolution,
            )
            for k, (start, size) in enumerate(_weekdays(n))
        ]
        rows += forecast_rows(label, pl.concat(judged))
    return rows


def _weekdays(n: int) -> list[tuple[datetime, int]]:
    """Seven starts a day apart sharing `n` series, so that forecasts start on every weekday."""
    return [(DEFAULT_START + timedelta(days=k), n // 7 + (k < n % 7)) for k in range(7)]


SECTIONS: dict[str, Callable[[Iterator[int], int], list[Row]]] = {
    "anomalies": anomalies_section,
    "trends": trends_section,
    "seasonality": seasonality_section,
    "forecasts": forecasts_section,
}


def _range(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}-{bounds[1]:g}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=SERIES, help="series per set")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    rows: list[Row] = []
    for offset, (name, section) in enumerate(SECTIONS.items()):
        begun = time.perf_counter()
        rows += section(count(SEED + 100 * offset), args.series)
        print(f"{name}: {time.perf_counter() - begun:.1f} s", file=sys.stderr)
    ingest_bench.publish(
        "Analytics quality",
        "`benchmarks/analytics.py`: the analytics of `lib/analytics` on labelled series from "
        f"`lib/simulate_series.py` (seeds {SEED}+, held apart from the tests' 0 to 32 and the "
        "tuning seeds 5000+ on which the methods' constants were chosen), "
        f"{args.series} series per set; in brackets a "
        "plain rule on the same data (anomalies: |x - mean| > 3 sd over the series; trends: "
        "OLS slope with |t| > 3; seasonality: hour-of-day means and the periodogram's peak "
        "beyond 3 sd of the powers; forecasts: seasonal-naive, +-1.28 / 1.96 history sd). "
        f"Anomalies: one per {1 / ANOMALIES_PER_DAY:.0f} days of the set's kind (spikes and "
        f"dips {_range(SPIKE_SDS)} noise sds, level shifts {_range(SHIFT_SDS)} sds for "
        f"{_range(SHIFT_HOURS)} h, variance bursts {_range(BURST_FACTOR)}x for "
        f"{_range(BURST_HOURS)} h), scored per bucket. Trends: a change of {TREND_SDS:.0f} "
        "noise sds over the window (hourly: 28 days, with or without a daily cycle; daily: 90 "
        f"days). Whole run {time.perf_counter() - started:.0f} s.",
        rows,
        record=not args.no_record,
    )


if __name__ == "__main__":
    main()
