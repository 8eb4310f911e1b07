"""The time partitions of the rollups, declared once: UTC hours, days and months.

They start at `SENECA_PARTITIONS_START` (a date, default 2025-01-01). A partition exists once its
period has closed, so a day's rollup is built after midnight UTC.
"""

import os
from datetime import date

import dagster as dg

DEFAULT_START = "2025-01-01"


def _start() -> str:
    text = os.environ.get("SENECA_PARTITIONS_START") or DEFAULT_START
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise ValueError(f"SENECA_PARTITIONS_START={text!r} is not a date (YYYY-MM-DD)") from exc


START = _start()
HOURLY = dg.HourlyPartitionsDefinition(start_date=f"{START}-00:00", timezone="UTC")
DAILY = dg.DailyPartitionsDefinition(start_date=START, timezone="UTC")
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=START[:8] + "01", timezone="UTC")
BY_GRAIN = {"hourly": HOURLY, "daily": DAILY, "monthly": MONTHLY}
