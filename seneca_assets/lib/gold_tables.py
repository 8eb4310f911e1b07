"""The gold rollup tables, as `pandera.polars` models: metrics and activity per bucket."""

from typing import Annotated

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.rollups import ACTIVITY_KINDS
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime
from seneca_assets.lib.sketch import Bin


class MetricRollupModel(TableModel):
    """gold/metrics_hourly, _daily, _monthly: one series (name and tags) in one bucket.

    Statistics merge exactly from tier to tier; the percentiles are read from the sketch, within
    1% of the true value at their rank.
    """

    bucket: UtcTime = pa.Field(description="Start of the bucket (UTC hour, day or month).")
    name: str = pa.Field(description="Metric name.")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys.")
    unit: str = pa.Field(nullable=True, description="Unit of the values.")
    count: int = pa.Field(ge=1, description="Values in the bucket.")
    sum: float = pa.Field(description="Their sum.")
    min: float = pa.Field(description="The smallest.")
    max: float = pa.Field(description="The largest.")
    mean: float = pa.Field(description="`sum / count`.")
    m2: float = pa.Field(
        ge=0, description="Sum of squared deviations from the mean (variance = m2 / (count-1))."
    )
    first: float = pa.Field(description="The earliest value.")
    last: float = pa.Field(description="The latest value.")
    first_at: UtcTime = pa.Field(description="When the earliest value was measured.")
    last_at: UtcTime = pa.Field(description="When the latest value was measured.")
    sketch: Annotated[pl.List, Bin] = pa.Field(
        description="Mergeable quantile sketch: `{bin, count}` sorted by bin (lib/sketch.py)."
    )
    p50: float = pa.Field(description="Median, within 1%.")
    p90: float = pa.Field(description="90th percentile, within 1%.")
    p95: float = pa.Field(description="95th percentile, within 1%.")
    p99: float = pa.Field(description="99th percentile, within 1%.")


class ActivityRollupModel(TableModel):
    """gold/activity_hourly, _daily, _monthly: how much one agent did of one kind in a bucket."""

    bucket: UtcTime = pa.Field(description="Start of the bucket (UTC hour, day or month).")
    agent_id: str = pa.Field(description="The agent (or other client, for tool calls).")
    kind: str = pa.Field(isin=list(ACTIVITY_KINDS), description="What is counted.")
    count: int = pa.Field(ge=1, description="How many (minutes, for `active_minutes`).")


def _by_series(name: str) -> TableSpec:
    """A metrics tier whose rows sit together per series, in row groups of 4,096.

    A query reads one metric: other metrics' row groups are skipped by their statistics (the
    sketches make rows wide, and decoding them is most of a query's time).
    """
    return TableSpec(
        name, MetricRollupModel, cluster_by=("name", "tags", "bucket"), row_group_rows=4096
    )


METRICS_HOURLY = _by_series("gold/metrics_hourly")
METRICS_DAILY = _by_series("gold/metrics_daily")
METRICS_MONTHLY = _by_series("gold/metrics_monthly")
ACTIVITY_HOURLY = TableSpec("gold/activity_hourly", ActivityRollupModel)
ACTIVITY_DAILY = TableSpec("gold/activity_daily", ActivityRollupModel)
ACTIVITY_MONTHLY = TableSpec("gold/activity_monthly", ActivityRollupModel)
TIERS: dict[str, tuple[TableSpec, TableSpec]] = {
    "hourly": (METRICS_HOURLY, ACTIVITY_HOURLY),
    "daily": (METRICS_DAILY, ACTIVITY_DAILY),
    "monthly": (METRICS_MONTHLY, ACTIVITY_MONTHLY),
}
"""Each grain's metrics and activity tables."""
GOLD_TABLES: tuple[TableSpec, ...] = tuple(t for pair in TIERS.values() for t in pair)
