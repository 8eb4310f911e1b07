"""The labelled-series part of the generator: hourly metric series that know their own truth.

`lib/simulate.py` plays a Marcus deployment and writes the JSONL logs it leaves behind; this
module makes, directly, the hourly rollup rows the analytics read (`bucket` (the hour's start,
UTC), `name`, `tags`, `mean`) together with what was put into them, so that trends, seasonal
patterns, anomalies and forecasts can be scored against the truth (`benchmarks/analytics.py`).

A series is, hour by hour,

    level + slope * hour + daily_shape[hour of day] + weekly_shape[weekday] + noise

(hours counted from the series' first bucket, hour of day and weekday in UTC), the noise iid
normal or AR(1) with coefficient `phi` and the same marginal standard deviation `noise_sd`.
Anomalies are then added to chosen windows, each labelled with its kind:
- `spike` / `dip`: one hour, `size` noise sds above / below;
- `level_shift`: a run of hours (a few to a day) moved by `size` noise sds, either way;
- `variance_burst`: a run of hours whose noise sd is `size` times the usual (extra independent
  noise is added, so the total sd is `size * noise_sd`).
Everything is drawn from one numpy Generator per series, spawned from the seed: the same recipe
and seed always give the same frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import signal as sps

Floats = npt.NDArray[np.float64]

KINDS = ("spike", "dip", "level_shift", "variance_burst")
"""The kinds of injected anomaly."""
DEFAULT_START = datetime(2026, 10, 5, tzinfo=UTC)
"""A Monday at midnight UTC."""
MAX_PHI = 0.7
"""The largest AR(1) coefficient the benchmarks use (monitoring series: 0 to 0.7)."""

SPIKE_SDS = (4.0, 10.0)
"""Size of a spike or dip, in noise sds."""
SHIFT_SDS = (4.0, 8.0)
"""Size of a level shift, in noise sds."""
SHIFT_HOURS = (3, 24)
"""How long a level shift lasts (hours, both ends included)."""
BURST_FACTOR = (3.0, 5.0)
"""A variance burst's noise sd, in noise sds."""
BURST_HOURS = (3, 12)
"""How long a variance burst lasts (hours, both ends included)."""
NOISE_SD_RANGE = (0.1, 100.0)
"""Noise sd, log-uniform: series are in all kinds of units."""
LEVEL_SDS = (25.0, 50.0)
"""The level, in noise sds (a coefficient of variation of 2 to 4% without the cycles)."""
DAILY_SDS = (3.0, 10.0)
"""The daily shape's largest distance from zero, in noise sds."""
WEEKLY_SDS = (2.0, 6.0)
"""How far weekend days fall below weekdays, in noise sds."""
_GAP_HOURS = 3
"""Clean hours kept between two anomalies."""


@dataclass(frozen=True)
class Recipe:
    """What kind of series to make; the numbers themselves are drawn per series.

    Attributes:
        days: Days of hourly buckets.
        start: The first bucket (it should be at midnight UTC for the weekday shape to start
            on its day).
        daily: Whether the series has a daily shape.
        weekly: Whether it has a weekly shape (weekend days lower).
        trend_sds: Range of the trend's total change over the series, in noise sds (its sign
            is drawn); (0, 0) for a trendless series.
        phi: Range of the AR(1) coefficient of the noise; (0, 0) for iid noise.
        kinds: The kinds of anomaly to inject, each event's kind drawn from these.
        anomalies: Anomalies per series (fewer if they do not fit).
    """

    days: int = 28
    start: datetime = DEFAULT_START
    daily: bool = True
    weekly: bool = False
    trend_sds: tuple[float, float] = (0.0, 0.0)
    phi: tuple[float, float] = (0.0, 0.0)
    kinds: tuple[str, ...] = ()
    anomalies: int = 0


@dataclass(frozen=True)
class Anomaly:
    """One injected anomaly: `hours` buckets from hour `at` (counted from the first bucket).

    `size` is signed noise sds for spikes, dips and level shifts, and the noise sd's factor for a
    variance burst.
    """

    kind: str
    at: int
    hours: int
    size: float


