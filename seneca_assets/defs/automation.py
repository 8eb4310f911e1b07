"""Declarative automation, one running sensor per layer that follows the one below."""

from datetime import timedelta

import dagster as dg

INGESTED_FRESH = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=1), fail_window=timedelta(hours=2)
)
"""bronze/events: the hourly schedule and the log sensor read new lines at least every hour."""
MODELLED_FRESH = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=2), fail_window=timedelta(hours=4)
)
"""The silver tables follow bronze within minutes through their automation."""
CHECKED_FRESH = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=6), fail_window=timedelta(hours=12)
)
"""The data-quality findings follow bronze and silver (every five minutes at most)."""


def follower(name: str, group: str, interval_s: int, description: str) -> dg.SensorDefinition:
    """A sensor, running from the start, that evaluates the automation conditions of `group`."""
    return dg.AutomationConditionSensorDefinition(
        name,
        target=dg.AssetSelection.groups(group),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_s,
        description=description,
    )
