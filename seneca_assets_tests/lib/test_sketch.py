"""Quantile sketches: within 1% of numpy's exact quantiles, and merges equal to the union's."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib import sketch as S

QS = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
N = 50_000


def _data(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "lognormal":
        return rng.lognormal(5.5, 1.4, N)
    if kind == "bimodal":
        return np.concatenate([rng.normal(20, 2, N // 2), rng.normal(2_000, 150, N // 2)])
    if kind == "constant":
        return np.full(N, 243.0)
    if kind == "zero_heavy":
        values = rng.lognormal(1, 2, N)
        values[rng.random(N) < 0.8] = 0.0
        return values
    if kind == "negative":
        return rng.normal(-50, 40, N)
    if kind == "tiny_and_huge":
        return np.concatenate([rng.uniform(1e-6, 1e-3, N // 2), rng.uniform(1e12, 1e15, N // 2)])
    raise AssertionError(kind)


KINDS = ("lognormal", "bimodal", "constant", "zero_heavy", "negative", "tiny_and_huge")


def _assert_close(estimated: float, exact: float) -> None:
    if abs(exact) < S.MIN_MAGNITUDE:
        assert estimated == 0.0
    else:
        assert abs(estimated - exact) <= S.ALPHA * abs(exact), (estimated, exact)


@pytest.mark.parametrize("kind", KINDS)
def test_quantiles_are_within_one_percent_of_exact(kind: str):
    values = _data(kind, np.random.default_rng(7))
    sketches = S.sketch(pl.DataFrame({"series": kind, "value": values}), ["series"], "value")
    read = S.quantiles(sketches, ["series"], QS).collect().row(0, named=True)
    for q in QS:
        _assert_close(read[S._name(q)], float(np.quantile(values, q, method="lower")))


def test_a_sketch_counts_every_value_once_and_skips_missing_ones():
    frame = pl.DataFrame({"s": "a", "v": [1.0, 2.0, None, float("nan"), float("inf"), 0.0, -3.0]})
    (sketch,) = S.sketch(frame, ["s"], "v").collect().get_column("sketch").to_list()
    assert sum(b["count"] for b in sketch) == 4
    bins = [b["bin"] for b in sketch]
    assert bins == sorted(bins) and bins[0] < 0 and 0 in bins


def test_merging_sketches_equals_the_sketch_of_the_union():
    rng = np.random.default_rng(3)
    values = np.concatenate([_data(kind, rng) for kind in ("lognormal", "negative", "zero_heavy")])
    hours = rng.integers(0, 24, values.size)
    frame = pl.DataFrame({"series": "x", "hour": hours, "value": values})
    hourly = S.sketch(frame, ["series", "hour"], "value")
    merged = S.merge(hourly, ["series"]).collect()
    whole = S.sketch(frame, ["series"], "value").collect()
    assert merged.equals(whole)
    # Merging again, in a different grouping, changes nothing.
    twice = S.merge(
        S.merge(hourly.with_columns(half=pl.col("hour") // 12), ["series", "half"]), ["series"]
    )
    assert twice.collect().equals(whole)


def test_many_series_at_once_each_read_alone():
    rng = np.random.default_rng(11)
    parts = {kind: _data(kind, rng) for kind in KINDS}
    frame = pl.concat(
        pl.DataFrame({"series": kind, "value": values}) for kind, values in parts.items()
    )
    read = S.quantiles(S.sketch(frame, ["series"], "value"), ["series"], (0.5, 0.95)).collect()
    for row in read.iter_rows(named=True):
        values = parts[row["series"]]
        _assert_close(row["p50"], float(np.quantile(values, 0.5, method="lower")))
        _assert_close(row["p95"], float(np.quantile(values, 0.95, method="lower")))


def test_a_quantile_outside_zero_to_one_is_refused():
    frame = S.sketch(pl.DataFrame({"s": "a", "v": [1.0]}), ["s"], "v")
    with pytest.raises(ValueError, match="within \\[0, 1\\]"):
        S.quantiles(frame, ["s"], [1.5])
