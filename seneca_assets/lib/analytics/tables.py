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
        description="From the Mann-Kendall test corrected for autocorrelation, at the 3% level.",
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
    expected: float = pa.Field(
        description="Level (rolling median) plus the daily shape and weekday offset."
    )
    lower: float = pa.Field(description="The lowest value not judged anomalous.")
    upper: float = pa.Field(description="The highest value not judged anomalous.")
    score: float = pa.Field(description="Residual in robust standard deviations (1.4826 MAD).")
    is_anomaly: bool = pa.Field(
        description="|score| above the threshold (3.5), or in a burst of variance (`reason`)."
    )
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
        nullable=True,
        ge=0,
        le=1,
        description="1 - var(residual) / var(value - level - weekday offset).",
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
        description="Its task durations over all its weeks (corrected Mann-Kendall, 3%).",
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


class ConversationPatternModel(TableModel):
    """gold/conversation_patterns: a topic, a flow between kinds of message, or an early signal."""

    pattern: str = pa.Field(isin=["topic", "flow", "signal"], description="Which kind of row.")
    week: UtcTime = pa.Field(
        nullable=True, description="For weekly topics, the week's Monday (UTC); else null."
    )
    subject: str = pa.Field(
        description="The topic's words, `from → to`, or what the signal is (lib/analytics)."
    )
    from_state: str = pa.Field(
        nullable=True, description="Flows: the first message's intent or kind, or `start`."
    )
    to_state: str = pa.Field(
        nullable=True, description="Flows: the next message's intent or kind, or `end: <outcome>`."
    )
    conversations: int = pa.Field(
        ge=0, description="Conversations it tops (topic), holds (flow) or shows in (signal)."
    )
    messages: int = pa.Field(
        nullable=True, ge=0, description="Topic: its mentions there; flow: transitions."
    )
    score: float = pa.Field(
        nullable=True,
        description="Topic: mean TF-IDF weight; flow: share of the first state's transitions; "
        "signal: completion rate with it less without it.",
    )
    completion_rate: float = pa.Field(
        nullable=True, ge=0, le=1, description="Share of its finished conversations completed."
    )
    baseline_rate: float = pa.Field(
        nullable=True, ge=0, le=1, description="Signal: the same share for threads without it."
    )
    p_value: float = pa.Field(
        nullable=True, ge=0, le=1, description="Signal: Fisher's exact test, two-sided."
    )
    median_gap_s: float = pa.Field(
        nullable=True, description="Flow: median seconds between the two messages."
    )
    examples: Annotated[pl.List, pl.String()] = pa.Field(
        description="Up to three conversation ids showing it."
    )
    reason: str = pa.Field(nullable=True, description="Signal: why it was not tested.")
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class CollaborationModel(TableModel):
    """gold/collaboration_network: per week, a link between two parties, or one party."""

    week: UtcTime = pa.Field(description="The week's Monday (UTC).")
    element: str = pa.Field(isin=["edge", "node"], description="A link, or a party.")
    source: str = pa.Field(
        description="The party (node), or the first of the two in sort order (edge): an agent "
        "id, `marcus` or `kanban`."
    )
    target: str = pa.Field(nullable=True, description="Edge: the other party.")
    messages_out: int = pa.Field(nullable=True, ge=0, description="Edge: source to target.")
    messages_in: int = pa.Field(nullable=True, ge=0, description="Edge: target to source.")
    shared_tasks: int = pa.Field(
        nullable=True, ge=0, description="Edge: tasks assigned to both agents that week."
    )
    weight: int = pa.Field(nullable=True, ge=0, description="Edge: messages plus shared tasks.")
    reciprocity: float = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Edge: the smaller direction's messages over the larger's; node: the share "
        "of its message links that run both ways.",
    )
    degree: int = pa.Field(nullable=True, ge=0, description="Node: parties linked to it.")
    weighted_degree: int = pa.Field(nullable=True, ge=0, description="Node: its links' weight.")
    messages_sent: int = pa.Field(nullable=True, ge=0, description="Node: messages it sent.")
    messages_received: int = pa.Field(nullable=True, ge=0, description="Node: messages to it.")
    betweenness: float = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Node: normalized betweenness centrality, distance 1 / weight.",
    )
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


