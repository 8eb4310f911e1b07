"""Resources shared by all assets: where the logs and the lake are."""

import dagster as dg
from dagster_duckdb import DuckDBResource

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


def lake_duckdb() -> DuckDBResource:
    """In-memory DuckDB for assets and checks that speak SQL over the lake's tables.

    External access is off: tables come in registered from their Delta versions through Arrow
    (`lib/query/sql.py` does the same for user queries); no file is read by path.
    """
    return DuckDBResource(database=":memory:", connection_config={"enable_external_access": False})


def shared(lake: LakeResource | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources every asset may ask for, on `lake` (the environment's lake by default)."""
    return {"lake": lake or LakeResource(), "duckdb": lake_duckdb()}


@dg.definitions
def resources() -> dg.Definitions:
    """Register the shared resources."""
    return dg.Definitions(resources=shared())
