"""Mergeable quantile sketches with a relative-error guarantee, in the manner of DDSketch.

A value `v` falls in the logarithmic bucket `k = ceil(log_gamma(|v|))`, with
`gamma = (1 + ALPHA) / (1 - ALPHA)`: every value in a bucket is within ALPHA (1%) of the bucket's
representative `2 gamma^k / (gamma + 1)`, so any quantile read from the sketch is within 1% of
the true value at that rank. Values closer to zero than MIN_MAGNITUDE count as zero.

One signed integer `bin` orders every value: negative values below zero, zero at 0, positive
values above (`bin = sign(v) * (k + BIN_OFFSET)`). A sketch is a list of `{bin, count}` sorted by
bin, so merging sketches (across hours, days, tag sets) is summing counts per bin: the merge of
sketches is exactly the sketch of the union. Everything here is vectorized Polars over many series
at once; `by` names the columns that identify a series (a bucket, a metric name, its tags).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from seneca_assets.lib.segments import run_starts

ALPHA = 0.01
"""Relative accuracy of every quantile read from a sketch."""
GAMMA = (1 + ALPHA) / (1 - ALPHA)
MIN_MAGNITUDE = 1e-9
"""Values of smaller magnitude are counted as zero."""
BIN_OFFSET = 1 << 16
"""Added to the bucket index of a non-zero value so that its bin never reaches zero
(`log_gamma(MIN_MAGNITUDE)` is about -1,036; `log_gamma(1e308)` about 35,600)."""

Bin = pl.Struct({"bin": pl.Int32, "count": pl.Int64})
SKETCH = pl.List(Bin)
"""The type of a sketch column."""

_LOG_GAMMA = math.log(GAMMA)


def bins(value: pl.Expr) -> pl.Expr:
    """The bin of each value (null for null or non-finite values)."""
    magnitude = value.abs()
    indexable = value.is_finite() & (magnitude >= MIN_MAGNITUDE)
    safe = pl.when(indexable).then(magnitude).otherwise(1.0)  # the others are not indexed
    bucket = (safe.log() / _LOG_GAMMA).ceil().cast(pl.Int32) + BIN_OFFSET
    return (
        pl.when(value.is_null() | ~value.is_finite())
        .then(None)
        .when(magnitude < MIN_MAGNITUDE)
        .then(0)
        .when(value > 0)
        .then(bucket)
        .otherwise(-bucket)
        .cast(pl.Int32)
    )


def values_of(bins_: np.ndarray) -> np.ndarray:
    """The value each bin stands for: within ALPHA of every value in it."""
    bucket = np.abs(bins_).astype(np.float64) - BIN_OFFSET
    magnitude = 2 * np.exp(bucket * _LOG_GAMMA) / (GAMMA + 1)
    return np.where(bins_ == 0, 0.0, np.sign(bins_) * magnitude)


def packed(offsets: np.ndarray, bins_: np.ndarray, counts_: np.ndarray) -> pl.Series:
    """A sketch column from flat bin counts: sketch i holds bins[offsets[i]:offsets[i + 1]]."""
    pairs = pa.StructArray.from_arrays(
        [pa.array(bins_.astype(np.int32)), pa.array(counts_.astype(np.int64))], ["bin", "count"]
    )
    lists = pa.LargeListArray.from_arrays(pa.array(offsets.astype(np.int64)), pairs)
    return pl.Series("sketch", lists)


def flat(sketches: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The offsets, bins and counts of a sketch column (the inverse of `packed`)."""
    lists = sketches.rechunk().to_arrow()
    lengths = lists.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    pairs = lists.flatten()
    bins_ = pairs.field("bin").to_numpy(zero_copy_only=False)
    return np.concatenate(([0], np.cumsum(lengths))), bins_, pairs.field("count").to_numpy()


