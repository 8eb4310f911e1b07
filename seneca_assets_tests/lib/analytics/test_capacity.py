"""Capacity planning: growth measured in data time from real Delta tables, crossings that match
the arithmetic, and bad input (no tables, one day, null times, a limit exceeded) that gives rows
with reasons, never an exception."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from seneca_assets.lib.analytics.capacity import LAKE, summary, table_growth
from seneca_assets.lib.analytics.tables import CAPACITY, CapacityModel
from seneca_assets.lib.config import CAPACITY_LIMIT_VARIABLE, CapacitySettings, ConfigurationError
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

NOW = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)
TODAY = datetime(2026, 6, 15, tzinfo=UTC)


class LogModel(TableModel):
    """bronze/test_log: a bronze-like table with a time column."""

    event_time: UtcTime = pa.Field(nullable=True, description="Data time.")
    payload: str = pa.Field(description="Some text.")


class StateModel(TableModel):
    """bronze/test_state: a table without a time column."""

    key: str = pa.Field(description="A key.")


class ResultModel(TableModel):
    """gold/test_result: recomputed whole at each run."""

    bucket: UtcTime = pa.Field(description="Data time.")
    computed_at: UtcTime = pa.Field(description="When computed.")


FLAT = TableSpec("bronze/test_flat", LogModel)
RISING = TableSpec("bronze/test_rising", LogModel)
STATE = TableSpec("bronze/test_state", StateModel)
RESULT = TableSpec("gold/test_result", ResultModel)


@pytest.fixture(autouse=True)
def no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """No limit from the environment, and a disk with 10^12 free bytes."""
    monkeypatch.delenv(CAPACITY_LIMIT_VARIABLE, raising=False)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: _Usage(free=10**12))


class _Usage:
    def __init__(self, free: int) -> None:
        self.free = free


def _log(per_day: list[int], *, last_day: datetime = TODAY, nulls: bool = False) -> pl.DataFrame:
    """`per_day[i]` rows on each day up to the day before `last_day`, spread over the day."""
    times: list[datetime | None] = []
    first = last_day - timedelta(days=len(per_day))
    for i, count in enumerate(per_day):
        day = first + timedelta(days=i)
        times += [day + timedelta(seconds=j * 86_000 // count) for j in range(count)]
    frame = pl.DataFrame(
        {
            "event_time": pl.Series(times, dtype=pl.Datetime("us", "UTC")),
            "payload": [f"line {i} of the log, with some text" for i in range(len(times))],
        }
    )
    return frame.with_columns(event_time=pl.lit(None, pl.Datetime("us", "UTC"))) if nulls else frame


def _write(lake: Lake, spec: TableSpec, frame: pl.DataFrame, batches: int = 3) -> None:
    """Several commits, so the table has several files."""
    for part in range(batches):
        lake.write(spec, frame.gather_every(batches, offset=part))


def _files_bytes(lake: Lake, spec: TableSpec) -> tuple[int, int]:
    """Size and count of the parquet files on disk: the table's known size."""
    files = list(Path(lake.uri(spec)).rglob("*.parquet"))
    return sum(f.stat().st_size for f in files), len(files)


def _rows(table: pl.DataFrame) -> dict[str, dict]:
    CapacityModel.validate(table)
    assert table.schema == CAPACITY.schema
    assert table.get_column("table").to_list()[0] == LAKE
    return {row["table"]: row for row in table.iter_rows(named=True)}


def _gb(count: float) -> str:
    return repr(count / 1e9)


def test_the_rate_is_the_daily_rows_times_the_bytes_per_row(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([50] * 60))
    rows = _rows(table_growth(lake, NOW, [FLAT]))
    flat = rows[FLAT.name]
    size, files = _files_bytes(lake, FLAT)
    assert (flat["bytes"], flat["files"], flat["rows"]) == (size, files, 3000)
    assert flat["time_column"] == "event_time"
    assert flat["days_measured"] == 60
    assert flat["rows_per_day"] == 50
    assert flat["bytes_per_row"] == pytest.approx(size / 3000)
    assert flat["bytes_per_day"] == pytest.approx(50 * size / 3000)
    assert flat["bytes_per_day_low"] == flat["bytes_per_day_high"] == flat["bytes_per_day"]
    assert (flat["growth_trend"], flat["bytes_per_day_slope"]) == ("no trend", 0.0)
    assert (flat["status"], flat["reason"]) == ("ok", None)
    assert flat["limit_basis"] == "disk"
    assert flat["limit_bytes"] == size + 10**12, "the disk is full: the lake plus the free bytes"
    assert rows[LAKE]["bytes"] == size and rows[LAKE]["bytes_per_day"] == flat["bytes_per_day"]


