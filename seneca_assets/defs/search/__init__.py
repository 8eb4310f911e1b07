"""Full-text and semantic search over what agents wrote."""
