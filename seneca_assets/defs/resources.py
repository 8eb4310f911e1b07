"""Resources shared by all assets: where the logs and the lake are."""

import dagster as dg

from seneca_assets.lib.config import IngestSettings, ModelSettings
from seneca_assets.lib.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """The Marcus log folder and the lake.

    Unset fields fall back to `SENECA_LOG_DIR`, `SENECA_LAKE_DIR`, `SENECA_NAIVE_TZ`,
    `SENECA_TAIL_GRACE_S` and `SENECA_ABANDON_AFTER_H` when a run starts, so the same
    definitions serve the UI, the daemon and the `seneca` command.
    """

    log_dir: str | None = None
    lake_dir: str | None = None

    def settings(self) -> IngestSettings:
        """The ingestion settings in force for this run."""
        return IngestSettings.from_env(self.log_dir, self.lake_dir)

    def model_settings(self) -> ModelSettings:
        """How the silver model judges abandonment (`SENECA_ABANDON_AFTER_H`)."""
        return ModelSettings.from_env()

    def lake(self) -> Lake:
        """The lake this run writes to."""
        return Lake(self.settings().lake_dir)


@dg.definitions
def resources() -> dg.Definitions:
    """Register the shared resources."""
    return dg.Definitions(resources={"lake": LakeResource()})
