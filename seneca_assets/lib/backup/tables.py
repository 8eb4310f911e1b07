"""The backup log, as a `pandera.polars` model."""

import pandera.polars as pa

from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime


class BackupLogModel(TableModel):
    """ops/backups: one backup made and verified by the backup schedules."""

    backup_id: str = pa.Field(description="The backup's id in the repository.")
    kind: str = pa.Field(isin=["full", "differential", "incremental"], description="Its kind.")
    parent: str = pa.Field(nullable=True, description="The backup it was made from.")
    created_at: UtcTime = pa.Field(description="When it was cut.")
    tables: int = pa.Field(ge=0, description="Tables it holds.")
    files: int = pa.Field(ge=0, description="Files it holds.")
    bytes: int = pa.Field(ge=0, description="Bytes of lake data it holds.")
    seconds: float = pa.Field(ge=0, description="How long making it took.")
    verified: bool = pa.Field(description="Restored into scratch and every hash and count held.")
    problems: str = pa.Field(nullable=True, description="What verification found, if anything.")
    verified_at: UtcTime = pa.Field(description="When it was verified.")


BACKUP_LOG = TableSpec("ops/backups", BackupLogModel)
