"""The audience aggregate: regions, weekly Top 10 charts and how their names matched catalog
titles, generic viewing metrics, regional scores, country taste profiles and audience cohorts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    REAL,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key
from server.models.catalog import TitleKind, _pg_enum
from server.models.dims import COMBINED_DIM

REGION_GROUPS = ("LATAM", "EMEA", "APAC", "UCAN")
GLOBAL_CATEGORIES = ("Films (English)", "Films (Non-English)", "TV (English)", "TV (Non-English)")
CHART_SOURCES = ("top10-countries", "top10-global", "viewing")
MATCH_METHODS = ("exact", "fuzzy", "manual")
UNMATCHED_REASONS = ("no_candidate", "ambiguous", "kind_mismatch", "number_mismatch")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _kind() -> Any:
    return _pg_enum(TitleKind, "title_kind")


class Region(Base):
    """A country audiences are measured in (facts seeded by migration 0003)."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("code ~ '^[A-Z]{2}$'", name="code_iso3166_alpha2"),
        CheckConstraint(_in("region_group", REGION_GROUPS), name="region_group_known"),
        CheckConstraint("cardinality(languages) >= 1", name="languages_nonempty"),
    )

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    region_group: Mapped[str] = mapped_column(String(8))
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)))
    """Main spoken languages, ISO 639-1, most spoken first."""


class ChartName(Base):
    """One distinct (source, chart name, kind) and what it matched in the catalog.

    ``title_id`` and ``method`` are set when matched; otherwise ``reason`` (and ``detail``,
    ``candidates``) say why not. ``method = 'manual'`` rows are kept by re-ingests.
    """

    __tablename__ = "chart_names"
    __table_args__ = (
        CheckConstraint(_in("source", CHART_SOURCES), name="source_known"),
        CheckConstraint(_in("method", MATCH_METHODS), name="method_known"),
        CheckConstraint(_in("reason", UNMATCHED_REASONS), name="reason_known"),
        CheckConstraint("(title_id IS NULL) = (method IS NULL)", name="matched_has_method"),
        Index("chart_names_title_id_idx", "title_id"),
    )

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    show_title: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[TitleKind] = mapped_column(_kind(), primary_key=True)
    title_id: Mapped[int | None] = mapped_column(ForeignKey("titles.id", ondelete="SET NULL"))
    method: Mapped[str | None] = mapped_column(String(8))
    similarity: Mapped[float | None] = mapped_column(REAL)
    reason: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    chart_rows: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Top10CountryWeek(Base):
    """One row of a country's weekly Top 10 (``all-weeks-countries.tsv``)."""

    __tablename__ = "top10_country_weeks"
    __table_args__ = (
        CheckConstraint("rank BETWEEN 1 AND 10", name="rank_range"),
        CheckConstraint("cumulative_weeks >= 1", name="cumulative_weeks_positive"),
        Index("top10_country_weeks_title_id_idx", "title_id"),
        Index("top10_country_weeks_week_idx", "week"),
    )

    region_code: Mapped[str] = parent_key("regions.code", "RESTRICT")
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[TitleKind] = mapped_column(_kind(), primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    show_title: Mapped[str] = mapped_column(Text)
    season_title: Mapped[str | None] = mapped_column(Text)
    cumulative_weeks: Mapped[int | None] = mapped_column(SmallInteger)
    title_id: Mapped[int | None] = mapped_column(ForeignKey("titles.id", ondelete="SET NULL"))


class Top10GlobalWeek(Base):
    """One row of the weekly global Top 10 (``all-weeks-global.tsv``)."""

    __tablename__ = "top10_global_weeks"
    __table_args__ = (
        CheckConstraint(_in("category", GLOBAL_CATEGORIES), name="category_known"),
        CheckConstraint("rank BETWEEN 1 AND 10", name="rank_range"),
        CheckConstraint("hours_viewed >= 0", name="hours_viewed_nonnegative"),
        CheckConstraint("views >= 0", name="views_nonnegative"),
        CheckConstraint("runtime_hours > 0", name="runtime_hours_positive"),
        CheckConstraint("cumulative_weeks >= 1", name="cumulative_weeks_positive"),
        Index("top10_global_weeks_title_id_idx", "title_id"),
    )

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(24), primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[TitleKind] = mapped_column(_kind())
    show_title: Mapped[str] = mapped_column(Text)
    season_title: Mapped[str | None] = mapped_column(Text)
    hours_viewed: Mapped[int | None] = mapped_column(BigInteger)
    runtime_hours: Mapped[float | None] = mapped_column(REAL)
    views: Mapped[int | None] = mapped_column(BigInteger)
    cumulative_weeks: Mapped[int | None] = mapped_column(SmallInteger)
    title_id: Mapped[int | None] = mapped_column(ForeignKey("titles.id", ondelete="SET NULL"))


class ViewingMetric(Base):
    """A generic viewing figure: title x region x period x metric (the generic CSV)."""

    __tablename__ = "viewing_metrics"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("metric ~ '^[a-z][a-z0-9_]*$'", name="metric_identifier"),
        Index("viewing_metrics_title_id_idx", "title_id"),
    )

    show_title: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[TitleKind] = mapped_column(_kind(), primary_key=True)
    region_code: Mapped[str] = parent_key("regions.code", "RESTRICT")
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    external_id: Mapped[str | None] = mapped_column(Text)
    title_id: Mapped[int | None] = mapped_column(ForeignKey("titles.id", ondelete="SET NULL"))


