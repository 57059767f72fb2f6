"""The catalog aggregate: titles, tags, people and credits, countries of origin."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    REAL,
    BigInteger,
    CheckConstraint,
    Computed,
    Enum,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, TimestampMixin, parent_key


class TitleKind(enum.StrEnum):
    MOVIE = "MOVIE"
    SHOW = "SHOW"


class TagKind(enum.StrEnum):
    GENRE = "GENRE"
    THEME = "THEME"
    MOOD = "MOOD"
    SETTING = "SETTING"
    AUDIENCE = "AUDIENCE"
    FORMAT = "FORMAT"


class CreditRole(enum.StrEnum):
    CAST = "CAST"
    DIRECTOR = "DIRECTOR"


class TagSource(enum.StrEnum):
    CATALOG = "catalog"  # from the ingested record (genres, tags)
    MANUAL = "manual"  # set by an editor
    MODEL = "model"  # inferred by a model


def _pg_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    return Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


SEARCH_VECTOR_SQL = (
    "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(synopsis, ''))"
)


class Title(TimestampMixin, Base):
    __tablename__ = "titles"
    __table_args__ = (
        CheckConstraint("release_year BETWEEN 1870 AND 2100", name="release_year_range"),
        CheckConstraint("duration_minutes > 0", name="duration_minutes_positive"),
        CheckConstraint("seasons > 0", name="seasons_positive"),
        CheckConstraint("original_language ~ '^[a-z]{2,3}$'", name="original_language_iso639"),
        CheckConstraint("length(external_id) BETWEEN 1 AND 64", name="external_id_length"),
        Index("titles_search_vector_idx", "search_vector", postgresql_using="gin"),
        Index(
            "titles_name_trgm_idx",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index("titles_release_year_idx", "release_year"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[TitleKind] = mapped_column(_pg_enum(TitleKind, "title_kind"))
    name: Mapped[str] = mapped_column(Text)
    synopsis: Mapped[str | None] = mapped_column(Text)
    release_year: Mapped[int | None] = mapped_column(SmallInteger)
    date_added: Mapped[date | None]
    maturity_rating: Mapped[str | None] = mapped_column(String(16))
    duration_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    seasons: Mapped[int | None] = mapped_column(SmallInteger)
    original_language: Mapped[str | None] = mapped_column(String(3))
    content_hash: Mapped[str] = mapped_column(String(64))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )

    tags: Mapped[list[TitleTag]] = relationship(back_populates="title", lazy="raise")
    credits: Mapped[list[Credit]] = relationship(
        back_populates="title", lazy="raise", order_by="Credit.position"
    )
    origin_countries: Mapped[list[TitleCountry]] = relationship(
        back_populates="title", lazy="raise", order_by="TitleCountry.position"
    )


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("kind", "name"),
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[TagKind] = mapped_column(_pg_enum(TagKind, "tag_kind"))
    name: Mapped[str] = mapped_column(Text)


class TitleTag(Base):
    __tablename__ = "title_tags"
    __table_args__ = (
        CheckConstraint("weight >= 0 AND weight <= 1", name="weight_range"),
        Index("title_tags_tag_id_idx", "tag_id"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    tag_id: Mapped[int] = parent_key("tags.id")
    weight: Mapped[float] = mapped_column(REAL, server_default="1")
    source: Mapped[TagSource] = mapped_column(_pg_enum(TagSource, "tag_source"))

    title: Mapped[Title] = relationship(back_populates="tags", lazy="raise")
    tag: Mapped[Tag] = relationship(lazy="raise")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class Credit(Base):
    __tablename__ = "credits"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_nonnegative"),
        Index("credits_person_id_idx", "person_id"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    role: Mapped[CreditRole] = mapped_column(_pg_enum(CreditRole, "credit_role"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))

    title: Mapped[Title] = relationship(back_populates="credits", lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class Country(Base):
    __tablename__ = "countries"
    __table_args__ = (CheckConstraint("code ~ '^[A-Z]{2}$'", name="code_iso3166_alpha2"),)

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class TitleCountry(Base):
    __tablename__ = "title_countries"
    __table_args__ = (Index("title_countries_country_code_idx", "country_code"),)

    title_id: Mapped[int] = parent_key("titles.id")
    country_code: Mapped[str] = parent_key("countries.code", "RESTRICT")
    position: Mapped[int] = mapped_column(SmallInteger)

    title: Mapped[Title] = relationship(back_populates="origin_countries", lazy="raise")
    country: Mapped[Country] = relationship(lazy="raise")
