"""The labelled-series generator: its labels are true to what it generated, and a seed fixes it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.simulate_series import (
    BURST_FACTOR,
    BURST_HOURS,
    KINDS,
    SHIFT_HOURS,
    SHIFT_SDS,
    SPIKE_SDS,
    LabelledSeries,
    Recipe,
    generate,
)

ANOMALOUS = Recipe(days=14, kinds=KINDS, anomalies=6)


@pytest.fixture(scope="module")
def anomalous() -> LabelledSeries:
    return generate(ANOMALOUS, seed=3, count=40)


def _values(series: LabelledSeries, name: str, column: str = "mean") -> np.ndarray:
    frame = series.frame if column == "mean" else series.labels
    return frame.filter(pl.col("name") == name).sort("bucket").get_column(column).to_numpy()


def test_the_frame_has_the_rollup_shape_an_hour_a_row(anomalous: LabelledSeries):
    assert anomalous.frame.schema == pl.Schema(
        {
            "bucket": pl.Datetime("us", "UTC"),
            "name": pl.String,
            "tags": pl.String,
            "mean": pl.Float64,
        }
    )
    for (name,), rows in anomalous.frame.group_by(["name"]):
        truth = anomalous.truths[str(name)]
        buckets = rows.sort("bucket").get_column("bucket")
        assert buckets.len() == truth.hours == ANOMALOUS.days * 24
        assert buckets[0] == truth.start
        assert (buckets.diff().drop_nulls() == timedelta(hours=1)).all()
        assert rows.get_column("tags").unique().to_list() == [truth.tags]
    assert anomalous.labels.select("name", "bucket").equals(
        anomalous.frame.select("name", "bucket")
    )


def test_the_same_seed_gives_the_same_series_and_another_seed_others():
    again = generate(ANOMALOUS, seed=3, count=3)
    assert again.frame.equals(generate(ANOMALOUS, seed=3, count=3).frame)
    assert again.labels.equals(generate(ANOMALOUS, seed=3, count=3).labels)
    other = generate(ANOMALOUS, seed=4, count=3)
    assert not np.allclose(again.frame.get_column("mean"), other.frame.get_column("mean"))


def test_a_clean_trendless_series_is_its_level_and_daily_shape_within_noise():
    plain = generate(Recipe(days=28), seed=5, count=5)
    for name, truth in plain.truths.items():
        values = _values(plain, name)
        assert truth.slope == 0 and truth.weekly_shape is None and not truth.anomalies
        assert np.allclose(values, _values(plain, name, "clean"))
        noise = values - truth.signal()
        assert abs(noise.mean()) < 4 * truth.noise_sd / np.sqrt(values.size)
        assert noise.std() == pytest.approx(truth.noise_sd, rel=0.1)
        by_hour = values.reshape(28, 24).mean(axis=0) - truth.level
        assert np.abs(by_hour - truth.daily_shape).max() < 4.5 * truth.noise_sd / np.sqrt(28)
        assert abs(np.mean(truth.daily_shape)) < 1e-9 * truth.noise_sd


def test_labelled_buckets_differ_from_the_clean_series_by_the_stated_amount(
    anomalous: LabelledSeries,
):
    burst_z = []
    for name, truth in anomalous.truths.items():
        values, clean = _values(anomalous, name), _values(anomalous, name, "clean")
        kinds = anomalous.labels.filter(pl.col("name") == name).sort("bucket").get_column("kind")
        expected_kinds = [None] * truth.hours
        for a in truth.anomalies:
            window = slice(a.at, a.at + a.hours)
            expected_kinds[window] = [a.kind] * a.hours
            moved = values[window] - clean[window]
            if a.kind == "variance_burst":
                burst_z += list(moved / (truth.noise_sd * np.sqrt(a.size**2 - 1)))
            else:
                assert np.allclose(moved, a.size * truth.noise_sd)
        assert kinds.to_list() == expected_kinds
        untouched = kinds.is_null().to_numpy()
        assert np.array_equal(values[untouched], clean[untouched])
    assert np.std(burst_z) == pytest.approx(1.0, abs=0.1)
    assert abs(np.mean(burst_z)) < 0.1


def test_anomalies_have_the_stated_kinds_sizes_and_lengths_and_do_not_overlap(
    anomalous: LabelledSeries,
):
    seen = set()
    for truth in anomalous.truths.values():
        ends = -1
        for a in truth.anomalies:
            seen.add(a.kind)
            assert a.at > ends and a.at + a.hours <= truth.hours
            ends = a.at + a.hours - 1
            if a.kind in ("spike", "dip"):
                assert a.hours == 1 and SPIKE_SDS[0] <= abs(a.size) <= SPIKE_SDS[1]
                assert (a.size > 0) == (a.kind == "spike")
            elif a.kind == "level_shift":
                assert SHIFT_HOURS[0] <= a.hours <= SHIFT_HOURS[1]
                assert SHIFT_SDS[0] <= abs(a.size) <= SHIFT_SDS[1]
            else:
                assert BURST_HOURS[0] <= a.hours <= BURST_HOURS[1]
                assert BURST_FACTOR[0] <= a.size <= BURST_FACTOR[1]
    assert seen == set(KINDS)
    labelled = anomalous.labels.get_column("is_anomaly").sum()
    assert labelled == sum(a.hours for t in anomalous.truths.values() for a in t.anomalies)


def test_the_trend_slope_is_recovered_by_least_squares():
    trending = generate(Recipe(days=28, trend_sds=(20.0, 40.0), phi=(0.3, 0.6)), 6, count=8)
    signs = set()
    for name, truth in trending.truths.items():
        values = _values(trending, name)
        without_shape = values - np.asarray(truth.daily_shape)[np.arange(values.size) % 24]
        slope = np.polyfit(np.arange(values.size), without_shape, 1)[0]
        total = truth.slope * truth.hours
        assert 20 * truth.noise_sd <= abs(total) <= 40 * truth.noise_sd
        assert slope * truth.hours == pytest.approx(total, abs=1.5 * truth.noise_sd)
        signs.add(np.sign(truth.slope))
    assert signs == {-1.0, 1.0}


def test_ar1_noise_has_the_stated_coefficient_and_sd():
    made = generate(Recipe(days=28, phi=(0.0, 0.7)), seed=7, count=12)
    for name, truth in made.truths.items():
        noise = _values(made, name) - truth.signal()
        lag1 = np.corrcoef(noise[:-1], noise[1:])[0, 1]
        assert lag1 == pytest.approx(truth.phi, abs=0.12)
        assert noise.std() == pytest.approx(truth.noise_sd, rel=0.25)
        assert truth.noise == ("iid" if truth.phi == 0 else "ar1")


def test_the_weekly_shape_lowers_weekends_by_the_stated_amount():
    made = generate(Recipe(days=28, weekly=True, daily=False), seed=8, count=4)
    for name, truth in made.truths.items():
        assert truth.weekly_shape is not None and not any(truth.daily_shape)
        frame = made.frame.filter(pl.col("name") == name)
        by_day = frame.group_by(pl.col("bucket").dt.weekday()).agg(pl.col("mean").mean())
        means = dict(by_day.iter_rows())
        observed = np.array([means[d] for d in range(1, 8)]) - truth.level
        tolerance = 5 * truth.noise_sd / np.sqrt(4 * 24)
        assert np.abs(observed - np.asarray(truth.weekly_shape)).max() < tolerance
        assert truth.weekly_shape[5] < truth.weekly_shape[0]


def test_no_series_is_an_empty_frame_of_the_same_shape():
    empty = generate(ANOMALOUS, seed=1, count=0)
    assert empty.frame.is_empty() and empty.labels.is_empty() and not empty.truths
    assert empty.frame.columns == ["bucket", "name", "tags", "mean"]
