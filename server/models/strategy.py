"""The content-strategy aggregate: soft micro-genre memberships, demand vs supply per group and
market ("gaps"), demand scores of titles, audience comparables and micro-genre travelability.

Every table is recomputed by ``server.strategy.pipeline.recompute_strategy`` (``contentintel
scores`` and every Top 10 ingest that recomputes scores); nothing else writes them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, parent_key

GAP_LEVELS = ("MICRO_GENRE", "PARENT_GENRE")
MEMBERSHIPS = ("HARD", "SOFT")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SoftMembership(Base):
    """m(t, g): softmax over the cosine of a title to every micro-genre centroid, divided by
    the temperature; weights below the floor are dropped and the rest renormalised to 1."""

    __tablename__ = "soft_memberships"
    __table_args__ = (
        CheckConstraint("weight > 0 AND weight <= 1", name="weight_range"),
        Index("soft_memberships_micro_genre_id_idx", "micro_genre_id"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    micro_genre_id: Mapped[int] = parent_key("micro_genres.id")
    weight: Mapped[float] = mapped_column(REAL)


class ContentGap(Base):
    """Demand vs supply of one group (micro-genre or parent genre) in one market (a region or
    a cohort) over every chart week, with the opportunity's 90% interval and momentum."""

    __tablename__ = "content_gaps"
    __table_args__ = (
        CheckConstraint("(region_code IS NULL) <> (cohort_id IS NULL)", name="one_market"),
        CheckConstraint(_in("level", GAP_LEVELS), name="level_known"),
        CheckConstraint(_in("membership", MEMBERSHIPS), name="membership_known"),
        CheckConstraint(
            "(level = 'MICRO_GENRE') = (micro_genre_id IS NOT NULL)", name="group_matches_level"
        ),
        CheckConstraint("low <= opportunity AND opportunity <= high", name="interval_ordered"),
        Index("content_gaps_region_idx", "region_code", "level", "membership", "rank"),
        Index("content_gaps_cohort_idx", "cohort_id", "level", "membership", "rank"),
        Index("content_gaps_micro_genre_id_idx", "micro_genre_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region_code: Mapped[str | None] = mapped_column(
        String(2), ForeignKey("regions.code", ondelete="CASCADE")
    )
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    membership: Mapped[str] = mapped_column(String(8))
    micro_genre_id: Mapped[int | None] = mapped_column(
        ForeignKey("micro_genres.id", ondelete="CASCADE")
    )
    genre: Mapped[str | None] = mapped_column(Text)
    """The parent genre (the group itself at PARENT_GENRE level)."""
    rank: Mapped[int] = mapped_column(Integer)
    """1 = the highest lower bound of the opportunity in the market."""
    supply_share: Mapped[float] = mapped_column(Double)
    demand_share: Mapped[float] = mapped_column(Double)
    opportunity: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    momentum: Mapped[float] = mapped_column(Double)
    momentum_low: Mapped[float] = mapped_column(Double)
    momentum_high: Mapped[float] = mapped_column(Double)
    coverage: Mapped[float] = mapped_column(Double)
    catalog_titles: Mapped[float] = mapped_column(Double)
    """Sum of memberships over the catalog (titles when hard)."""
    charting_titles: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Double)
    """Matched chart points weighted by membership."""
    top_titles: Mapped[list[list[Any]]] = mapped_column(JSONB)
    """Its charting titles with the most weighted points: ``[[title_id, points], ...]``."""
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)


class TitleDemand(Base):
    """Demand score of a catalog title in a region (100 = the average charting title there,
    capped at 200) and its percentile among the charting titles of its micro-genre there."""

    __tablename__ = "title_demand"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 200", name="score_range"),
        CheckConstraint("percentile >= 0 AND percentile <= 100", name="percentile_range"),
        Index("title_demand_region_code_idx", "region_code"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    region_code: Mapped[str] = parent_key("regions.code")
    points: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(REAL)
    percentile: Mapped[float | None] = mapped_column(REAL)
    """Null when the title has no micro-genre."""


class AudienceComparable(Base):
    """A title with an overlapping audience: cosine of the centred audience profiles."""

    __tablename__ = "audience_comparables"
    __table_args__ = (
        CheckConstraint("title_id <> comparable_id", name="not_itself"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    title_id: Mapped[int] = parent_key("titles.id")
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    comparable_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"))
    overlap: Mapped[float] = mapped_column(REAL)


class MicroGenreTravelability(Base):
    """Share of a micro-genre's chart points earned outside its titles' origin countries."""

    __tablename__ = "micro_genre_travelability"
    __table_args__ = (CheckConstraint("low <= share AND share <= high", name="interval_ordered"),)

    micro_genre_id: Mapped[int] = parent_key("micro_genres.id")
    share: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    titles: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
