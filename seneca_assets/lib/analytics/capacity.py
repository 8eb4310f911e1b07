"""Capacity planning: each table's growth in data time, and when the lake would reach its limit.

Growth is measured in data time, not in file time: a backfill writes months of data in minutes,
so files' modification times say nothing about how fast the lake grows. For each table of the
catalogue with a time column (`TableSpec.time_column`), the rows of each complete UTC day of the
last 90 are counted from that column alone. A table's growth rate is the median of its last 28
days with rows times its bytes per row (the live files' sizes in the Delta log over its rows);
its 10th and 90th percentiles give the rate's range. The daily rows are tested for a trend
(`trends.trend`): when it is significant, the rate is projected to change linearly by the
Theil-Sen slope (never below zero). The lake's projection is the sum of its tables'.

The limit is `SENECA_CAPACITY_LIMIT_GB` (10^9 bytes) for the whole lake, or, unset, the lake's
current bytes plus the free space of its disk: the day the disk is full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from seneca_assets.lib.analytics.markdown import markdown_table
from seneca_assets.lib.analytics.tables import CAPACITY
from seneca_assets.lib.analytics.trends import trend
from seneca_assets.lib.catalog import TABLES
from seneca_assets.lib.config import CAPACITY_LIMIT_VARIABLE, CapacitySettings
from seneca_assets.lib.lake import Lake
from seneca_assets.lib.schemas import TableSpec

LAKE = "(lake)"
"""The `table` of the row that sums the lake."""
WINDOW_DAYS = 90
"""Complete UTC days of data time measured, up to the day before `now`."""
RECENT_DAYS = 28
"""The rate is taken over this many latest days with rows."""
MIN_DAYS = 7
"""A table with rows on fewer days than this is not projected."""
HORIZON_DAYS = 3653
"""Crossings further than ten years ahead are reported as none."""
RECOMPUTED = "computed_at"
"""Tables with this column are recomputed whole from others at each run: not projected."""


@dataclass(frozen=True)
class _Growth:
    """One table's size and, when projected, its growth (bytes per day, and per day squared)."""

    name: str
    bytes: int
    rows: int
    files: int
    time_column: str | None
    days: tuple[datetime, ...] = ()
    rate: float | None = None
    rate_low: float | None = None
    rate_high: float | None = None
    rows_per_day: float | None = None
    direction: str = "insufficient data"
    slope: float = 0.0
    slope_high: float = 0.0
    reason: str | None = None

    @property
    def projected(self) -> bool:
        return self.rate is not None


def table_growth(lake: Lake, now: datetime, tables: Sequence[TableSpec] = TABLES) -> pl.DataFrame:
    """gold/capacity_forecast: a row per existing table of `tables` and one for the lake.

    ConfigurationError if SENECA_CAPACITY_LIMIT_GB is set but not a positive number.
    """
    settings = CapacitySettings.from_env()
    now = now.astimezone(UTC)
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    found = [_measure(lake, spec, end) for spec in tables if lake.exists(spec)]
    lake_bytes = sum(g.bytes for g in found)
    limit, basis = settings.limit(lake.root, lake_bytes)
    rows = [_lake_row(found, lake_bytes, limit, now)]
    for growth in found:
        at, earliest = _crossings([growth], growth.bytes, limit, now)
        rows.append(_row(growth, at, earliest, now, limit))
    common = {"limit_bytes": limit, "limit_basis": basis, "computed_at": now}
    return pl.DataFrame([{**row, **common} for row in rows], schema=CAPACITY.schema)


def _measure(lake: Lake, spec: TableSpec, end: datetime) -> _Growth:
    """The table's size from its Delta log and its growth by its time column."""
    actions = pl.DataFrame(lake.table(spec).get_add_actions(flatten=True))
    size = int(actions.get_column("size_bytes").sum())
    records = actions.get_column("num_records")
    rows = (
        int(records.sum())
        if records.null_count() == 0
        else int(lake.scan(spec).select(pl.len()).collect().item())
    )
    column = spec.time_column
    base = _Growth(spec.name, size, rows, actions.height, column)
    why = _unmeasurable(lake, spec, column, rows)
    if why is not None or column is None:
        return replace(base, reason=why)
    start = end - timedelta(days=WINDOW_DAYS)
    daily = (
        lake.scan(spec)
        .select(column)
        .filter((pl.col(column) >= start) & (pl.col(column) < end))
        .group_by(day=pl.col(column).dt.truncate("1d"))
        .agg(rows=pl.len())
        .sort("day")
        .collect()
    )
    days = tuple(daily.get_column("day").to_list())
    if daily.height < MIN_DAYS:
        return replace(base, days=days, reason=_too_few(lake, spec, column, daily.height, start))
    counts = daily.get_column("rows").to_numpy().astype(np.float64)
    recent = counts[-RECENT_DAYS:]
    per_row = size / rows
    periods = daily.get_column("day").dt.epoch("d").to_numpy().astype(np.float64)
    tested = trend(periods, counts)
    significant = tested.direction in ("increasing", "decreasing")
    return replace(
        base,
        days=days,
        rows_per_day=float(np.median(recent)),
        rate=float(np.median(recent)) * per_row,
        rate_low=float(np.percentile(recent, 10)) * per_row,
        rate_high=float(np.percentile(recent, 90)) * per_row,
        direction=tested.direction or "insufficient data",
        slope=(tested.slope or 0.0) * per_row if significant else 0.0,
        slope_high=(tested.slope_high or 0.0) * per_row if significant else 0.0,
        reason=None if tested.status == "ok" else f"no trend test: {tested.reason}",
    )


