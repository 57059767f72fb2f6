"""Micro-genres (fine-grained clusters of the title space), the 2-D similarity map and the
learned comparables (a similarity fitted to audience overlap)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key
from server.models.dims import COMPARABLE_DIM


class MicroGenre(Base):
    __tablename__ = "micro_genres"
    __table_args__ = (CheckConstraint("size >= 0", name="size_nonnegative"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    label: Mapped[str] = mapped_column(Text, unique=True)
    parent_genre: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    top_tags: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Over-represented descriptors: ``[{"kind", "name", "lift", "share"}]``, strongest first."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TitleMicroGenre(Base):
    __tablename__ = "title_micro_genres"
    __table_args__ = (
        Index("title_micro_genres_micro_genre_id_idx", "micro_genre_id"),
        Index(
            "title_micro_genres_primary_idx",
            "title_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    micro_genre_id: Mapped[int] = parent_key("micro_genres.id")
    is_primary: Mapped[bool] = mapped_column(Boolean)
    similarity: Mapped[float] = mapped_column(REAL)
    """Cosine similarity of the title to the micro-genre's centroid."""


class TitlePosition(Base):
    """Where a title sits on the 2-D similarity map."""

    __tablename__ = "title_positions"

    title_id: Mapped[int] = parent_key("titles.id")
    x: Mapped[float] = mapped_column(REAL)
    y: Mapped[float] = mapped_column(REAL)


class ComparablesModel(Base):
    """A fitted comparables model (``server.similarity.comparables``): a map from a title's
    content facets to a vector whose cosine predicts audience overlap. ``state`` is a
    ``numpy.savez_compressed`` archive (loaded with ``allow_pickle=False``)."""

    __tablename__ = "comparables_models"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(
            "comparables_models_current_idx",
            "is_current",
            unique=True,
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cutoff: Mapped[date | None] = mapped_column(Date)
    """Fitted on chart weeks strictly before this date (None: every week)."""
    embedder: Mapped[str] = mapped_column(Text)
    training_titles: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class TitleComparable(Base):
    """A title's vector under a comparables model (cosine = predicted audience overlap)."""

    __tablename__ = "title_comparables"
    __table_args__ = (
        Index("title_comparables_model_id_idx", "model_id"),
        Index(
            "title_comparables_vector_hnsw_idx",
            "vector",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"vector": "vector_cosine_ops"},
        ),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    model_id: Mapped[int] = mapped_column(ForeignKey("comparables_models.id", ondelete="CASCADE"))
    vector: Mapped[Any] = mapped_column(Vector(COMPARABLE_DIM))