def quantile_bins(
    offsets: np.ndarray, counts_: np.ndarray, qs: Sequence[float]
) -> dict[str, np.ndarray]:
    """The bin holding each quantile of each sketch, from flat bin counts (see `packed`).

    The quantile q of n values is the value of rank `floor(q * (n - 1))` (0-based, numpy's
    "lower" method). The running total of the counts only grows, so each is one binary search.
    Every sketch must hold at least one bin.
    """
    for q in qs:
        if not 0 <= q <= 1:
            raise ValueError(f"a quantile must be within [0, 1], not {q}")
    running = np.cumsum(counts_)
    starts = offsets[:-1]
    before = running[starts] - counts_[starts] if starts.size else starts
    totals = running[offsets[1:] - 1] - before if starts.size else starts
    return {
        _name(q): np.searchsorted(running, before + (q * (totals - 1)).astype(np.int64), "right")
        for q in qs
    }


def counts(frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], value: str) -> pl.LazyFrame:
    """How many values of each series fall in each bin: `by`, `bin`, `count`, sorted."""
    return (
        frame.lazy()
        .select(*by, bin=bins(pl.col(value)))
        .drop_nulls("bin")
        .group_by([*by, "bin"])
        .agg(count=pl.len().cast(pl.Int64))
        .sort([*by, "bin"])
    )


def merged_counts(
    frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], column: str = "sketch"
) -> pl.LazyFrame:
    """The bin counts of the sketches of `column` that share a series of `by`, summed, sorted."""
    return (
        _bins_of(frame, by, column)
        .group_by([*by, "bin"])
        .agg(count=pl.col("count").sum())
        .sort([*by, "bin"])
    )


def pack(counted: pl.LazyFrame | pl.DataFrame, by: Sequence[str]) -> pl.LazyFrame:
    """From sorted bin counts (`counts`, `merged_counts`) to one sketch per series."""
    return (
        counted.lazy()
        .group_by(list(by), maintain_order=True)
        .agg(sketch=pl.struct("bin", "count"))
        .with_columns(pl.col("sketch").cast(SKETCH))
    )


def sketch(frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], value: str) -> pl.LazyFrame:
    """One sketch per series of `frame` from its raw `value` column (nulls are left out)."""
    return pack(counts(frame, by, value), by)


def merge(
    frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], column: str = "sketch"
) -> pl.LazyFrame:
    """One sketch per series of `by`, merging the sketches of `column` that share it."""
    return pack(merged_counts(frame, by, column), by)


def _bins_of(frame: pl.LazyFrame | pl.DataFrame, by: Sequence[str], column: str) -> pl.LazyFrame:
    return (
        frame.lazy()
        .select(*by, pl.col(column).alias("_bins"))
        .explode("_bins")
        .drop_nulls("_bins")
        .unnest("_bins")
    )


def quantiles(
    frame: pl.LazyFrame | pl.DataFrame,
    by: Sequence[str],
    qs: Sequence[float],
    column: str = "sketch",
) -> pl.LazyFrame:
    """The quantiles `qs` of each series' sketch, as columns `p50`, `p95`, ... (`by` kept).

    The quantile q of n values is the value of rank `floor(q * (n - 1))` (0-based, numpy's
    "lower" method), read within ALPHA of its true value.
    """
    return quantiles_of_counts(_bins_of(frame, by, column), by, qs)


def quantiles_of_counts(
    counted: pl.LazyFrame | pl.DataFrame, by: Sequence[str], qs: Sequence[float]
) -> pl.LazyFrame:
    """`quantiles` read from bin counts sorted by series then bin (`counts`, `merged_counts`).

    The running total of the counts over the whole frame only grows, so the bin holding each
    series' rank is found by one binary search per series and quantile.
    """
    frame = counted.collect() if isinstance(counted, pl.LazyFrame) else counted
    starts = run_starts(frame.select(pl.struct(list(by)).rle_id()).to_series().to_numpy())
    series = frame.select(by).gather(starts)
    offsets = np.append(starts, frame.height).astype(np.int64)
    bins_ = frame.get_column("bin").to_numpy()
    found = quantile_bins(offsets, frame.get_column("count").to_numpy(), qs)
    values = pl.DataFrame({name: values_of(bins_[rows]) for name, rows in found.items()})
    return pl.concat([series, values], how="horizontal").lazy()


def _name(q: float) -> str:
    """`p50`, `p95`, `p99.9`: the column of quantile q."""
    return f"p{100 * q:g}"
