"""Plain-Python logic of Seneca: no Dagster imports here."""