def test_only_complete_days_of_data_time_in_the_window_count(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    old = _log([500] * 30, last_day=TODAY - timedelta(days=100))  # before the 90 days
    today = _log([700], last_day=TODAY + timedelta(days=1))  # the current, partial day
    _write(lake, FLAT, pl.concat([old, _log([40] * 20), today]))
    flat = _rows(table_growth(lake, NOW, [FLAT]))[FLAT.name]
    assert (flat["days_measured"], flat["rows_per_day"]) == (20, 40)
    assert flat["bytes_per_row"] == pytest.approx(flat["bytes"] / (15_000 + 800 + 700))


def test_crossings_match_the_arithmetic_for_a_limit_set_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([50] * 60))
    _write(lake, RISING, _log([20] * 60))
    before = _rows(table_growth(lake, NOW, [FLAT, RISING]))
    rate = before[LAKE]["bytes_per_day"]
    assert rate == pytest.approx(
        before[FLAT.name]["bytes_per_day"] + before[RISING.name]["bytes_per_day"]
    )
    limit = before[LAKE]["bytes"] + round(100 * rate)
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", _gb(limit))
    rows = _rows(table_growth(lake, NOW, [FLAT, RISING]))
    total = rows[LAKE]
    assert (total["limit_bytes"], total["limit_basis"]) == (limit, "setting")
    days = (limit - total["bytes"]) / rate
    assert days == pytest.approx(100, abs=0.01)
    assert total["crosses_at"] == pytest.approx(
        NOW + timedelta(days=days), abs=timedelta(seconds=1)
    )
    assert total["days_left"] == pytest.approx(days, abs=1e-4)
    assert total["crosses_earliest"] == total["crosses_at"], "every day had the same rows"
    flat = rows[FLAT.name]
    alone = (limit - flat["bytes"]) / flat["bytes_per_day"]
    assert flat["days_left"] == pytest.approx(alone, abs=1e-4), "the table alone reaching it"
    assert flat["crosses_at"] > total["crosses_at"]


def test_a_far_limit_is_never_crossed_within_ten_years(tmp_path: Path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([50] * 60))
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", "1000000")
    total = _rows(table_growth(lake, NOW, [FLAT]))[LAKE]
    assert total["status"] == "ok"
    assert total["crosses_at"] is None and total["days_left"] is None
    assert total["crosses_earliest"] is None


def test_an_accelerating_table_is_increasing_and_crosses_earlier_than_a_flat_projection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    lake = Lake(tmp_path / "lake")
    _write(lake, RISING, _log([20 + 3 * d for d in range(60)]))
    before = _rows(table_growth(lake, NOW, [RISING]))[RISING.name]
    assert before["growth_trend"] == "increasing"
    assert before["bytes_per_day_slope"] == pytest.approx(3 * before["bytes_per_row"], rel=0.01)
    assert before["rows_per_day"] == pytest.approx(20 + 3 * 45.5)  # the median of the last 28
    assert before["bytes_per_day_low"] < before["bytes_per_day"] < before["bytes_per_day_high"]
    limit = before["bytes"] + round(200 * before["bytes_per_day"])
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", _gb(limit))
    row = _rows(table_growth(lake, NOW, [RISING]))[RISING.name]
    rate, accel = row["bytes_per_day"], row["bytes_per_day_slope"]
    need = limit - row["bytes"]
    assert row["days_left"] < need / rate - 50, "earlier than the flat 200 days"
    expected = (-rate + (rate**2 + 2 * accel * need) ** 0.5) / accel
    assert row["days_left"] == pytest.approx(expected, abs=1e-4)
    assert row["crosses_earliest"] < row["crosses_at"]
    assert _rows(table_growth(lake, NOW, [RISING]))[LAKE]["growth_trend"] == "increasing"


def test_a_shrinking_rate_stops_at_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([400 - 6 * d for d in range(60)]))
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", "1")
    row = _rows(table_growth(lake, NOW, [FLAT]))[FLAT.name]
    assert row["growth_trend"] == "decreasing" and row["bytes_per_day_slope"] < 0
    assert row["crosses_at"] is None, "the rate reaches zero long before a gigabyte is written"


