"""The scene aggregate: scenes of a title (or episode), their tags, people and description
embeddings, engagement per scene (optionally per region) and retention curves.

Scene tags live in their own small vocabulary (``scene_tags``), not as a new ``tag_kind`` of
the catalog's ``tags``: they describe segments, not titles, so keeping them apart keeps them out
of title tag filters, the catalog ingest's ``tags[].kind`` and the ``TagKind`` GraphQL enum, and
needs no Postgres enum change (``ALTER TYPE … ADD VALUE`` cannot be undone in a migration).
Regions are ISO 3166-1 alpha-2 codes checked against the catalog's country list at ingest and
stored as text (no foreign key: a region needs no row in ``countries``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    REAL,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key
from server.models.dims import TEXT_DIM

_REGION_CHECK = "region ~ '^[A-Z]{2}$'"


class Scene(Base):
    __tablename__ = "scenes"
    __table_args__ = (
        UniqueConstraint("title_id", "episode", "ordinal", postgresql_nulls_not_distinct=True),
        CheckConstraint("episode >= 1", name="episode_positive"),
        CheckConstraint("ordinal >= 1", name="ordinal_positive"),
        CheckConstraint("start_seconds >= 0 AND end_seconds > start_seconds", name="time_range"),
        CheckConstraint("length(description) <= 2000", name="description_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    episode: Mapped[int | None] = mapped_column(SmallInteger)
    """Episode number within a show (null for a movie)."""
    ordinal: Mapped[int] = mapped_column(Integer)
    start_seconds: Mapped[float] = mapped_column(REAL)
    end_seconds: Mapped[float] = mapped_column(REAL)
    description: Mapped[str | None] = mapped_column(Text)
    characters: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    content_hash: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SceneTag(Base):
    """The scene-tag vocabulary (kind SCENE): action, dialogue, reveal, cliffhanger, …"""

    __tablename__ = "scene_tags"
    __table_args__ = (
        CheckConstraint("name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="name_slug"),
        CheckConstraint("length(name) <= 50", name="name_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class SceneTagLink(Base):
    __tablename__ = "scene_tag_links"
    __table_args__ = (Index("scene_tag_links_tag_id_idx", "tag_id"),)

    scene_id: Mapped[int] = parent_key("scenes.id")
    tag_id: Mapped[int] = parent_key("scene_tags.id")


class ScenePerson(Base):
    """A person (from the catalog's ``people``) appearing in a scene."""

    __tablename__ = "scene_people"
    __table_args__ = (Index("scene_people_person_id_idx", "person_id"),)

    scene_id: Mapped[int] = parent_key("scenes.id")
    person_id: Mapped[int] = parent_key("people.id", "RESTRICT")
    position: Mapped[int] = mapped_column(SmallInteger)


class SceneEmbedding(Base):
    __tablename__ = "scene_embeddings"
    __table_args__ = (
        Index(
            "scene_embeddings_embedding_hnsw_idx",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    scene_id: Mapped[int] = parent_key("scenes.id")
    embedder: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(Text)
    """Hash of the embedder and the embedded text: unchanged means the vector is current."""
    embedding: Mapped[Any] = mapped_column(Vector(TEXT_DIM))


class SceneEngagement(Base):
    """Engagement with one scene, over all regions (``region`` null) or in one region."""

    __tablename__ = "scene_engagement"
    __table_args__ = (
        UniqueConstraint("scene_id", "region", postgresql_nulls_not_distinct=True),
        CheckConstraint(_REGION_CHECK, name="region_iso3166_alpha2"),
        CheckConstraint("plays >= 0", name="plays_nonnegative"),
        CheckConstraint("watched_fraction BETWEEN 0 AND 1", name="watched_fraction_range"),
        CheckConstraint("rewatch_rate BETWEEN 0 AND 1", name="rewatch_rate_range"),
        CheckConstraint("skip_rate BETWEEN 0 AND 1", name="skip_rate_range"),
        CheckConstraint("exit_rate BETWEEN 0 AND 1", name="exit_rate_range"),
        Index(
            "scene_engagement_region_score_idx",
            "region",
            text("score DESC"),
            "scene_id",
        ),
        Index(
            "scene_engagement_all_regions_score_idx",
            text("score DESC"),
            "scene_id",
            postgresql_where=text("region IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    region: Mapped[str | None] = mapped_column(String(2))
    plays: Mapped[int] = mapped_column(BigInteger)
    watched_fraction: Mapped[float] = mapped_column(REAL)
    rewatch_rate: Mapped[float] = mapped_column(REAL)
    skip_rate: Mapped[float] = mapped_column(REAL)
    exit_rate: Mapped[float] = mapped_column(REAL)
    score: Mapped[float | None] = mapped_column(REAL)
    """The engagement score, normalised within the title and region (see ``scenes.score``)."""


class RetentionCurve(Base):
    """Share of starting viewers still watching, every ``resolution_seconds`` from 0."""

    __tablename__ = "retention_curves"
    __table_args__ = (
        UniqueConstraint("title_id", "episode", "region", postgresql_nulls_not_distinct=True),
        CheckConstraint(_REGION_CHECK, name="region_iso3166_alpha2"),
        CheckConstraint("episode >= 1", name="episode_positive"),
        CheckConstraint("resolution_seconds > 0", name="resolution_positive"),
        CheckConstraint("cardinality(shares) >= 2", name="shares_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    episode: Mapped[int | None] = mapped_column(SmallInteger)
    region: Mapped[str | None] = mapped_column(String(2))
    resolution_seconds: Mapped[int] = mapped_column(Integer)
    shares: Mapped[list[float]] = mapped_column(ARRAY(REAL))
