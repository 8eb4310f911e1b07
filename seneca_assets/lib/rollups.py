"""Rollups of metric series into hourly, daily and monthly buckets, each tier from the one below.

A rollup row holds one series (`name`, `tags`) in one bucket with statistics that merge exactly:
`count`, `sum`, `min`, `max`, `mean`, the sum of squared deviations `m2` (combined with Chan's
formula, so variance stays right across tiers), the `first` and `last` values with their times,
and a quantile sketch (`lib.sketch`) from which p50, p90, p95 and p99 are read within 1%.
Hourly rows come from raw points; daily rows only from hourly rows and monthly rows only from
daily rows, so each tier outlives the raw data and the tier below it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from seneca_assets.lib import sketch as S
from seneca_assets.lib.segments import first_where, run_lengths, run_starts

SERIES = ("name", "tags")
"""The columns that identify a series."""
PERCENTILES = (0.5, 0.9, 0.95, 0.99)
GRAINS = {"hourly": "1h", "daily": "1d", "monthly": "1mo"}
"""Each tier's bucket width, as a Polars duration; buckets start at UTC boundaries."""


_BIN_BITS = 19
_BIN_SHIFT = 1 << (_BIN_BITS - 1)
"""A key packs a group number above `_BIN_BITS` bits of shifted sketch bin (|bin| < 2**17)."""
_GROUP_LIMIT = 1 << (62 - _BIN_BITS)
_US_PER_HOUR = 3_600_000_000


