"""Silver follows bronze: declarative automation, evaluated by a sensor that starts running."""

import dagster as dg

silver_automation = dg.AutomationConditionSensorDefinition(
    "silver_automation",
    target=dg.AssetSelection.groups("silver"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Materializes the silver tables whenever bronze/events has new rows "
    "(their `eager` automation condition).",
)


silver_job = dg.define_asset_job(
    "silver",
    selection=dg.AssetSelection.groups("silver"),
    description="Model what is new in bronze into the silver tables.",
)
