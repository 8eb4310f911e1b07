"""Data-quality monitoring of what Marcus wrote: findings and scores (issue 7)."""
