"""Analytics over the rollups and silver tables: trends, seasonality, anomalies, forecasts."""
