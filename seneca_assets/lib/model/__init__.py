"""The silver layer: Marcus's entities modelled from bronze/events (no Dagster here)."""
