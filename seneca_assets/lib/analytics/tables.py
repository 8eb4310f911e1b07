"""The analytics tables, as `pandera.polars` models."""

import pandera.polars as pa

from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime


class MetricTrendModel(TableModel):
    """gold/metric_trends: the trend of one series at one resolution, or why there is none."""

    name: str = pa.Field(description="Metric name.")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys.")
    resolution: str = pa.Field(isin=["hourly", "daily", "monthly"], description="The tier tested.")
    status: str = pa.Field(
        isin=["ok", "insufficient data"], description="Whether the series could be tested."
    )
    reason: str = pa.Field(nullable=True, description="Why not, or `constant`.")
    points: int = pa.Field(ge=0, description="Buckets tested (the latest up to 3,000).")
    first: UtcTime = pa.Field(nullable=True, description="The first bucket tested.")
    last: UtcTime = pa.Field(nullable=True, description="The last bucket tested.")
    direction: str = pa.Field(
        nullable=True,
        isin=["increasing", "decreasing", "no trend"],
        description="From the Mann-Kendall test corrected for autocorrelation, at the 5% level.",
    )
    p_value: float = pa.Field(nullable=True, ge=0, le=1, description="Two-sided p-value.")
    slope: float = pa.Field(
        nullable=True, description="Theil-Sen slope of the bucket means, per bucket."
    )
    slope_low: float = pa.Field(nullable=True, description="Lower bound of its 95% interval.")
    slope_high: float = pa.Field(nullable=True, description="Upper bound of its 95% interval.")
    change_per_period: float = pa.Field(
        nullable=True, description="The slope relative to the median bucket mean's magnitude."
    )
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


METRIC_TRENDS = TableSpec("gold/metric_trends", MetricTrendModel)
ANALYTICS_TABLES: tuple[TableSpec, ...] = (METRIC_TRENDS,)