def _unmeasurable(lake: Lake, spec: TableSpec, column: str | None, rows: int) -> str | None:
    """Why the table's growth cannot be measured in data time, or None."""
    if rows == 0:
        return "empty table: nothing to measure growth from"
    if column is None:
        return "no time column: its growth cannot be measured in data time"
    if RECOMPUTED in spec.schema:
        return (
            f"recomputed whole at each run (it has `{RECOMPUTED}`): its size follows the tables "
            "it is computed from, not data time"
        )
    if column not in lake.scan(spec).collect_schema():
        return f"its time column `{column}` is not in the stored table"
    return None


def _too_few(lake: Lake, spec: TableSpec, column: str, days: int, start: datetime) -> str:
    """Why a table with rows on fewer than MIN_DAYS days is not projected."""
    latest = lake.latest(spec, column)
    if latest is None:
        return f"its time column `{column}` is null in every row"
    if days == 0:
        return (
            f"no rows by `{column}` in the {WINDOW_DAYS} complete UTC days from "
            f"{start:%Y-%m-%d} (latest {latest:%Y-%m-%d %H:%M} UTC)"
        )
    return (
        f"rows by `{column}` on {days} day(s) of the last {WINDOW_DAYS}; at least {MIN_DAYS} "
        "are needed"
    )


def _grown(tables: Sequence[_Growth], days: float, high: bool) -> float:
    """Bytes the tables add in `days`, their rates changing linearly but never below zero."""
    total = 0.0
    for g in tables:
        rate = (g.rate_high if high else g.rate) or 0.0
        slope = g.slope_high if high else g.slope
        span = days if slope >= 0 else min(days, rate / -slope)
        total += rate * span + slope * span * span / 2
    return total


def _crossing(tables: Sequence[_Growth], need: float, now: datetime, high: bool) -> datetime | None:
    """When the tables have added `need` bytes (growth is monotone: bisection); None if never."""
    if need <= 0:
        return now
    if _grown(tables, HORIZON_DAYS, high) < need:
        return None
    low, top = 0.0, float(HORIZON_DAYS)
    for _ in range(60):
        middle = (low + top) / 2
        low, top = (middle, top) if _grown(tables, middle, high) < need else (low, middle)
    return now + timedelta(days=top)


