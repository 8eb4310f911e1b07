"""The table catalogue in docs/ is generated from the pandera models and cannot drift."""

from __future__ import annotations

from pathlib import Path

from seneca_assets.lib.catalog import TABLES, metrics_markdown, tables_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_tables_is_generated_from_the_models():
    assert (DOCS / "TABLES.md").read_text(encoding="utf-8") == tables_markdown(), "make docs"


def test_docs_metrics_is_generated_from_the_definitions():
    assert (DOCS / "METRICS.md").read_text(encoding="utf-8") == metrics_markdown(), "make docs"


def test_every_table_documents_every_column():
    for table in TABLES:
        for name, column in table.model.to_schema().columns.items():
            assert column.description, f"{table.name}.{name} has no description"
