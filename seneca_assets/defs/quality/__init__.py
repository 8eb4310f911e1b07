"""Data-quality monitoring: findings, and checks on the tables they concern."""
