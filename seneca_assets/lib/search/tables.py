"""The semantic model's tables, as `pandera.polars` models (lib/search/semantic.py)."""

from typing import Annotated

import pandera.polars as pa
import polars as pl

from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime


class SemanticTermModel(TableModel):
    """gold/semantic_terms: one term of the semantic model, its weight and its direction."""

    term: str = pa.Field(unique=True, description="A search token.")
    idf: float = pa.Field(gt=0, description="Its inverse document frequency.")
    vector: Annotated[pl.List, pl.Float32()] = pa.Field(
        description="Its row of the SVD's right singular vectors."
    )


class SemanticDocumentModel(TableModel):
    """gold/semantic_documents: one indexed text and its unit vector in the model's space."""

    source: str = pa.Field(description="messages, decisions or system_events.")
    id: str = pa.Field(description="The record's id in its table.")
    time: UtcTime = pa.Field(description="When it was written.")
    agent: str = pa.Field(nullable=True, description="Its agent.")
    kind: str = pa.Field(nullable=True, description="Its kind.")
    text: str = pa.Field(description="The text.")
    vector: Annotated[pl.List, pl.Float32()] = pa.Field(
        description="Its unit vector (cosine = dot product)."
    )


class SemanticBuildModel(TableModel):
    """gold/semantic_model: when the model was built, from what, and its shape."""

    built_at: UtcTime = pa.Field(description="When.")
    documents: int = pa.Field(ge=0, description="Texts in the model.")
    terms: int = pa.Field(ge=0, description="Terms kept.")
    dimensions: int = pa.Field(ge=0, description="Dimensions of the reduced space.")
    versions: str = pa.Field(description="Delta version of each source table, as JSON.")


TERMS = TableSpec("gold/semantic_terms", SemanticTermModel)
DOCUMENTS = TableSpec("gold/semantic_documents", SemanticDocumentModel)
BUILDS = TableSpec("gold/semantic_model", SemanticBuildModel)
SEMANTIC_TABLES = (TERMS, DOCUMENTS, BUILDS)