class RegionalScore(Base):
    """How a catalog title did in one region's weekly Top 10 (``contentintel scores``)."""

    __tablename__ = "regional_scores"
    __table_args__ = (
        CheckConstraint("score > 0 AND score <= 1", name="score_range"),
        CheckConstraint("best_rank BETWEEN 1 AND 10", name="best_rank_range"),
        Index("regional_scores_region_code_idx", "region_code"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    region_code: Mapped[str] = parent_key("regions.code")
    weeks_in_top10: Mapped[int] = mapped_column(SmallInteger)
    best_rank: Mapped[int] = mapped_column(SmallInteger)
    first_week: Mapped[date] = mapped_column(Date)
    last_week: Mapped[date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)
    """Sum over chart weeks of (11 - the title's best rank that week)."""
    score: Mapped[float] = mapped_column(REAL)
    """``points`` / the highest ``points`` of any title in the region: (0, 1]."""


class GlobalScore(Base):
    """How a catalog title did in the weekly global Top 10, with hours and views."""

    __tablename__ = "global_scores"

    title_id: Mapped[int] = parent_key("titles.id")
    weeks_in_top10: Mapped[int] = mapped_column(SmallInteger)
    best_rank: Mapped[int] = mapped_column(SmallInteger)
    first_week: Mapped[date] = mapped_column(Date)
    hours_viewed: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)


class RegionTaste(Base):
    """A region's taste vector: score-weighted mean of its charting titles' embeddings."""

    __tablename__ = "region_tastes"

    region_code: Mapped[str] = parent_key("regions.code")
    embedder: Mapped[str] = mapped_column(Text)
    taste: Mapped[Any] = mapped_column(Vector(COMBINED_DIM))
    titles: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RegionGenre(Base):
    """A genre's share of a region's score-weighted chart mix and its lift vs the global mix."""

    __tablename__ = "region_genres"

    region_code: Mapped[str] = parent_key("regions.code")
    genre: Mapped[str] = mapped_column(Text, primary_key=True)
    titles: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(REAL)
    lift: Mapped[float] = mapped_column(REAL)
    lift_low: Mapped[float | None] = mapped_column(REAL)
    """5th percentile of the lift when the region's charting titles are resampled: what
    ``topGenres`` ranks by (null for rows computed before it)."""


class RegionMicroGenre(Base):
    """A micro-genre's share of a region's chart mix and its lift vs the global mix."""

    __tablename__ = "region_micro_genres"

    region_code: Mapped[str] = parent_key("regions.code")
    micro_genre_id: Mapped[int] = parent_key("micro_genres.id")
    titles: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(REAL)
    lift: Mapped[float] = mapped_column(REAL)
    lift_low: Mapped[float | None] = mapped_column(REAL)
    """5th percentile of the lift when the region's charting titles are resampled: the
    credible lower bound ``topMicroGenres`` ranks by (null for rows computed before it)."""


class Cohort(Base):
    """An audience cohort: regions that chart the same titles and share a taste."""

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("size >= 1", name="size_positive"),
        CheckConstraint("(level = 1) = (parent_id IS NULL)", name="level_parent"),
        Index("cohorts_parent_id_idx", "parent_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    """The top-level cohort a sub-cohort belongs to (null for a top-level cohort)."""
    level: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    """1: top-level cohort; 2: sub-cohort (a cut of the same dendrogram inside its parent)."""
    label: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    top_genres: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Over-indexed genres of the cohort: ``[{"name", "lift", "titles"}]``, strongest first."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CohortMember(Base):
    __tablename__ = "cohort_members"
    __table_args__ = (
        Index("cohort_members_cohort_id_idx", "cohort_id"),
        Index("cohort_members_sub_cohort_id_idx", "sub_cohort_id"),
    )

    region_code: Mapped[str] = parent_key("regions.code")
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    """The region's top-level cohort."""
    sub_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    """The region's sub-cohort inside its top-level cohort (level 2)."""
    similarity: Mapped[float] = mapped_column(REAL)
