"""What a query can refuse or fail with: each says what happened and what to do instead."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot be answered as asked."""


class BadTimeRange(QueryError):
    """A time that cannot be read, or a range that ends before it starts."""


class ResultTooLarge(QueryError):
    """More rows than `max_result_size`: narrow the query, page it, or pick a coarser tier."""


class QueryTimeout(QueryError):
    """The query ran longer than the configured timeout and was stopped."""


class RefusedQuery(QueryError):
    """SQL that would write, or reach outside the lake's tables."""


class UnknownName(QueryError):
    """A table, tier or snapshot that does not exist."""


class UnknownMetricWarning(UserWarning):
    """A metric name with no data: the result is empty; the message suggests close names."""
