"""Seneca: a durable, queryable lake of Marcus agent logs, as a Dagster code location."""
