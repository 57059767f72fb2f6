"""audiences: regions, weekly Top 10 charts, chart name matching, viewing metrics, regional
scores, country taste profiles, audience cohorts, BI views

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here on purpose: a migration never imports app code (= COMBINED_DIM in 0002).
TASTE_DIM = 768
TITLE_KIND = postgresql.ENUM("MOVIE", "SHOW", name="title_kind", create_type=False)
GROUPS = ("LATAM", "EMEA", "APAC", "UCAN")
GLOBAL_CATEGORIES = ("Films (English)", "Films (Non-English)", "TV (English)", "TV (Non-English)")
SOURCES = ("top10-countries", "top10-global", "viewing")
MATCH_METHODS = ("exact", "fuzzy", "manual")
UNMATCHED_REASONS = ("no_candidate", "ambiguous", "kind_mismatch", "number_mismatch")

# Every country of Netflix's weekly Top 10 lists: ISO 3166-1 alpha-2 code, name (as in
# server/catalog/data/countries.csv), region group and main spoken languages (ISO 639-1, the
# most spoken first).
REGIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("AE", "United Arab Emirates", "EMEA", ("ar", "en")),
    ("AR", "Argentina", "LATAM", ("es",)),
    ("AT", "Austria", "EMEA", ("de",)),
    ("AU", "Australia", "APAC", ("en",)),
    ("BD", "Bangladesh", "APAC", ("bn",)),
    ("BE", "Belgium", "EMEA", ("nl", "fr", "de")),
    ("BG", "Bulgaria", "EMEA", ("bg",)),
    ("BH", "Bahrain", "EMEA", ("ar",)),
    ("BO", "Bolivia", "LATAM", ("es", "qu", "ay")),
    ("BR", "Brazil", "LATAM", ("pt",)),
    ("BS", "Bahamas", "LATAM", ("en",)),
    ("CA", "Canada", "UCAN", ("en", "fr")),
    ("CH", "Switzerland", "EMEA", ("de", "fr", "it")),
    ("CL", "Chile", "LATAM", ("es",)),
    ("CO", "Colombia", "LATAM", ("es",)),
    ("CR", "Costa Rica", "LATAM", ("es",)),
    ("CY", "Cyprus", "EMEA", ("el", "tr")),
    ("CZ", "Czech Republic", "EMEA", ("cs",)),
    ("DE", "Germany", "EMEA", ("de",)),
    ("DK", "Denmark", "EMEA", ("da",)),
    ("DO", "Dominican Republic", "LATAM", ("es",)),
    ("EC", "Ecuador", "LATAM", ("es",)),
    ("EE", "Estonia", "EMEA", ("et", "ru")),
    ("EG", "Egypt", "EMEA", ("ar",)),
    ("ES", "Spain", "EMEA", ("es", "ca")),
    ("FI", "Finland", "EMEA", ("fi", "sv")),
    ("FR", "France", "EMEA", ("fr",)),
    ("GB", "United Kingdom", "EMEA", ("en",)),
    ("GP", "Guadeloupe", "LATAM", ("fr",)),
    ("GR", "Greece", "EMEA", ("el",)),
    ("GT", "Guatemala", "LATAM", ("es",)),
    ("HK", "Hong Kong", "APAC", ("zh", "en")),
    ("HN", "Honduras", "LATAM", ("es",)),
    ("HR", "Croatia", "EMEA", ("hr",)),
    ("HU", "Hungary", "EMEA", ("hu",)),
    ("ID", "Indonesia", "APAC", ("id",)),
    ("IE", "Ireland", "EMEA", ("en", "ga")),
    ("IL", "Israel", "EMEA", ("he", "ar")),
    ("IN", "India", "APAC", ("hi", "en", "bn", "te", "mr", "ta")),
    ("IS", "Iceland", "EMEA", ("is",)),
    ("IT", "Italy", "EMEA", ("it",)),
    ("JM", "Jamaica", "LATAM", ("en",)),
    ("JO", "Jordan", "EMEA", ("ar",)),
    ("JP", "Japan", "APAC", ("ja",)),
    ("KE", "Kenya", "EMEA", ("sw", "en")),
    ("KR", "South Korea", "APAC", ("ko",)),
    ("KW", "Kuwait", "EMEA", ("ar",)),
    ("LB", "Lebanon", "EMEA", ("ar", "fr")),
    ("LK", "Sri Lanka", "APAC", ("si", "ta")),
    ("LT", "Lithuania", "EMEA", ("lt",)),
    ("LU", "Luxembourg", "EMEA", ("lb", "fr", "de")),
    ("LV", "Latvia", "EMEA", ("lv", "ru")),
    ("MA", "Morocco", "EMEA", ("ar", "fr")),
    ("MQ", "Martinique", "LATAM", ("fr",)),
    ("MT", "Malta", "EMEA", ("mt", "en")),
    ("MU", "Mauritius", "EMEA", ("en", "fr")),
    ("MV", "Maldives", "APAC", ("dv",)),
    ("MX", "Mexico", "LATAM", ("es",)),
    ("MY", "Malaysia", "APAC", ("ms", "en", "zh", "ta")),
    ("NC", "New Caledonia", "APAC", ("fr",)),
    ("NG", "Nigeria", "EMEA", ("en", "ha", "yo", "ig")),
    ("NI", "Nicaragua", "LATAM", ("es",)),
    ("NL", "Netherlands", "EMEA", ("nl",)),
    ("NO", "Norway", "EMEA", ("no",)),
    ("NZ", "New Zealand", "APAC", ("en", "mi")),
    ("OM", "Oman", "EMEA", ("ar",)),
    ("PA", "Panama", "LATAM", ("es",)),
    ("PE", "Peru", "LATAM", ("es", "qu")),
    ("PH", "Philippines", "APAC", ("tl", "en")),
    ("PK", "Pakistan", "APAC", ("ur", "en")),
    ("PL", "Poland", "EMEA", ("pl",)),
    ("PT", "Portugal", "EMEA", ("pt",)),
    ("PY", "Paraguay", "LATAM", ("es", "gn")),
    ("QA", "Qatar", "EMEA", ("ar",)),
    ("RE", "Réunion", "EMEA", ("fr",)),
    ("RO", "Romania", "EMEA", ("ro",)),
    ("RS", "Serbia", "EMEA", ("sr",)),
    ("RU", "Russia", "EMEA", ("ru",)),
    ("SA", "Saudi Arabia", "EMEA", ("ar",)),
    ("SE", "Sweden", "EMEA", ("sv",)),
    ("SG", "Singapore", "APAC", ("en", "zh", "ms", "ta")),
    ("SI", "Slovenia", "EMEA", ("sl",)),
    ("SK", "Slovakia", "EMEA", ("sk",)),
    ("SV", "El Salvador", "LATAM", ("es",)),
    ("TH", "Thailand", "APAC", ("th",)),
    ("TR", "Turkey", "EMEA", ("tr",)),
    ("TT", "Trinidad and Tobago", "LATAM", ("en",)),
    ("TW", "Taiwan", "APAC", ("zh",)),
    ("UA", "Ukraine", "EMEA", ("uk", "ru")),
    ("US", "United States", "UCAN", ("en", "es")),
    ("UY", "Uruguay", "LATAM", ("es",)),
    ("VE", "Venezuela", "LATAM", ("es",)),
    ("VN", "Vietnam", "APAC", ("vi",)),
    ("ZA", "South Africa", "EMEA", ("en", "af", "zu", "xh")),
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    regions = op.create_table(
        "regions",
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_group", sa.String(8), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String(3)), nullable=False),
        sa.PrimaryKeyConstraint("code", name="regions_pkey"),
        sa.UniqueConstraint("name", name="regions_name_key"),
        sa.CheckConstraint("code ~ '^[A-Z]{2}$'", name="regions_code_iso3166_alpha2_check"),
        sa.CheckConstraint(_in("region_group", GROUPS), name="regions_region_group_known_check"),
        sa.CheckConstraint("cardinality(languages) >= 1", name="regions_languages_nonempty_check"),
    )
    op.bulk_insert(
        regions,
        [
            {"code": code, "name": name, "region_group": group, "languages": list(languages)}
            for code, name, group, languages in REGIONS
        ],
    )

    op.create_table(
        "chart_names",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("show_title", sa.Text(), nullable=False),
        sa.Column("kind", TITLE_KIND, nullable=False),
        sa.Column("title_id", sa.BigInteger(), nullable=True),
        sa.Column("method", sa.String(8), nullable=True),
        sa.Column("similarity", sa.REAL(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("candidates", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("chart_rows", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("source", "show_title", "kind", name="chart_names_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="chart_names_title_id_fkey", ondelete="SET NULL"
        ),
        sa.CheckConstraint(_in("source", SOURCES), name="chart_names_source_known_check"),
        sa.CheckConstraint(_in("method", MATCH_METHODS), name="chart_names_method_known_check"),
        sa.CheckConstraint(_in("reason", UNMATCHED_REASONS), name="chart_names_reason_known_check"),
        sa.CheckConstraint(
            "(title_id IS NULL) = (method IS NULL)", name="chart_names_matched_has_method_check"
        ),
    )
    op.create_index("chart_names_title_id_idx", "chart_names", ["title_id"])

    op.create_table(
        "top10_country_weeks",
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", TITLE_KIND, nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("show_title", sa.Text(), nullable=False),
        sa.Column("season_title", sa.Text(), nullable=True),
        sa.Column("cumulative_weeks", sa.SmallInteger(), nullable=True),
        sa.Column("title_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "region_code", "week", "kind", "rank", name="top10_country_weeks_pkey"
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="top10_country_weeks_region_code_fkey",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name="top10_country_weeks_title_id_fkey",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("rank BETWEEN 1 AND 10", name="top10_country_weeks_rank_range_check"),
        sa.CheckConstraint(
            "cumulative_weeks >= 1", name="top10_country_weeks_cumulative_weeks_positive_check"
        ),
    )
    op.create_index("top10_country_weeks_title_id_idx", "top10_country_weeks", ["title_id"])
    op.create_index("top10_country_weeks_week_idx", "top10_country_weeks", ["week"])

    op.create_table(
        "top10_global_weeks",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("kind", TITLE_KIND, nullable=False),
        sa.Column("show_title", sa.Text(), nullable=False),
        sa.Column("season_title", sa.Text(), nullable=True),
        sa.Column("hours_viewed", sa.BigInteger(), nullable=True),
        sa.Column("runtime_hours", sa.REAL(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("cumulative_weeks", sa.SmallInteger(), nullable=True),
        sa.Column("title_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("week", "category", "rank", name="top10_global_weeks_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["titles.id"],
            name="top10_global_weeks_title_id_fkey",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            _in("category", GLOBAL_CATEGORIES), name="top10_global_weeks_category_known_check"
        ),
        sa.CheckConstraint("rank BETWEEN 1 AND 10", name="top10_global_weeks_rank_range_check"),
        sa.CheckConstraint(
            "hours_viewed >= 0", name="top10_global_weeks_hours_viewed_nonnegative_check"
        ),
        sa.CheckConstraint("views >= 0", name="top10_global_weeks_views_nonnegative_check"),
        sa.CheckConstraint(
            "runtime_hours > 0", name="top10_global_weeks_runtime_hours_positive_check"
        ),
        sa.CheckConstraint(
            "cumulative_weeks >= 1", name="top10_global_weeks_cumulative_weeks_positive_check"
        ),
    )
    op.create_index("top10_global_weeks_title_id_idx", "top10_global_weeks", ["title_id"])

    op.create_table(
        "viewing_metrics",
        sa.Column("show_title", sa.Text(), nullable=False),
        sa.Column("kind", TITLE_KIND, nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("title_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "show_title",
            "kind",
            "region_code",
            "period_start",
            "metric",
            name="viewing_metrics_pkey",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="viewing_metrics_region_code_fkey",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="viewing_metrics_title_id_fkey", ondelete="SET NULL"
        ),
        sa.CheckConstraint("period_end >= period_start", name="viewing_metrics_period_order_check"),
        sa.CheckConstraint(
            "metric ~ '^[a-z][a-z0-9_]*$'", name="viewing_metrics_metric_identifier_check"
        ),
    )
    op.create_index("viewing_metrics_title_id_idx", "viewing_metrics", ["title_id"])

    op.create_table(
        "regional_scores",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("weeks_in_top10", sa.SmallInteger(), nullable=False),
        sa.Column("best_rank", sa.SmallInteger(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("last_week", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("score", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("title_id", "region_code", name="regional_scores_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="regional_scores_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="regional_scores_region_code_fkey",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("score > 0 AND score <= 1", name="regional_scores_score_range_check"),
        sa.CheckConstraint(
            "best_rank BETWEEN 1 AND 10", name="regional_scores_best_rank_range_check"
        ),
    )
    op.create_index("regional_scores_region_code_idx", "regional_scores", ["region_code"])

    op.create_table(
        "global_scores",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("weeks_in_top10", sa.SmallInteger(), nullable=False),
        sa.Column("best_rank", sa.SmallInteger(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("hours_viewed", sa.BigInteger(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("title_id", name="global_scores_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="global_scores_title_id_fkey", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "region_tastes",
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("taste", Vector(TASTE_DIM), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("region_code", name="region_tastes_pkey"),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="region_tastes_region_code_fkey",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "region_genres",
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("genre", sa.Text(), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column("share", sa.REAL(), nullable=False),
        sa.Column("lift", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "genre", name="region_genres_pkey"),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="region_genres_region_code_fkey",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "region_micro_genres",
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("micro_genre_id", sa.BigInteger(), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column("share", sa.REAL(), nullable=False),
        sa.Column("lift", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "micro_genre_id", name="region_micro_genres_pkey"),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="region_micro_genres_region_code_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["micro_genre_id"],
            ["micro_genres.id"],
            name="region_micro_genres_micro_genre_id_fkey",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "cohorts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("top_genres", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="cohorts_pkey"),
        sa.CheckConstraint("size >= 1", name="cohorts_size_positive_check"),
    )
    op.create_table(
        "cohort_members",
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("cohort_id", sa.BigInteger(), nullable=False),
        sa.Column("similarity", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", name="cohort_members_pkey"),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name="cohort_members_region_code_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name="cohort_members_cohort_id_fkey", ondelete="CASCADE"
        ),
    )
    op.create_index("cohort_members_cohort_id_idx", "cohort_members", ["cohort_id"])
    _create_bi_views()


# --- BI views: stable, documented, no joins needed by the reader ------------------------------

BI_VIEWS: dict[str, tuple[str, str, dict[str, str]]] = {
    "titles": (
        """
        SELECT t.id AS title_id, t.external_id, t.kind::text AS kind, t.name, t.release_year,
               t.date_added, t.maturity_rating, t.original_language,
               (SELECT string_agg(tc.country_code, ',' ORDER BY tc.position)
                  FROM title_countries tc WHERE tc.title_id = t.id) AS origin_countries,
               (SELECT string_agg(tg.name, ', ' ORDER BY tg.name)
                  FROM title_tags tt JOIN tags tg ON tg.id = tt.tag_id
                 WHERE tt.title_id = t.id AND tg.kind = 'GENRE') AS genres,
               g.weeks_in_top10 AS global_weeks_in_top10, g.best_rank AS global_best_rank,
               g.hours_viewed AS global_hours_viewed
        FROM titles t LEFT JOIN global_scores g ON g.title_id = t.id
        """,
        "Catalog titles, one row each, with origin countries, genres and global Top 10 figures.",
        {
            "title_id": "Internal title id (stable).",
            "external_id": "Id of the title in the source catalog (e.g. s1).",
            "kind": "MOVIE or SHOW.",
            "name": "Title name.",
            "release_year": "Year of first release.",
            "date_added": "Date the title was added to the catalog.",
            "maturity_rating": "Maturity rating (e.g. TV-MA).",
            "original_language": "Original language, ISO 639-1.",
            "origin_countries": "Countries of origin, ISO alpha-2, comma-separated, main first.",
            "genres": "Catalog genres, comma-separated.",
            "global_weeks_in_top10": "Weeks in the global weekly Top 10 (null: never charted).",
            "global_best_rank": "Best global weekly rank (1 = top).",
            "global_hours_viewed": "Total hours viewed over the global Top 10 weeks.",
        },
    ),
    "title_regional_performance": (
        """
        SELECT s.title_id, t.name AS title_name, t.kind::text AS kind, s.region_code,
               r.name AS region_name, r.region_group, s.weeks_in_top10, s.best_rank,
               s.first_week, s.last_week, s.points, s.score
        FROM regional_scores s
        JOIN titles t ON t.id = s.title_id
        JOIN regions r ON r.code = s.region_code
        """,
        "Per title and country: how the title did in the country's weekly Top 10.",
        {
            "title_id": "Internal title id.",
            "title_name": "Title name.",
            "kind": "MOVIE or SHOW.",
            "region_code": "Country, ISO 3166-1 alpha-2.",
            "region_name": "Country name.",
            "region_group": "LATAM, EMEA, APAC or UCAN.",
            "weeks_in_top10": "Weeks the title was in the country's Top 10.",
            "best_rank": "Best weekly rank in the country (1 = top).",
            "first_week": "First chart week (week ending date) in the country.",
            "last_week": "Last chart week in the country.",
            "points": "Sum over weeks of (11 - rank): 10 points for a week at #1.",
            "score": "points divided by the highest points of any title in the country (0..1].",
        },
    ),
    "region_taste": (
        """
        SELECT r.code AS region_code, r.name AS region_name, r.region_group,
               array_to_string(r.languages, ',') AS languages, 'genre' AS facet,
               g.genre AS name, g.titles, g.share, g.lift
        FROM region_genres g JOIN regions r ON r.code = g.region_code
        UNION ALL
        SELECT r.code, r.name, r.region_group, array_to_string(r.languages, ','), 'micro_genre',
               mg.label, m.titles, m.share, m.lift
        FROM region_micro_genres m
        JOIN regions r ON r.code = m.region_code
        JOIN micro_genres mg ON mg.id = m.micro_genre_id
        """,
        "Per country: genres and micro-genres of its charting titles vs the global mix.",
        {
            "region_code": "Country, ISO 3166-1 alpha-2.",
            "region_name": "Country name.",
            "region_group": "LATAM, EMEA, APAC or UCAN.",
            "languages": "Main spoken languages, ISO 639-1, comma-separated.",
            "facet": "genre or micro_genre.",
            "name": "Genre or micro-genre label.",
            "titles": "Charting titles in the country carrying it.",
            "share": "Its share of the country's score-weighted chart mix (0..1).",
            "lift": "share divided by its share of the global mix (> 1: over-indexed).",
        },
    ),
    "cohort_members": (
        """
        SELECT c.id AS cohort_id, c.label AS cohort_label, c.size AS cohort_size,
               m.region_code, r.name AS region_name, r.region_group, m.similarity
        FROM cohort_members m
        JOIN cohorts c ON c.id = m.cohort_id
        JOIN regions r ON r.code = m.region_code
        """,
        "Audience cohorts (from `contentintel cohorts`): one row per member country.",
        {
            "cohort_id": "Cohort id (changes when cohorts are recomputed).",
            "cohort_label": "Label built from the members and what over-indexes there.",
            "cohort_size": "Number of member countries.",
            "region_code": "Member country, ISO 3166-1 alpha-2.",
            "region_name": "Member country name.",
            "region_group": "LATAM, EMEA, APAC or UCAN.",
            "similarity": "Audience similarity of the country to its cohort (0..1).",
        },
    ),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_bi_views() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS bi")
    op.execute("COMMENT ON SCHEMA bi IS 'Stable, documented views for BI tools (read-only).'")
    for name, (query, comment, columns) in BI_VIEWS.items():
        op.execute(f"CREATE VIEW bi.{name} AS {query}")
        op.execute(f"COMMENT ON VIEW bi.{name} IS {_quote(comment)}")
        for column, text in columns.items():
            op.execute(f"COMMENT ON COLUMN bi.{name}.{column} IS {_quote(text)}")


def downgrade() -> None:
    for name in reversed(BI_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS bi.{name}")
    op.execute("DROP SCHEMA IF EXISTS bi")
    op.drop_table("cohort_members")
    op.drop_table("cohorts")
    op.drop_table("region_micro_genres")
    op.drop_table("region_genres")
    op.drop_table("region_tastes")
    op.drop_table("global_scores")
    op.drop_table("regional_scores")
    op.drop_table("viewing_metrics")
    op.drop_table("top10_global_weeks")
    op.drop_table("top10_country_weeks")
    op.drop_table("chart_names")
    op.drop_table("regions")
