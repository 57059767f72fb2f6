"""Title embeddings (one row per title, one column per facet) and fitted projections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key
from server.models.dims import (
    COMBINED_DIM,
    METADATA_DIM,
    PEOPLE_DIM,
    PROJECTED_DIM,
    SYNOPSIS_DIM,
    TAGS_DIM,
    TEXT_DIM,
)


class EmbeddingProjection(Base):
    """A fitted map from the text space onto the catalog's genre structure (genre probabilities)."""

    __tablename__ = "embedding_projections"
    __table_args__ = (
        Index(
            "embedding_projections_current_idx",
            "embedder",
            unique=True,
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    embedder: Mapped[str] = mapped_column(Text)
    genres: Mapped[list[str]] = mapped_column(ARRAY(Text))
    matrix: Mapped[list[float]] = mapped_column(ARRAY(REAL))
    """Flat parameters of the fitted map (see ``Projection.to_stored``)."""
    fitted_on: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB)
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TitleEmbedding(Base):
    __tablename__ = "title_embeddings"
    __table_args__ = (
        Index(
            "title_embeddings_text_hnsw_idx",
            "text",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"text": "vector_cosine_ops"},
        ),
        Index(
            "title_embeddings_combined_hnsw_idx",
            "combined",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"combined": "vector_ip_ops"},
        ),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    embedder: Mapped[str] = mapped_column(Text)
    projection_id: Mapped[int | None] = mapped_column(
        ForeignKey("embedding_projections.id", ondelete="SET NULL")
    )
    text_hash: Mapped[str] = mapped_column(Text)
    """Hash of the embedder and the embedded text: unchanged means ``text`` can be reused."""
    content_hash: Mapped[str] = mapped_column(Text)
    """Hash of every input of every facet: unchanged means the row is up to date."""
    text: Mapped[Any] = mapped_column(Vector(TEXT_DIM))
    synopsis: Mapped[Any] = mapped_column(Vector(SYNOPSIS_DIM))
    projected: Mapped[Any] = mapped_column(Vector(PROJECTED_DIM))
    tags: Mapped[Any] = mapped_column(Vector(TAGS_DIM))
    metadata_: Mapped[Any] = mapped_column("metadata", Vector(METADATA_DIM))
    people: Mapped[Any] = mapped_column(Vector(PEOPLE_DIM))
    """Cast and directors, idf-weighted; zero when no credited name is shared with another title."""
    combined: Mapped[Any] = mapped_column(Vector(COMBINED_DIM))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
