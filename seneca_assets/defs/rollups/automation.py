"""When rollups are built: hours as soon as silver says they are stale, days and months after.

The `rollup_sensor` compares silver with the hourly rollups and asks for exactly the closed hours
that differ (new data, late data, changed data), as one run per run of consecutive hours. Days and
months follow their hours and days through their automation condition, evaluated by
`gold_automation`.
"""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from seneca_assets.defs.automation import follower
from seneca_assets.defs.partitions import DAILY, HOURLY, MONTHLY
from seneca_assets.defs.resources import LakeResource
from seneca_assets.defs.tables import table_key
from seneca_assets.lib.gold_tables import TIERS
from seneca_assets.lib.rollup_build import contiguous, stale_hours

HOURLY_KEYS = [table_key(t) for t in TIERS["hourly"]]
HOUR_KEY_FORMAT = "%Y-%m-%d-%H:%M"

rollups_hourly_job = dg.define_asset_job(
    "hourly_rollups",
    selection=dg.AssetSelection.assets(*HOURLY_KEYS),
    description="Build the hourly rollups of a range of hours.",
)


def hour_ranges(lake: LakeResource, now: datetime) -> list[tuple[str, str]]:
    """Partition-key ranges (first, last) of the stale closed hours within the partitions."""
    start = HOURLY.start
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [h for h in stale_hours(lake.lake(), this_hour) if h >= start]
    return [
        (first.strftime(HOUR_KEY_FORMAT), last.strftime(HOUR_KEY_FORMAT))
        for first, last in contiguous(hours, "hourly")
    ]


def range_tags(first: str, last: str) -> dict[str, str]:
    """The run tags that make one run build a range of partitions."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


@dg.sensor(
    job=rollups_hourly_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def rollup_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    """Request the hourly rollups of every closed hour whose silver data changed."""
    ranges = hour_ranges(lake, datetime.now(UTC))
    if not ranges:
        return dg.SkipReason("every closed hour's rollup agrees with silver")
    version = lake.lake().table(TIERS["hourly"][0]).version()
    return [
        dg.RunRequest(run_key=f"{first}..{last}@{version}", tags=range_tags(first, last))
        for first, last in ranges
    ]


gold_automation = follower(
    "gold_automation",
    "gold",
    60,
    "Builds a day's (a month's) rollups once any of its hours (days) changed.",
)


rollups_daily_job = dg.define_asset_job(
    "daily_rollups",
    selection=dg.AssetSelection.assets(*(table_key(t) for t in TIERS["daily"])),
    description="Build the daily rollups of a range of days from their hourly rollups.",
)
rollups_monthly_job = dg.define_asset_job(
    "monthly_rollups",
    selection=dg.AssetSelection.assets(*(table_key(t) for t in TIERS["monthly"])),
    description="Build the monthly rollups of a range of months from their daily rollups.",
)


def closed_ranges(hours: list[tuple[str, str]], grain: str, now: datetime) -> list[tuple[str, str]]:
    """The closed days (or months) the hour ranges fall in, as partition-key ranges."""
    definition = {"daily": DAILY, "monthly": MONTHLY}[grain]
    keys = set()
    for first, last in hours:
        for hour in pl.datetime_range(
            datetime.strptime(first, HOUR_KEY_FORMAT).replace(tzinfo=UTC),
            datetime.strptime(last, HOUR_KEY_FORMAT).replace(tzinfo=UTC),
            "1h",
            eager=True,
        ):
            period = definition.time_window_for_partition_key(
                definition.get_partition_key_for_timestamp(hour.timestamp())
            )
            if period.end <= now:
                keys.add(period.start)
    return [
        (first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d"))
        for first, last in contiguous(sorted(keys), grain)
    ]
