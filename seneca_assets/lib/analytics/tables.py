"""The analytics tables, as `pandera.polars` models."""

from typing import Annotated

import pandera.polars as pa
import polars as pl

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


class MetricAnomalyModel(TableModel):
    """gold/metric_anomalies: one hourly bucket of one series, judged against what was expected."""

    name: str = pa.Field(description="Metric name.")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys.")
    bucket: UtcTime = pa.Field(description="The hour's start (UTC).")
    value: float = pa.Field(description="The bucket's mean.")
    expected: float = pa.Field(description="Level (rolling median) plus the daily shape.")
    lower: float = pa.Field(description="The lowest value not judged anomalous.")
    upper: float = pa.Field(description="The highest value not judged anomalous.")
    score: float = pa.Field(description="Residual in robust standard deviations (1.4826 MAD).")
    is_anomaly: bool = pa.Field(description="|score| above the threshold (3.5).")
    method: str = pa.Field(
        isin=["seasonal-mad", "mad"],
        description="`seasonal-mad` from three days of history, `mad` (no daily shape) before.",
    )
    reason: str = pa.Field(nullable=True, description="For an anomaly, how far and which way.")
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class MetricSeasonalityModel(TableModel):
    """gold/metric_seasonality: the seasonal pattern of one hourly series."""

    name: str = pa.Field(description="Metric name.")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys.")
    status: str = pa.Field(
        isin=["ok", "insufficient data"], description="Whether a pattern could be learned."
    )
    reason: str = pa.Field(nullable=True, description="Why not.")
    points: int = pa.Field(ge=0, description="Hourly buckets of the last 28 days.")
    days: int = pa.Field(ge=0, description="Days they span.")
    hour_of_day: Annotated[pl.List, pl.Float64()] = pa.Field(
        nullable=True, description="24 values: each hour's median difference from its day."
    )
    day_of_week: Annotated[pl.List, pl.Float64()] = pa.Field(
        nullable=True,
        description="7 values, Monday first: each weekday's median less the overall (2 weeks).",
    )
    daily_strength: float = pa.Field(
        nullable=True, ge=0, le=1, description="1 - var(residual) / var(value - level)."
    )
    dominant_period_hours: float = pa.Field(
        nullable=True, description="The periodogram's peak, in hours."
    )
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class MetricForecastModel(TableModel):
    """gold/metric_forecasts: one future hour or day of one series, or why there is none."""

    name: str = pa.Field(description="Metric name.")
    tags: str = pa.Field(description="Tags as JSON text with sorted keys.")
    resolution: str = pa.Field(
        isin=["hourly", "daily"], description="7 days of hours, or 30 days of days."
    )
    status: str = pa.Field(isin=["ok", "insufficient data"], description="Whether it was forecast.")
    reason: str = pa.Field(nullable=True, description="Why not, or how the intervals were made.")
    bucket: UtcTime = pa.Field(nullable=True, description="The future hour or day (UTC).")
    forecast: float = pa.Field(
        nullable=True, description="Latest level plus the daily (weekly) shape."
    )
    lower_80: float = pa.Field(nullable=True, description="80% interval, lower bound.")
    upper_80: float = pa.Field(nullable=True, description="80% interval, upper bound.")
    lower_95: float = pa.Field(nullable=True, description="95% interval, lower bound.")
    upper_95: float = pa.Field(nullable=True, description="95% interval, upper bound.")
    method: str = pa.Field(nullable=True, description="`seasonal-median`.")
    backtest_smape: float = pa.Field(
        nullable=True, description="The method's sMAPE on the latest 7 (30) days."
    )
    naive_smape: float = pa.Field(
        nullable=True, description="sMAPE of the seasonal-naive forecast of the same days."
    )
    coverage_80: float = pa.Field(
        nullable=True, ge=0, le=1, description="Share of those days inside the 80% interval."
    )
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class AgentPerformanceModel(TableModel):
    """gold/agent_performance: one agent's work in one week (Monday, UTC), and its trend."""

    agent_id: str = pa.Field(description="The agent.")
    week: UtcTime = pa.Field(description="The week's Monday (UTC).")
    tasks_completed: int = pa.Field(ge=0, description="Tasks it completed that week.")
    tasks_assigned: int = pa.Field(ge=0, description="Tasks first assigned to it that week.")
    median_actual_hours: float = pa.Field(
        nullable=True, description="Median hours from assignment to completion."
    )
    estimate_ratio: float = pa.Field(
        nullable=True, description="Median actual / estimated hours (estimates above 0)."
    )
    blockers_per_task: float = pa.Field(nullable=True, description="Blockers per completed task.")
    reassignments_per_task: float = pa.Field(
        nullable=True, description="Reassignments per completed task."
    )
    trend: str = pa.Field(
        isin=["improving", "worsening", "steady", "insufficient data"],
        description="Its task durations over all its weeks (corrected Mann-Kendall, 5%).",
    )
    duration_slope_hours_per_week: float = pa.Field(
        nullable=True, description="Theil-Sen slope of its durations, hours per week."
    )
    trend_p_value: float = pa.Field(nullable=True, description="The trend test's p-value.")
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class ProjectOutcomeModel(TableModel):
    """gold/project_outcomes: how one feature differs between completed and failed work."""

    level: str = pa.Field(isin=["task", "project"], description="Tasks, or projects pooled.")
    feature: str = pa.Field(description="What is compared (lib/analytics/outcomes.py).")
    completed: int = pa.Field(ge=0, description="Completed tasks (projects) with a value.")
    failed: int = pa.Field(ge=0, description="Blocked or abandoned ones with a value.")
    completed_median: float = pa.Field(nullable=True, description="Median among the completed.")
    failed_median: float = pa.Field(nullable=True, description="Median among the failed.")
    effect_size: float = pa.Field(
        nullable=True, ge=-1, le=1, description="Rank-biserial correlation (+: completed higher)."
    )
    p_value: float = pa.Field(nullable=True, ge=0, le=1, description="Mann-Whitney U, two-sided.")
    separates: bool = pa.Field(nullable=True, description="p-value below 5%.")
    status: str = pa.Field(isin=["ok", "insufficient data"], description="Whether compared.")
    reason: str = pa.Field(nullable=True, description="Why not.")
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


METRIC_TRENDS = TableSpec("gold/metric_trends", MetricTrendModel)
PROJECT_OUTCOMES = TableSpec("gold/project_outcomes", ProjectOutcomeModel)
AGENT_PERFORMANCE = TableSpec("gold/agent_performance", AgentPerformanceModel)
METRIC_FORECASTS = TableSpec("gold/metric_forecasts", MetricForecastModel)
METRIC_SEASONALITY = TableSpec("gold/metric_seasonality", MetricSeasonalityModel)
METRIC_ANOMALIES = TableSpec("gold/metric_anomalies", MetricAnomalyModel)
ANALYTICS_TABLES: tuple[TableSpec, ...] = (
    METRIC_TRENDS,
    METRIC_SEASONALITY,
    METRIC_ANOMALIES,
    METRIC_FORECASTS,
    AGENT_PERFORMANCE,
    PROJECT_OUTCOMES,
)