def from_points(points: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll raw points (`timestamp`, `name`, `tags`, `value`, `unit`) into buckets of `every`.

    Points without a finite value are left out. A run of whole buckets at a time, the points are
    sorted once by bucket, series and sketch bin; every statistic is then a reduction over runs
    of that order, so the same points give the same rollup.
    """
    frame = (
        points.lazy()
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .select(
            _SERIES_KEY,
            "value",
            unit=pl.col("unit").cast(pl.Categorical),
            hour=_hour(pl.col("timestamp").dt.truncate(every)),
            at=pl.col("timestamp").dt.epoch("us"),
            bin=S.bins(pl.col("value")).cast(pl.Int64),
        )
        .collect(engine="streaming")
    )
    group, names, first_hour = _groups(frame)
    group <<= _BIN_BITS
    group += frame.get_column("bin").to_numpy()
    group += _BIN_SHIFT
    columns = (
        group,
        frame.get_column("value").to_numpy(),
        frame.get_column("at").to_numpy(),
        frame.get_column("unit").is_not_null().to_numpy(),
    )
    parts = [
        _rolled(frame, columns, rows, (names, first_hour))
        for rows in _hour_chunks(frame.get_column("hour").to_numpy() - first_hour)
    ]
    return pl.concat(parts) if len(parts) > 1 else parts[0]


CHUNK_POINTS = 1 << 21
"""Points rolled up at a time: a run of whole buckets, so memory stays bounded and is reused."""


def _hour_chunks(hours: np.ndarray) -> list[np.ndarray]:
    """Row numbers in runs of whole hours of at most CHUNK_POINTS rows (or one hour), in order.

    Rows keep the order they were read in within an hour. Hours are counted from 0.
    """
    if hours.size == 0:
        return [hours.astype(np.int64)]
    if hours.max() < 1 << 16:
        by_hour = np.argsort(hours.astype(np.uint16), kind="stable")  # a radix sort
    else:
        by_hour = _order(pl.DataFrame({"hour": hours}))
    ends = np.cumsum(np.bincount(hours))
    chunks, start, limit = [], 0, CHUNK_POINTS
    for end in ends:
        if end - start >= limit or end == ends[-1]:
            chunks.append(by_hour[start:end])
            start = int(end)
    return [c for c in chunks if c.size] or [by_hour[:0]]


def _rolled(
    frame: pl.DataFrame,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    series: tuple[pl.DataFrame, int],
) -> pl.DataFrame:
    """The rollup rows of the points `rows` (whole buckets), sorted once by key."""
    keys, values, times, has_unit = columns
    order = rows[_order(pl.DataFrame({"key": keys[rows]}))]
    keys, value, at = keys[order], values[order], times[order]
    starts = run_starts(keys >> _BIN_BITS)
    count = run_lengths(starts, keys.size)
    total = _reduce(np.add, value, starts)
    deviation = value - np.repeat(total / np.maximum(count, 1), count)
    first_at, last_at = _reduce(np.minimum, at, starts), _reduce(np.maximum, at, starts)
    stats = {
        "count": count,
        "sum": total,
        "min": _reduce(np.minimum, value, starts),
        "max": _reduce(np.maximum, value, starts),
        "m2": _reduce(np.add, deviation * deviation, starts),
        # Ties in time go to the smaller value first: sketch bins order values.
        "first": value[first_where(at == np.repeat(first_at, count), starts)],
        "last": value[first_where(at == np.repeat(last_at, count), starts, last=True)],
        "first_at": first_at,
        "last_at": last_at,
    }
    unit_rows = np.where(has_unit[order], order, -1)
    return _assemble(
        keys[starts] >> _BIN_BITS,
        series,
        stats,
        _units(frame, _first_valid(unit_rows, starts)),
        _sketch_columns(keys, None),
    )


def from_tier(rows: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll rollup rows into buckets of `every`, merging their statistics exactly.

    The rows may overlap in time: rows of several tag sets given one `tags` merge into one
    series. As with points, in a tie of time `first` is the smaller value and `last` the larger.
    """
    frame = (
        rows.lazy()
        .select(
            _SERIES_KEY,
            "count",
            "sum",
            "min",
            "max",
            "m2",
            "first",
            "last",
            "sketch",
            unit=pl.col("unit").cast(pl.Categorical),
            hour=_hour(pl.col("bucket").dt.truncate(every)),
            fine=pl.col("bucket").dt.epoch("us"),
            first_at=pl.col("first_at").dt.epoch("us"),
            last_at=pl.col("last_at").dt.epoch("us"),
        )
        .collect()
    )
    group, names, first_hour = _groups(frame)
    order = _order(pl.DataFrame({"group": group, "fine": frame.get_column("fine")}))
    starts = run_starts(group[order])
    column = {c: frame.get_column(c).to_numpy()[order] for c in _TIER_COLUMNS}
    count, total = _reduce(np.add, column["count"], starts), _reduce(np.add, column["sum"], starts)
    lengths = run_lengths(starts, order.size)
    overall = np.repeat(total / np.maximum(count, 1), lengths)
    # Chan et al.: the squared deviations of the parts plus those of their means.
    spread = column["count"] * (column["sum"] / column["count"] - overall) ** 2
    first_at = _reduce(np.minimum, column["first_at"], starts)
    last_at = _reduce(np.maximum, column["last_at"], starts)
    earliest = column["first_at"] == np.repeat(first_at, lengths)
    latest = column["last_at"] == np.repeat(last_at, lengths)
    stats = {
        "count": count,
        "sum": total,
        "min": _reduce(np.minimum, column["min"], starts),
        "max": _reduce(np.maximum, column["max"], starts),
        "m2": _reduce(np.add, column["m2"], starts) + _reduce(np.add, spread, starts),
        "first": _reduce(np.minimum, np.where(earliest, column["first"], np.inf), starts),
        "last": _reduce(np.maximum, np.where(latest, column["last"], -np.inf), starts),
        "first_at": first_at,
        "last_at": last_at,
    }
    unit_rows = np.where(frame.get_column("unit").is_not_null().to_numpy()[order], order, -1)
    offsets, bins, weights = S.flat(frame.get_column("sketch"))
    keys = (np.repeat(group, np.diff(offsets)) << _BIN_BITS) | (bins.astype(np.int64) + _BIN_SHIFT)
    by_key = _order(pl.DataFrame({"key": keys}))
    return _assemble(
        group[order][starts],
        (names, first_hour),
        stats,
        _units(frame, _first_valid(unit_rows, starts)),
        _sketch_columns(keys[by_key], weights[by_key]),
    )


_TIER_COLUMNS = ("count", "sum", "min", "max", "m2", "first", "last", "first_at", "last_at")


def _hour(bucket: pl.Expr) -> pl.Expr:
    """The hour since the epoch at which a bucket starts (every grain starts on an hour)."""
    return bucket.dt.epoch("us") // _US_PER_HOUR


def _groups(frame: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame, int]:
    """One number per row for its bucket and series, ordered by bucket then name then tags.

    Returns the numbers, the series (`name`, `tags`) by series number, and the first hour.
    """
    series, names = _series_numbers(frame)
    hours = frame.get_column("hour").to_numpy()
    first_hour = int(hours.min()) if hours.size else 0
    spread = (int(hours.max()) - first_hour + 1) * max(names.height, 1) if hours.size else 0
    if spread >= _GROUP_LIMIT:
        raise ValueError(f"too many buckets times series ({spread:,}) for one rollup; split it")
    group = hours - first_hour  # in place from here: large arrays are costly to allocate
    group *= max(names.height, 1)
    group += series
    return group, names, first_hour


_SERIES_KEY = pl.concat_str("tags", pl.lit("\x00"), "name").cast(pl.Categorical).alias("series")
"""One categorical for a series' tags and name: JSON text holds no raw NUL, so it splits back."""


def _series_numbers(frame: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    """Each row's series number, and the series (`name`, `tags`) in number order.

    Numbers follow name then tags. The strings were hashed once each into a categorical
    (`_SERIES_KEY`); a join with the distinct series costs about three times as much.
    """
    keys = frame.get_column("series")
    codes = keys.to_physical().to_numpy()
    distinct = keys.unique()
    names = (
        distinct.cast(pl.String)
        .str.splitn("\x00", 2)
        .struct.rename_fields(["tags", "name"])
        .struct.unnest()
        .with_columns(code=distinct.to_physical())
        .sort(SERIES)
    )
    number = np.zeros(int(codes.max()) + 1 if codes.size else 0, dtype=np.int64)
    number[names.get_column("code").to_numpy()] = np.arange(names.height)
    return number[codes], names.select(SERIES)


def _order(keys: pl.DataFrame) -> np.ndarray:
    """The stable sort order of the rows of `keys` by all its columns (ties keep row order)."""
    order = keys.select(pl.arg_sort_by(keys.columns, maintain_order=True)).to_series()
    return order.to_numpy().astype(np.int64, copy=False)


def _reduce(ufunc: np.ufunc, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`ufunc` over each run of `values`, the runs starting at `starts`."""
    return ufunc.reduceat(values, starts) if starts.size else values[:0]


def _first_valid(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run, the smallest non-negative entry of `rows` (-1 where the run has none)."""
    marked = np.where(rows < 0, np.iinfo(np.int64).max, rows)
    first = _reduce(np.minimum, marked, starts)
    return np.where(first == np.iinfo(np.int64).max, -1, first)


def _units(frame: pl.DataFrame, rows: np.ndarray) -> pl.Series:
    """The unit of each output row, read from the input row `rows` names (null for -1)."""
    if frame.is_empty():
        return pl.Series("unit", [None] * rows.size, dtype=pl.String)
    units = frame.get_column("unit").gather(np.maximum(rows, 0)).cast(pl.String)
    return units.scatter(np.flatnonzero(rows < 0), None)


def _sketch_columns(keys: np.ndarray, weights: np.ndarray | None) -> dict[str, pl.Series]:
    """The sketch and percentile columns of each group, from keys sorted by group then bin.

    Each key stands for `weights` values of its bin (one, without weights).
    """
    bin_starts = run_starts(keys)
    if weights is None:
        counts = run_lengths(bin_starts, keys.size)
    else:
        counts = _reduce(np.add, weights, bin_starts)
    bins = keys[bin_starts]
    offsets = np.append(run_starts(bins >> _BIN_BITS), bin_starts.size)
    bins &= (1 << _BIN_BITS) - 1
    bins -= _BIN_SHIFT
    found = S.quantile_bins(offsets, counts, PERCENTILES)
    return {
        "sketch": S.packed(offsets, bins, counts),
        **{name: pl.Series(name, S.values_of(bins[at])) for name, at in found.items()},
    }


def _assemble(
    groups: np.ndarray,
    series: tuple[pl.DataFrame, int],
    stats: dict[str, np.ndarray],
    units: pl.Series,
    sketches: dict[str, pl.Series],
) -> pl.DataFrame:
    """Rollup rows in the gold tables' column order from per-group arrays, in group order."""
    names, first_hour = series
    width = max(names.height, 1)
    hours = groups // width + first_hour
    at = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        [
            pl.Series("bucket", hours * _US_PER_HOUR).cast(at),
            *names[groups % width].get_columns(),
            units.alias("unit"),
            pl.Series("count", stats["count"], dtype=pl.Int64),
            *(pl.Series(c, stats[c], dtype=pl.Float64) for c in ("sum", "min", "max")),
            pl.Series("mean", stats["sum"] / np.maximum(stats["count"], 1), dtype=pl.Float64),
            *(pl.Series(c, stats[c], dtype=pl.Float64) for c in ("m2", "first", "last")),
            pl.Series("first_at", stats["first_at"]).cast(at),
            pl.Series("last_at", stats["last_at"]).cast(at),
            *sketches.values(),
        ]
    ).select(_COLUMNS)


_COLUMNS = [
    "bucket", *SERIES, "unit", "count", "sum", "min", "max", "mean", "m2", "first", "last",
    "first_at", "last_at", "sketch", *(S._name(q) for q in PERCENTILES),
]  # fmt: skip
"""The column order of rollup rows (that of the gold tables)."""


def variance(rows: pl.DataFrame) -> pl.Series:
    """The sample variance of each row's series in its bucket (null for a single point)."""
    return rows.select(
        pl.when(pl.col("count") > 1).then(pl.col("m2") / (pl.col("count") - 1))
    ).to_series()


ACTIVITY_KINDS = (
    "messages",
    "tasks_assigned",
    "tasks_completed",
    "blockers",
    "tool_calls",
    "tool_errors",
    "active_minutes",
)
"""What the activity rollups count per agent and bucket."""


def activity_from_silver(
    messages: pl.DataFrame | pl.LazyFrame,
    system_events: pl.DataFrame | pl.LazyFrame,
    every: str,
) -> pl.DataFrame:
    """Count each agent's activity per bucket and kind, from silver messages and system events.

    Rows are `bucket`, `agent_id`, `kind` (one of ACTIVITY_KINDS) and `count`. An agent's
    messages are the worker communications it sent; its tool calls (and tool errors: an
    exception, or a result that said it failed) are the audit records it made; its active
    minutes are the distinct minutes with any of these.
    """
    said = (
        messages.lazy()
        .filter((pl.col("kind") == "worker_communication") & pl.col("agent_id").is_not_null())
        .select("event_time", "agent_id", "intent", "sender")
    )
    calls = (
        system_events.lazy()
        .filter(
            (pl.col("stream") == "audit")
            & (pl.col("event_type") == "tool_call")
            & pl.col("actor").is_not_null()
        )
        .select(
            "event_time",
            agent_id="actor",
            failed=(~pl.col("success").fill_null(True)) | ~pl.col("result_success").fill_null(True),
        )
    )
    bucket = pl.col("event_time").dt.truncate(every).alias("bucket")
    counted = [
        said.filter(pl.col("sender") == pl.col("agent_id")).select(
            bucket, "agent_id", kind=pl.lit("messages")
        ),
        said.filter(pl.col("intent") == "assignment").select(
            bucket, "agent_id", kind=pl.lit("tasks_assigned")
        ),
        said.filter(pl.col("intent") == "completion").select(
            bucket, "agent_id", kind=pl.lit("tasks_completed")
        ),
        said.filter(pl.col("intent") == "blocker").select(
            bucket, "agent_id", kind=pl.lit("blockers")
        ),
        calls.select(bucket, "agent_id", kind=pl.lit("tool_calls")),
        calls.filter("failed").select(bucket, "agent_id", kind=pl.lit("tool_errors")),
    ]
    events = (
        pl.concat(counted).group_by("bucket", "agent_id", "kind").agg(count=pl.len().cast(pl.Int64))
    )
    minutes = (
        pl.concat(
            [
                said.filter(pl.col("sender") == pl.col("agent_id")).select(
                    "event_time", "agent_id"
                ),
                calls.select("event_time", "agent_id"),
            ]
        )
        .select(bucket, "agent_id", minute=pl.col("event_time").dt.truncate("1m"))
        .group_by("bucket", "agent_id")
        .agg(count=pl.col("minute").n_unique().cast(pl.Int64))
        .with_columns(kind=pl.lit("active_minutes"))
    )
    return (
        pl.concat([events, minutes.select("bucket", "agent_id", "kind", "count")])
        .sort("bucket", "agent_id", "kind")
        .collect()
    )


def activity_from_tier(rows: pl.DataFrame | pl.LazyFrame, every: str) -> pl.DataFrame:
    """Roll activity rows of a finer tier into buckets of `every` (counts add up)."""
    return (
        rows.lazy()
        .group_by(pl.col("bucket").dt.truncate(every), "agent_id", "kind")
        .agg(count=pl.col("count").sum())
        .sort("bucket", "agent_id", "kind")
        .collect()
    )


def stale_buckets(
    points: pl.DataFrame | pl.LazyFrame, rows: pl.DataFrame | pl.LazyFrame, every: str
) -> pl.Series:
    """The buckets whose raw points no longer agree with their rollup rows.

    Each bucket is fingerprinted by its number of valued points and the sum of their values, on
    both sides: a bucket is stale when a point was added, removed or changed since it was rolled
    up, or when it has points but no rollup (and the other way round).
    """
    raw = (
        points.lazy()
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .group_by(bucket=pl.col("timestamp").dt.truncate(every))
        .agg(raw_count=pl.len().cast(pl.Int64), raw_sum=pl.col("value").sum())
    )
    rolled = (
        rows.lazy()
        .group_by("bucket")
        .agg(rolled_count=pl.col("count").sum(), rolled_sum=pl.col("sum").sum())
    )
    both = raw.join(rolled, on="bucket", how="full", coalesce=True)
    differs = (pl.col("raw_count").fill_null(0) != pl.col("rolled_count").fill_null(0)) | (
        (pl.col("raw_sum").fill_null(0.0) - pl.col("rolled_sum").fill_null(0.0)).abs()
        > 1e-9 * pl.max_horizontal(pl.col("raw_sum").abs(), pl.col("rolled_sum").abs(), pl.lit(1.0))
    )
    return both.filter(differs).select("bucket").sort("bucket").collect().to_series()