def _crossings(
    tables: Sequence[_Growth], size: int, limit: int, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """When `size` bytes growing like `tables` reach `limit`: projected, and earliest."""
    projected = [g for g in tables if g.projected]
    return (
        _crossing(projected, limit - size, now, high=False),
        _crossing(projected, limit - size, now, high=True),
    )


def _days_left(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else (at - now) / timedelta(days=1)


def _row(
    g: _Growth, at: datetime | None, earliest: datetime | None, now: datetime, limit: int
) -> dict[str, object]:
    """A table's row (without the limit and time columns every row shares)."""
    per_row = g.bytes / g.rows if g.rows else None
    reasons = [g.reason] if g.reason else []
    if g.bytes >= limit:
        reasons.append("this table alone is already at or above the limit")
    return {
        "table": g.name,
        "bytes": g.bytes,
        "rows": g.rows,
        "files": g.files,
        "time_column": g.time_column,
        "days_measured": len(g.days),
        "bytes_per_row": per_row,
        "rows_per_day": g.rows_per_day,
        "bytes_per_day": g.rate,
        "bytes_per_day_low": g.rate_low,
        "bytes_per_day_high": g.rate_high,
        "growth_trend": g.direction,
        "bytes_per_day_slope": g.slope if g.projected else None,
        "crosses_at": at,
        "crosses_earliest": earliest,
        "days_left": _days_left(at, now),
        "status": "ok" if g.projected else "insufficient data",
        "reason": "; ".join(reasons) or None,
    }


def _lake_row(found: Sequence[_Growth], size: int, limit: int, now: datetime) -> dict[str, object]:
    """The `(lake)` row: the tables summed, projected by the sum of their projections."""
    projected = [g for g in found if g.projected]
    rows = sum(g.rows for g in found)
    at, earliest = _crossings(found, size, limit, now)
    slope = sum(g.slope for g in projected)
    tested = [g for g in projected if g.direction != "insufficient data"]
    direction = "insufficient data"
    if tested:
        direction = "increasing" if slope > 0 else "decreasing" if slope < 0 else "no trend"
    if not found:
        reasons = ["no table of the catalogue exists in the lake yet"]
    elif not projected:
        reasons = [
            f"no table has rows on {MIN_DAYS} days of the last {WINDOW_DAYS}: the lake is "
            "counted at its current size"
        ]
    elif len(projected) < len(found):
        reasons = [
            f"projected from {len(projected)} of {len(found)} tables; the others count at "
            "their current size"
        ]
    else:
        reasons = []
    if size >= limit:
        reasons.append("the lake is already at or above the limit")
    days = {day for g in found for day in g.days}
    return {
        "table": LAKE,
        "bytes": size,
        "rows": rows,
        "files": sum(g.files for g in found),
        "time_column": None,
        "days_measured": len(days),
        "bytes_per_row": size / rows if rows else None,
        "rows_per_day": sum(g.rows_per_day or 0.0 for g in projected) if projected else None,
        "bytes_per_day": sum(g.rate or 0.0 for g in projected) if projected else None,
        "bytes_per_day_low": sum(g.rate_low or 0.0 for g in projected) if projected else None,
        "bytes_per_day_high": sum(g.rate_high or 0.0 for g in projected) if projected else None,
        "growth_trend": direction,
        "bytes_per_day_slope": slope if projected else None,
        "crosses_at": at,
        "crosses_earliest": earliest,
        "days_left": _days_left(at, now),
        "status": "ok" if projected else "insufficient data",
        "reason": "; ".join(reasons) or None,
    }


def _size(count: float | None) -> str:
    """Bytes for people, in powers of 1000."""
    if count is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _when(at: datetime | None, days: float | None) -> str:
    if at is None or days is None:
        return f"not within {HORIZON_DAYS // 365} years"
    if days == 0:
        return "already reached"
    return f"{at:%Y-%m-%d} (in {days:,.0f} days)"


def summary(table: pl.DataFrame, top: int = 10) -> str:
    """Markdown for people: the lake's size, rate and crossing, and the fastest-growing tables."""
    total = table.filter(pl.col("table") == LAKE)
    if total.is_empty():
        return "No capacity rows."
    lake = total.row(0, named=True)
    basis = (
        f"{CAPACITY_LIMIT_VARIABLE}"
        if lake["limit_basis"] == "setting"
        else "the lake's size plus its disk's free space"
    )
    lines = [
        f"**Lake**: {_size(lake['bytes'])} in {lake['rows']:,} rows and {lake['files']:,} files, "
        f"{table.height - 1} table(s).",
        f"**Limit**: {_size(lake['limit_bytes'])} ({basis}).",
    ]
    if lake["status"] == "ok":
        earliest = lake["crosses_earliest"]
        lines += [
            f"**Growth**: {_size(lake['bytes_per_day'])}/day "
            f"({_size(lake['bytes_per_day_low'])} to {_size(lake['bytes_per_day_high'])}), "
            f"trend {lake['growth_trend']}.",
            f"**Limit reached**: {_when(lake['crosses_at'], lake['days_left'])}"
            + (f", earliest {earliest:%Y-%m-%d}." if earliest is not None else "."),
        ]
    else:
        lines.append(f"**Growth**: not projected: {lake['reason']}.")
        if lake["days_left"] == 0:
            lines.append("**Limit reached**: already reached.")
    growing = (
        table.filter((pl.col("table") != LAKE) & (pl.col("status") == "ok"))
        .sort("bytes_per_day", descending=True)
        .head(top)
    )
    if growing.height:
        lines += markdown_table(
            ["table", "size", "rows/day", "growth/day", "trend", "limit reached alone"],
            (
                (r["table"], _size(r["bytes"]), f"{r['rows_per_day']:,.0f}",
                 _size(r["bytes_per_day"]), r["growth_trend"],
                 _when(r["crosses_at"], r["days_left"]))
                for r in growing.iter_rows(named=True)
            ),
        )  # fmt: skip
    skipped = table.filter((pl.col("table") != LAKE) & (pl.col("status") != "ok")).height
    if skipped:
        lines += ["", f"{skipped} table(s) not projected (see `reason`)."]
    return "\n".join(lines)
