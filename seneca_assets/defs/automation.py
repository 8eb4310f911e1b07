"""Declarative automation, one running sensor per layer that follows the one below."""

import dagster as dg


def follower(name: str, group: str, interval_s: int, description: str) -> dg.SensorDefinition:
    """A sensor, running from the start, that evaluates the automation conditions of `group`."""
    return dg.AutomationConditionSensorDefinition(
        name,
        target=dg.AssetSelection.groups(group),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_s,
        description=description,
    )
