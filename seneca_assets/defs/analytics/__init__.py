"""Analytics over the rollups and silver tables: every table in lib/analytics."""
