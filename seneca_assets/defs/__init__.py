"""Dagster definitions, one folder per domain: when things run and in what order."""