class CapacityModel(TableModel):
    """gold/capacity_forecast: one table's size and growth in data time, or the lake's total.

    The row `(lake)` sums the lake; its projection is the sum of its tables'.
    """

    table: str = pa.Field(unique=True, description="A lake table, `layer/name`, or `(lake)`.")
    bytes: int = pa.Field(ge=0, description="Size of the live data files in the Delta log.")
    rows: int = pa.Field(ge=0, description="Rows of the current version.")
    files: int = pa.Field(ge=0, description="Live data files.")
    time_column: str = pa.Field(
        nullable=True, description="The column growth is measured by (the table's data time)."
    )
    days_measured: int = pa.Field(
        ge=0,
        description="Complete UTC days of the last 90 with rows by the time column (for "
        "`(lake)`: with rows in any table).",
    )
    bytes_per_row: float = pa.Field(nullable=True, ge=0, description="`bytes` / `rows`.")
    rows_per_day: float = pa.Field(
        nullable=True,
        ge=0,
        description="Median rows per day over the last 28 days with rows; null when not "
        "projected (for `(lake)`: the projected tables' sum).",
    )
    bytes_per_day: float = pa.Field(
        nullable=True, ge=0, description="The growth rate: `rows_per_day` x `bytes_per_row`."
    )
    bytes_per_day_low: float = pa.Field(
        nullable=True,
        ge=0,
        description="The same from the 10th percentile of those days' rows (for `(lake)`: the "
        "tables' sum).",
    )
    bytes_per_day_high: float = pa.Field(
        nullable=True, ge=0, description="The same from the 90th percentile."
    )
    growth_trend: str = pa.Field(
        isin=["increasing", "decreasing", "no trend", "insufficient data"],
        description="Trend of the daily rows over the last 90 days (corrected Mann-Kendall, 3%; "
        "for `(lake)`: the sign of the projected tables' summed slopes).",
    )
    bytes_per_day_slope: float = pa.Field(
        nullable=True,
        description="Change of `bytes_per_day` per day used by the projection: the Theil-Sen "
        "slope of the daily rows x `bytes_per_row` when the trend is significant, else 0.",
    )
    limit_bytes: int = pa.Field(ge=1, description="The lake-wide limit.")
    limit_basis: str = pa.Field(
        isin=["setting", "disk"],
        description="`setting`: SENECA_CAPACITY_LIMIT_GB; `disk`: the lake's bytes plus the "
        "free bytes of its disk.",
    )
    crosses_at: UtcTime = pa.Field(
        nullable=True,
        description="When the lake (for a table row: that table alone) reaches the limit at the "
        "projected rate; `computed_at` if already there; null if not within 10 years.",
    )
    crosses_earliest: UtcTime = pa.Field(
        nullable=True,
        description="The same at the high rate (90th percentile), its slope at the upper end "
        "of its 95% interval when the trend is significant.",
    )
    days_left: float = pa.Field(
        nullable=True, ge=0, description="Days from `computed_at` to `crosses_at`."
    )
    status: str = pa.Field(
        isin=["ok", "insufficient data"], description="Whether the growth was projected."
    )
    reason: str = pa.Field(nullable=True, description="Why not, or what to know about it.")
    computed_at: UtcTime = pa.Field(description="When this row was computed.")


METRIC_TRENDS = TableSpec("gold/metric_trends", MetricTrendModel)
PROJECT_OUTCOMES = TableSpec("gold/project_outcomes", ProjectOutcomeModel)
CONVERSATION_PATTERNS = TableSpec("gold/conversation_patterns", ConversationPatternModel)
COLLABORATION_NETWORK = TableSpec("gold/collaboration_network", CollaborationModel)
CAPACITY = TableSpec("gold/capacity_forecast", CapacityModel)
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
    CONVERSATION_PATTERNS,
    COLLABORATION_NETWORK,
    CAPACITY,
)
