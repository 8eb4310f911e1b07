"""The gold rollups: metrics and activity per hour, day and month."""
