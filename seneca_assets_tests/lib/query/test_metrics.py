"""`Lake.metrics`: the resolution `auto` picks, values that agree across resolutions, merged
percentiles, tag filters, result limits, and an unknown name."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seneca_assets.lib.config import QuerySettings
from seneca_assets.lib.lake import Lake as StorageLake
from seneca_assets.lib.model.tables import METRICS
from seneca_assets.lib.query import BadTimeRange, Lake, ResultTooLarge, UnknownMetricWarning
from seneca_assets.lib.sketch import ALPHA
from seneca_assets_tests.lib.query.conftest import START

DAY = timedelta(days=1)


def _busiest(root: Path) -> tuple[str, pl.DataFrame]:
    """The metric with the most points, and its raw points."""
    points = StorageLake(root / "lake").read(METRICS)
    name = points.group_by("name").len().sort("len", descending=True).item(0, "name")
    return name, points.filter(pl.col("name") == name)


def test_auto_picks_the_finest_resolution_whose_span_covers_the_range(built_lake: Path):
    lake = Lake(built_lake / "lake")
    name, points = _busiest(built_lake)
    picked = {
        span: lake.metrics(name, START, START + span).get_column("resolution").unique().to_list()
        for span in (timedelta(hours=6), 3 * DAY, 120 * DAY, 6 * 365 * DAY)
    }
    assert picked == {
        timedelta(hours=6): ["raw"],
        3 * DAY: ["hourly"],
        120 * DAY: ["daily"],
        6 * 365 * DAY: ["monthly"],
    }
    # Every resolution accounts for the same points.
    whole = points.height
    for resolution in ("hourly", "daily", "monthly"):
        rows = lake.metrics(name, START, START + 30 * DAY, resolution=resolution)
        assert rows.get_column("count").sum() == whole, resolution


def test_merged_percentiles_match_the_raw_points_within_one_percent(built_lake: Path):
    lake = Lake(built_lake / "lake")
    name, points = _busiest(built_lake)
    daily = lake.metrics(
        name, START, START + 3 * DAY, resolution="daily", aggregates=["count", "p50", "p95", "max"]
    )
    for row in daily.iter_rows(named=True):
        values = np.sort(
            points.filter(pl.col("timestamp").dt.truncate("1d") == row["time"])
            .get_column("value")
            .to_numpy()
        )
        assert row["count"] == values.size
        assert row["max"] == values.max()
        for q, column in ((0.5, "p50"), (0.95, "p95")):
            exact = np.quantile(values, q, method="lower")
            assert abs(row[column] - exact) <= ALPHA * abs(exact) + 1e-12


def test_tags_filter_and_split_the_series(built_lake: Path):
    lake = Lake(built_lake / "lake")
    points = StorageLake(built_lake / "lake").read(METRICS)
    tagged = points.filter(pl.col("tags").str.contains('"agent"')).group_by("name").len()
    name = tagged.sort("len", descending=True).item(0, "name")
    series = points.filter(pl.col("name") == name)
    agent = series.select(pl.col("tags").str.json_path_match("$.agent")).to_series().drop_nulls()[0]
    mine = lake.metrics(name, START, START + 3 * DAY, tags={"agent": agent}, resolution="hourly")
    expected = series.filter(pl.col("tags").str.json_path_match("$.agent") == agent).height
    assert mine.get_column("count").sum() == expected > 0
    split = lake.metrics(name, START, START + 3 * DAY, resolution="hourly", by_tags=True)
    assert "tags" in split.columns
    assert split.get_column("tags").n_unique() == series.get_column("tags").n_unique()
    assert split.get_column("count").sum() == series.height
    nobody = lake.metrics(name, START, START + 3 * DAY, tags={"agent": "no such agent"})
    assert nobody.is_empty()


def test_auto_goes_coarser_when_the_answer_is_too_large(built_lake: Path):
    name, _ = _busiest(built_lake)
    small = Lake(built_lake / "lake", QuerySettings(max_result_size=50))
    rows = small.metrics(name, START, START + DAY + timedelta(hours=12))
    assert rows.get_column("resolution").unique().to_list() == ["hourly"]
    assert rows.height <= 50
    with pytest.raises(ResultTooLarge, match="narrow the range"):
        small.metrics(name, START, START + DAY, resolution="raw")


def test_auto_skips_raw_points_that_retention_has_dropped(lake_copy: Path):
    name, _ = _busiest(lake_copy)
    storage = StorageLake(lake_copy / "lake")
    storage.delete(METRICS, f"timestamp < '{(START + 2 * DAY).isoformat()}'")
    rows = Lake(lake_copy / "lake").metrics(name, START, START + timedelta(hours=6))
    assert rows.get_column("resolution").unique().to_list() == ["hourly"]
    assert rows.get_column("count").sum() > 0


def test_an_unknown_metric_is_an_empty_answer_with_a_hint(built_lake: Path):
    lake = Lake(built_lake / "lake")
    name, _ = _busiest(built_lake)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = lake.metrics(name[:-1] + "x", START, START + DAY)
    assert rows.is_empty()
    (warning,) = [w for w in caught if issubclass(w.category, UnknownMetricWarning)]
    assert f"did you mean {name}" in str(warning.message)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (START + DAY, START, "before or when it starts"),
        (START, START, "before or when it starts"),
        ("yesterday-ish", None, "cannot read 'yesterday-ish' as a time"),
        ("2026-13-45", None, "cannot read"),
    ],
)
def test_a_bad_time_range_is_refused_with_what_to_give(built_lake: Path, start, end, message):
    lake = Lake(built_lake / "lake")
    with pytest.raises(BadTimeRange, match=message):
        lake.metrics("anything", start, end)


def test_relative_times_read_back_from_the_current_minute(built_lake: Path):
    lake = Lake(built_lake / "lake")
    name, _ = _busiest(built_lake)
    # The deployment ran in November 2026, more than a day ago.
    assert lake.metrics(name, "24h").is_empty()
    back = (datetime.now(UTC) - START).days + 1
    assert lake.metrics(name, f"{back}d", resolution="daily").height == 3
    assert lake.metrics(name, f"now-{back}d", "now", resolution="daily").height == 3
