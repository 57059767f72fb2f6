"""Micro-genres (fine-grained clusters of the title space) and the 2-D similarity map."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key


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
