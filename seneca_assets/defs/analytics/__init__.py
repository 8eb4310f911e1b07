"""Analytics: trends (and, to come, seasonality, anomalies and forecasts) over the rollups."""
