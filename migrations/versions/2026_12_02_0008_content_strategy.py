"""content strategy: soft memberships, content gaps, title demand, audience comparables,
micro-genre travelability and their `bi` views; region_micro_genres.lift_low

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

The `bi` views are readable by contentintel_bi through the default privileges migration 0006
set on the schema; they are granted explicitly too, so the grant does not depend on which role
runs this migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BI_ROLE = "contentintel_bi"

BI_VIEWS: dict[str, tuple[str, str, dict[str, str]]] = {
    "content_gaps": (
        """
        SELECT coalesce(g.region_code, 'cohort:' || g.cohort_id) AS market, g.region_code,
               r.name AS region_name, g.cohort_id, c.label AS cohort_label, g.level,
               g.membership, g.micro_genre_id, m.label AS micro_genre, g.genre, g.rank,
               g.supply_share, g.demand_share, g.opportunity, g.low, g.high, g.momentum,
               g.momentum_low, g.momentum_high, g.coverage, g.catalog_titles, g.charting_titles,
               g.points, g.window_start, g.window_end
        FROM public.content_gaps g
        LEFT JOIN public.regions r ON r.code = g.region_code
        LEFT JOIN public.cohorts c ON c.id = g.cohort_id
        LEFT JOIN public.micro_genres m ON m.id = g.micro_genre_id
        """,
        "Demand vs supply per micro-genre or parent genre and market (country or cohort), over "
        "every chart week (`contentintel scores`). See the README, Content strategy.",
        {
            "market": "Country code (ISO 3166-1 alpha-2) or cohort:<id>.",
            "region_code": "The country, when the market is one.",
            "region_name": "Country name.",
            "cohort_id": "The cohort, when the market is one (changes when cohorts are "
            "recomputed).",
            "cohort_label": "Cohort label.",
            "level": "MICRO_GENRE or PARENT_GENRE (`contentintel scores` stores MICRO_GENRE; "
            "parent genres are computed per request).",
            "membership": "HARD (primary micro-genre, what is stored) or SOFT (softmax over "
            "centroid similarity, temperature 0.05).",
            "micro_genre_id": "The micro-genre (MICRO_GENRE level).",
            "micro_genre": "Its label.",
            "genre": "The parent genre (the group itself at PARENT_GENRE level).",
            "rank": "1 = highest lower bound of the opportunity in the market.",
            "supply_share": "S = sum of memberships / catalog titles.",
            "demand_share": "Dm = membership-weighted chart points of matched titles / all "
            "matched chart points in the market.",
            "opportunity": "O = (D~ + a/G) / (S + a/G), a = 1, G = number of groups, D~ = 0.8 Dm "
            "+ 0.2 x the demand share of the country's 10 audience neighbours (README).",
            "low": "5th percentile of O when weeks and charting titles are resampled.",
            "high": "95th percentile of O under the same resampling.",
            "momentum": "Slope of the weekly demand share (share points per week).",
            "momentum_low": "5th percentile of the slope (rising when > 0).",
            "momentum_high": "95th percentile of the slope.",
            "coverage": "Matched chart points / all chart points in the market (the rest are "
            "chart entries not in the catalog).",
            "catalog_titles": "Sum of memberships over the catalog (titles, when HARD).",
            "charting_titles": "Catalog titles of the group with chart points in the market.",
            "points": "Membership-weighted chart points (11 - rank per week).",
            "window_start": "First chart week counted.",
            "window_end": "Last chart week counted.",
        },
    ),
    "title_demand": (
        """
        SELECT d.title_id, t.name AS title, d.region_code, r.name AS region_name, d.points,
               d.score, d.percentile
        FROM public.title_demand d
        JOIN public.titles t ON t.id = d.title_id
        JOIN public.regions r ON r.code = d.region_code
        """,
        "Demand score of catalog titles per country over every chart week.",
        {
            "title_id": "Catalog title.",
            "title": "Title name.",
            "region_code": "Country, ISO 3166-1 alpha-2.",
            "region_name": "Country name.",
            "points": "Chart points there (sum of 11 - rank).",
            "score": "100 x points / mean points of the country's charting entries, capped at 200.",
            "percentile": "Percentile of the score among the charting titles of its primary "
            "micro-genre in the country (0..100).",
        },
    ),
    "audience_comparables": (
        """
        SELECT a.title_id, t.name AS title, a.rank, a.comparable_id, c.name AS comparable,
               a.overlap
        FROM public.audience_comparables a
        JOIN public.titles t ON t.id = a.title_id
        JOIN public.titles c ON c.id = a.comparable_id
        """,
        "Titles with overlapping audiences (titles with chart history only).",
        {
            "title_id": "Catalog title.",
            "title": "Title name.",
            "rank": "1 = largest overlap.",
            "comparable_id": "The comparable title.",
            "comparable": "Its name.",
            "overlap": "Cosine of the centred audience profiles (share of chart points per "
            "country minus the mean profile of charting titles).",
        },
    ),
    "micro_genre_travelability": (
        """
        SELECT v.micro_genre_id, m.label AS micro_genre, v.share, v.low, v.high, v.titles,
               v.points
        FROM public.micro_genre_travelability v
        JOIN public.micro_genres m ON m.id = v.micro_genre_id
        """,
        "How far each micro-genre travels beyond its titles' countries of origin.",
        {
            "micro_genre_id": "Micro-genre.",
            "micro_genre": "Its label.",
            "share": "Chart points earned outside the titles' origin countries / all points.",
            "low": "5th percentile when charting titles are resampled.",
            "high": "95th percentile.",
            "titles": "Charting titles (primary micro-genre).",
            "points": "Their chart points.",
        },
    ),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def upgrade() -> None:
    op.add_column("region_micro_genres", sa.Column("lift_low", sa.REAL(), nullable=True))
    op.create_table(
        "soft_memberships",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("micro_genre_id", sa.BigInteger(), nullable=False),
        sa.Column("weight", sa.REAL(), nullable=False),
        sa.CheckConstraint(
            "weight > 0 AND weight <= 1", name="soft_memberships_weight_range_check"
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name="soft_memberships_title_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["micro_genre_id"],
            ["micro_genres.id"],
            name="soft_memberships_micro_genre_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "micro_genre_id", name="soft_memberships_pkey"),
    )
    op.create_index("soft_memberships_micro_genre_id_idx", "soft_memberships", ["micro_genre_id"])
    op.create_table(
        "content_gaps",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("cohort_id", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("membership", sa.String(8), nullable=False),
        sa.Column("micro_genre_id", sa.BigInteger(), nullable=True),
        sa.Column("genre", sa.Text(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("supply_share", sa.Double(), nullable=False),
        sa.Column("demand_share", sa.Double(), nullable=False),
        sa.Column("opportunity", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("momentum", sa.Double(), nullable=False),
        sa.Column("momentum_low", sa.Double(), nullable=False),
        sa.Column("momentum_high", sa.Double(), nullable=False),
        sa.Column("coverage", sa.Double(), nullable=False),
        sa.Column("catalog_titles", sa.Double(), nullable=False),
        sa.Column("charting_titles", sa.Integer(), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("top_titles", postgresql.JSONB(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "(region_code IS NULL) <> (cohort_id IS NULL)", name="content_gaps_one_market_check"
        ),
        sa.CheckConstraint(
            "level IN ('MICRO_GENRE', 'PARENT_GENRE')", name="content_gaps_level_known_check"
        ),
        sa.CheckConstraint(
            "membership IN ('HARD', 'SOFT')", name="content_gaps_membership_known_check"
        ),
        sa.CheckConstraint(
            "(level = 'MICRO_GENRE') = (micro_genre_id IS NOT NULL)",
            name="content_gaps_group_matches_level_check",
        ),
        sa.CheckConstraint(
            "low <= opportunity AND opportunity <= high",
            name="content_gaps_interval_ordered_check",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="content_gaps_region_code_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name="content_gaps_cohort_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["micro_genre_id"],
            ["micro_genres.id"],
            name="content_gaps_micro_genre_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="content_gaps_pkey"),
    )
    op.create_index(
        "content_gaps_region_idx", "content_gaps", ["region_code", "level", "membership", "rank"]
    )
    op.create_index(
        "content_gaps_cohort_idx", "content_gaps", ["cohort_id", "level", "membership", "rank"]
    )
    op.create_index("content_gaps_micro_genre_id_idx", "content_gaps", ["micro_genre_id"])
    op.create_table(
        "title_demand",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("score", sa.REAL(), nullable=False),
        sa.Column("percentile", sa.REAL(), nullable=True),
        sa.CheckConstraint("score >= 0 AND score <= 200", name="title_demand_score_range_check"),
        sa.CheckConstraint(
            "percentile >= 0 AND percentile <= 100", name="title_demand_percentile_range_check"
        ),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_demand_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="title_demand_region_code_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "region_code", name="title_demand_pkey"),
    )
    op.create_index("title_demand_region_code_idx", "title_demand", ["region_code"])
    op.create_table(
        "audience_comparables",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("comparable_id", sa.BigInteger(), nullable=False),
        sa.Column("overlap", sa.REAL(), nullable=False),
        sa.CheckConstraint(
            "title_id <> comparable_id", name="audience_comparables_not_itself_check"
        ),
        sa.CheckConstraint("rank >= 1", name="audience_comparables_rank_positive_check"),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name="audience_comparables_title_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comparable_id"],
            ["titles.id"],
            name="audience_comparables_comparable_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("title_id", "rank", name="audience_comparables_pkey"),
    )
    op.create_table(
        "micro_genre_travelability",
        sa.Column("micro_genre_id", sa.BigInteger(), nullable=False),
        sa.Column("share", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "low <= share AND share <= high",
            name="micro_genre_travelability_interval_ordered_check",
        ),
        sa.ForeignKeyConstraint(
            ["micro_genre_id"],
            ["micro_genres.id"],
            name="micro_genre_travelability_micro_genre_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("micro_genre_id", name="micro_genre_travelability_pkey"),
    )

    op.execute("CREATE SCHEMA IF NOT EXISTS bi")  # created by 0003
    for name, (query, comment, columns) in BI_VIEWS.items():
        op.execute(f"CREATE VIEW bi.{name} AS {query}")
        op.execute(f"COMMENT ON VIEW bi.{name} IS {_quote(comment)}")
        for column, text in columns.items():
            op.execute(f"COMMENT ON COLUMN bi.{name}.{column} IS {_quote(text)}")
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{BI_ROLE}') THEN "
            f"GRANT SELECT ON bi.{name} TO {BI_ROLE}; END IF; END $$"
        )


def downgrade() -> None:
    for name in reversed(BI_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS bi.{name}")
    op.drop_table("micro_genre_travelability")
    op.drop_table("audience_comparables")
    op.drop_index("title_demand_region_code_idx", table_name="title_demand")
    op.drop_table("title_demand")
    op.drop_index("content_gaps_micro_genre_id_idx", table_name="content_gaps")
    op.drop_index("content_gaps_cohort_idx", table_name="content_gaps")
    op.drop_index("content_gaps_region_idx", table_name="content_gaps")
    op.drop_table("content_gaps")
    op.drop_index("soft_memberships_micro_genre_id_idx", table_name="soft_memberships")
    op.drop_table("soft_memberships")
    op.drop_column("region_micro_genres", "lift_low")