def test_bad_tables_give_rows_with_reasons(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    one_day = TableSpec("bronze/test_one_day", LogModel)
    nulls = TableSpec("bronze/test_nulls", LogModel)
    empty = TableSpec("bronze/test_empty", LogModel)
    stale = TableSpec("bronze/test_stale", LogModel)
    missing = TableSpec("bronze/test_missing", LogModel)
    _write(lake, one_day, _log([100]))
    _write(lake, nulls, _log([10] * 20, nulls=True))
    lake.table(empty)
    _write(lake, stale, _log([10] * 20, last_day=TODAY - timedelta(days=200)))
    _write(lake, STATE, pl.DataFrame({"key": ["a", "b"]}), batches=1)
    _write(lake, RESULT, pl.DataFrame({"bucket": [NOW] * 3, "computed_at": [NOW] * 3}), 1)
    _write(lake, FLAT, _log([50] * 60))
    specs = [one_day, nulls, empty, stale, missing, STATE, RESULT, FLAT]
    rows = _rows(table_growth(lake, NOW, specs))
    assert missing.name not in rows and not lake.exists(missing), "nothing is created"
    reasons = {
        one_day.name: "on 1 day(s) of the last 90; at least 7",
        nulls.name: "null in every row",
        empty.name: "empty table",
        stale.name: "no rows by `event_time` in the 90 complete UTC days",
        STATE.name: "no time column",
        RESULT.name: "recomputed whole",
    }
    for name, reason in reasons.items():
        row = rows[name]
        assert row["status"] == "insufficient data" and reason in row["reason"], row
        assert row["rows_per_day"] is None and row["bytes_per_day"] is None
        assert row["crosses_at"] is None and row["growth_trend"] == "insufficient data"
        assert row["bytes"] == _files_bytes(lake, TableSpec(name, LogModel))[0]
    assert rows[empty.name]["bytes"] == rows[empty.name]["rows"] == 0
    assert rows[one_day.name]["days_measured"] == 1
    total = rows[LAKE]
    assert total["bytes"] == sum(r["bytes"] for n, r in rows.items() if n != LAKE)
    assert total["bytes_per_day"] == rows[FLAT.name]["bytes_per_day"]
    assert "projected from 1 of 7 tables" in total["reason"]
    assert "not projected" in summary(table_growth(lake, NOW, specs))


def test_an_empty_lake_gives_the_lake_row(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    table = table_growth(lake, NOW)  # the whole catalogue, none of it created
    rows = _rows(table)
    assert list(rows) == [LAKE]
    total = rows[LAKE]
    assert (total["bytes"], total["rows"], total["files"], total["days_measured"]) == (0, 0, 0, 0)
    assert total["status"] == "insufficient data" and "no table" in total["reason"]
    assert total["crosses_at"] is None and total["limit_bytes"] == 10**12
    assert not (tmp_path / "lake").exists()
    assert "not projected" in summary(table)
    assert summary(table.head(0)) == "No capacity rows."


def test_a_limit_already_exceeded_is_crossed_now(tmp_path: Path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([50] * 60))
    _write(lake, STATE, pl.DataFrame({"key": ["a"]}), batches=1)
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", "0.0000001")  # 100 bytes
    table = table_growth(lake, NOW, [FLAT, STATE])
    rows = _rows(table)
    for name in (LAKE, FLAT.name, STATE.name):
        row = rows[name]
        assert (row["crosses_at"], row["crosses_earliest"], row["days_left"]) == (NOW, NOW, 0)
        assert "already at or above the limit" in row["reason"]
    assert rows[LAKE]["status"] == rows[FLAT.name]["status"] == "ok"
    assert "already reached" in summary(table)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf"])
def test_a_bad_limit_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value):
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", value)
    with pytest.raises(ConfigurationError, match=r"SENECA_CAPACITY_LIMIT_GB=.*positive number"):
        CapacitySettings.from_env()
    with pytest.raises(ConfigurationError, match="SENECA_CAPACITY_LIMIT_GB"):
        table_growth(Lake(tmp_path / "lake"), NOW)


def test_the_summary_names_the_lake_and_the_fastest_tables(tmp_path: Path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    _write(lake, FLAT, _log([50] * 60))
    _write(lake, RISING, _log([20 + 3 * d for d in range(60)]))
    monkeypatch.setenv("SENECA_CAPACITY_LIMIT_GB", "0.01")
    text = summary(table_growth(lake, NOW, [FLAT, RISING]))
    assert "**Limit**: 10.0 MB (SENECA_CAPACITY_LIMIT_GB)" in text
    assert "trend increasing" in text and "**Limit reached**: 20" in text
    lines = [line for line in text.splitlines() if line.startswith("| bronze/")]
    assert [line.split(" | ")[0] for line in lines] == [f"| {RISING.name}", f"| {FLAT.name}"]
