"""Ingestion of Marcus logs into the bronze tables."""
