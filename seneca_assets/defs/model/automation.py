"""Silver follows bronze: declarative automation, evaluated by a sensor that starts running."""

import dagster as dg

from seneca_assets.defs.automation import follower

silver_automation = follower(
    "silver_automation",
    "silver",
    30,
    "Materializes the silver tables whenever bronze/events has new rows "
    "(their `eager` automation condition).",
)


silver_job = dg.define_asset_job(
    "silver",
    selection=dg.AssetSelection.groups("silver"),
    description="Model what is new in bronze into the silver tables.",
)