@dataclass(frozen=True)
class SeriesTruth:
    """What went into one series.

    Attributes:
        name: Its metric name.
        tags: Its tags, canonical JSON text (`{"series":"<name>"}`).
        start: Its first bucket.
        hours: Its number of buckets.
        level: The level at the first bucket.
        slope: The trend per hour (0 for a trendless series; the sign is the direction).
        daily_shape: 24 values by hour of day (UTC), mean zero; all zero without a daily shape.
        weekly_shape: 7 values by weekday (Monday first), mean zero; None without one.
        noise_sd: The noise's marginal standard deviation.
        phi: The noise's AR(1) coefficient (0: iid normal).
        anomalies: The injected anomalies, in time order.
    """

    name: str
    tags: str
    start: datetime
    hours: int
    level: float
    slope: float
    daily_shape: tuple[float, ...]
    weekly_shape: tuple[float, ...] | None
    noise_sd: float
    phi: float
    anomalies: tuple[Anomaly, ...]

    @property
    def noise(self) -> str:
        """The noise model: "iid" or "ar1"."""
        return "iid" if self.phi == 0 else "ar1"

    def signal(self) -> Floats:
        """Level, trend and shapes at every bucket: the series without noise or anomalies."""
        hours = np.arange(self.hours)
        out = self.level + self.slope * hours + np.asarray(self.daily_shape)[self._hour_of_day()]
        if self.weekly_shape is not None:
            out = out + np.asarray(self.weekly_shape)[self._weekday()]
        return out

    def _hour_of_day(self) -> npt.NDArray[np.int64]:
        return (np.arange(self.hours) + self.start.hour) % 24

    def _weekday(self) -> npt.NDArray[np.int64]:
        first = self.start.weekday() * 24 + self.start.hour
        return ((np.arange(self.hours) + first) // 24) % 7


@dataclass(frozen=True)
class LabelledSeries:
    """Series in the shape the analytics read, with their truth.

    Attributes:
        frame: `bucket` (Datetime us UTC), `name`, `tags`, `mean`: the hourly rollup rows.
        labels: Per bucket (`bucket`, `name`, `tags`): `signal` (level, trend and shapes),
            `clean` (signal plus noise: the value had there been no anomaly), `kind` (the
            anomaly's kind, null for none) and `is_anomaly`.
        truths: Each series' truth, by name.
    """

    frame: pl.DataFrame
    labels: pl.DataFrame
    truths: dict[str, SeriesTruth]


def daily_shape(rng: np.random.Generator, amplitude: float) -> Floats:
    """24 values of mean zero whose largest magnitude is `amplitude`.

    Either two harmonics (one peak, or two of different heights) or a working-hours plateau
    with soft edges, at a drawn time of day.
    """
    hours = np.arange(24)
    if rng.random() < 0.5:
        peak, second = rng.uniform(0, 24), rng.uniform(0, 24)
        shape = np.cos(2 * np.pi * (hours - peak) / 24)
        shape = shape + rng.uniform(0, 0.6) * np.cos(4 * np.pi * (hours - second) / 24)
    else:
        opens, length = rng.uniform(0, 24), rng.uniform(8, 12)
        since = (hours - opens) % 24
        shape = 1 / (1 + np.exp(-since)) - 1 / (1 + np.exp(-(since - length)))
    shape = shape - shape.mean()
    return amplitude * shape / np.abs(shape).max()


def weekly_shape(drop: float) -> Floats:
    """7 values (Monday first) of mean zero: Saturday and Sunday `drop` below the weekdays."""
    shape = np.where(np.arange(7) >= 5, -drop, 0.0)
    return shape - shape.mean()


def noise(rng: np.random.Generator, n: int, sd: float, phi: float) -> Floats:
    """`n` values of AR(1) noise with coefficient `phi` and marginal sd `sd` (iid when phi = 0).

    It starts from its stationary distribution, so every value has the same sd.
    """
    shocks = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    if n:
        shocks[0] = rng.normal(0.0, sd)
    return np.asarray(sps.lfilter([1.0], [1.0, -phi], shocks), dtype=np.float64)


def draw_anomaly(rng: np.random.Generator, kind: str, at: int) -> Anomaly:
    """An anomaly of `kind` from hour `at`, its length and size drawn from the ranges above."""
    if kind in ("spike", "dip"):
        size = rng.uniform(*SPIKE_SDS)
        return Anomaly(kind, at, 1, size if kind == "spike" else -size)
    if kind == "level_shift":
        sign = rng.choice([-1.0, 1.0])
        hours = int(rng.integers(SHIFT_HOURS[0], SHIFT_HOURS[1] + 1))
        return Anomaly(kind, at, hours, float(sign * rng.uniform(*SHIFT_SDS)))
    if kind == "variance_burst":
        hours = int(rng.integers(BURST_HOURS[0], BURST_HOURS[1] + 1))
        return Anomaly(kind, at, hours, float(rng.uniform(*BURST_FACTOR)))
    raise ValueError(f"unknown anomaly kind {kind!r}; expected one of {KINDS}")


def place_anomalies(
    rng: np.random.Generator, hours: int, kinds: tuple[str, ...], count: int
) -> tuple[Anomaly, ...]:
    """Up to `count` non-overlapping anomalies within `hours` buckets, _GAP_HOURS apart.

    Each event's kind is drawn from `kinds`; an event that finds no free place in a few tries is
    left out, so the result may hold fewer.
    """
    taken = np.zeros(hours, dtype=bool)
    placed: list[Anomaly] = []
    for _ in range(count if kinds else 0):
        kind = str(rng.choice(kinds))
        for _try in range(20):
            anomaly = draw_anomaly(rng, kind, 0)
            if anomaly.hours > hours:
                break
            at = int(rng.integers(0, hours - anomaly.hours + 1))
            around = slice(max(0, at - _GAP_HOURS), at + anomaly.hours + _GAP_HOURS)
            if not taken[around].any():
                taken[at : at + anomaly.hours] = True
                placed.append(Anomaly(anomaly.kind, at, anomaly.hours, anomaly.size))
                break
    return tuple(sorted(placed, key=lambda a: a.at))


def draw_truth(rng: np.random.Generator, recipe: Recipe, name: str) -> SeriesTruth:
    """One series' parameters, drawn within the ranges of this module and the recipe."""
    hours = recipe.days * 24
    sd = float(np.exp(rng.uniform(*np.log(NOISE_SD_RANGE))))
    change = rng.uniform(*recipe.trend_sds) * rng.choice([-1.0, 1.0])
    shape = daily_shape(rng, rng.uniform(*DAILY_SDS) * sd) if recipe.daily else np.zeros(24)
    weekly = weekly_shape(rng.uniform(*WEEKLY_SDS) * sd) if recipe.weekly else None
    return SeriesTruth(
        name=name,
        tags=json.dumps({"series": name}, separators=(",", ":")),
        start=recipe.start,
        hours=hours,
        level=float(rng.uniform(*LEVEL_SDS) * sd),
        slope=float(change * sd / hours),
        daily_shape=tuple(float(v) for v in shape),
        weekly_shape=None if weekly is None else tuple(float(v) for v in weekly),
        noise_sd=sd,
        phi=float(rng.uniform(*recipe.phi)),
        anomalies=place_anomalies(rng, hours, recipe.kinds, recipe.anomalies),
    )


def realize(
    rng: np.random.Generator, truth: SeriesTruth
) -> tuple[Floats, Floats, list[str | None]]:
    """The series' clean values (signal plus noise), its values with anomalies, and the kinds."""
    clean = truth.signal() + noise(rng, truth.hours, truth.noise_sd, truth.phi)
    values = clean.copy()
    kinds: list[str | None] = [None] * truth.hours
    for anomaly in truth.anomalies:
        window = slice(anomaly.at, anomaly.at + anomaly.hours)
        if anomaly.kind == "variance_burst":
            extra = truth.noise_sd * np.sqrt(anomaly.size**2 - 1)
            values[window] += rng.normal(0.0, extra, anomaly.hours)
        else:
            values[window] += anomaly.size * truth.noise_sd
        kinds[window] = [anomaly.kind] * anomaly.hours
    return clean, values, kinds


def generate(recipe: Recipe, seed: int, count: int = 1, prefix: str = "series") -> LabelledSeries:
    """`count` series of `recipe`, named `{prefix}_{i:04d}`, each from its own spawned Generator."""
    frames, labels, truths = [], [], {}
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(count)):
        rng = np.random.default_rng(child)
        truth = draw_truth(rng, recipe, f"{prefix}_{i:04d}")
        clean, values, kinds = realize(rng, truth)
        buckets = pl.datetime_range(
            truth.start,
            truth.start + timedelta(hours=truth.hours - 1),
            "1h",
            time_unit="us",
            time_zone="UTC",
            eager=True,
        ).alias("bucket")
        key = pl.DataFrame([buckets]).with_columns(name=pl.lit(truth.name), tags=pl.lit(truth.tags))
        frames.append(key.with_columns(mean=pl.Series(values)))
        labels.append(
            key.with_columns(
                signal=pl.Series(truth.signal()),
                clean=pl.Series(clean),
                kind=pl.Series(kinds, dtype=pl.String),
            ).with_columns(is_anomaly=pl.col("kind").is_not_null())
        )
        truths[truth.name] = truth
    return LabelledSeries(_concat(frames, _FRAME), _concat(labels, _LABELS), truths)


_KEY: list[tuple[str, pl.DataType]] = [
    ("bucket", pl.Datetime("us", "UTC")),
    ("name", pl.String()),
    ("tags", pl.String()),
]
_FRAME = pl.Schema([*_KEY, ("mean", pl.Float64())])
_LABELS = pl.Schema(
    [
        *_KEY,
        ("signal", pl.Float64()),
        ("clean", pl.Float64()),
        ("kind", pl.String()),
        ("is_anomaly", pl.Boolean()),
    ]
)


def _concat(frames: list[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
    return pl.concat(frames).cast(schema) if frames else pl.DataFrame(schema=schema)
