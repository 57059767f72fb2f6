"""catalog schema v1: extensions, titles, tags, people, credits, countries

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_KIND = postgresql.ENUM("MOVIE", "SHOW", name="title_kind", create_type=False)
TAG_KIND = postgresql.ENUM(
    "GENRE", "THEME", "MOOD", "SETTING", "AUDIENCE", "FORMAT", name="tag_kind", create_type=False
)
TAG_SOURCE = postgresql.ENUM("catalog", "manual", "model", name="tag_source", create_type=False)
CREDIT_ROLE = postgresql.ENUM("CAST", "DIRECTOR", name="credit_role", create_type=False)
ENUMS = (TITLE_KIND, TAG_KIND, TAG_SOURCE, CREDIT_ROLE)

SEARCH_VECTOR_SQL = (
    "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(synopsis, ''))"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    bind = op.get_bind()
    for enum in ENUMS:
        enum.create(bind, checkfirst=False)

    op.create_table(
        "titles",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("kind", TITLE_KIND, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("synopsis", sa.Text(), nullable=True),
        sa.Column("release_year", sa.SmallInteger(), nullable=True),
        sa.Column("date_added", sa.Date(), nullable=True),
        sa.Column("maturity_rating", sa.String(16), nullable=True),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=True),
        sa.Column("seasons", sa.SmallInteger(), nullable=True),
        sa.Column("original_language", sa.String(3), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR_SQL, persisted=True),
            nullable=False,
        ),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="titles_pkey"),
        sa.UniqueConstraint("external_id", name="titles_external_id_key"),
        sa.CheckConstraint(
            "release_year BETWEEN 1870 AND 2100", name="titles_release_year_range_check"
        ),
        sa.CheckConstraint("duration_minutes > 0", name="titles_duration_minutes_positive_check"),
        sa.CheckConstraint("seasons > 0", name="titles_seasons_positive_check"),
        sa.CheckConstraint(
            "original_language ~ '^[a-z]{2,3}$'", name="titles_original_language_iso639_check"
        ),
        sa.CheckConstraint(
            "length(external_id) BETWEEN 1 AND 64", name="titles_external_id_length_check"
        ),
    )
    op.create_index("titles_search_vector_idx", "titles", ["search_vector"], postgresql_using="gin")
    op.create_index(
        "titles_name_trgm_idx",
        "titles",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index("titles_release_year_idx", "titles", ["release_year"])

    op.create_table(
        "tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", TAG_KIND, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="tags_pkey"),
        sa.UniqueConstraint("kind", "name", name="tags_kind_name_key"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 100", name="tags_name_length_check"),
    )
    op.create_table(
        "title_tags",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("tag_id", sa.BigInteger(), nullable=False),
        sa.Column("weight", sa.REAL(), server_default="1", nullable=False),
        sa.Column("source", TAG_SOURCE, nullable=False),
        sa.PrimaryKeyConstraint("title_id", "tag_id", name="title_tags_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_tags_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="title_tags_tag_id_fkey", ondelete="CASCADE"
        ),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name="title_tags_weight_range_check"),
    )
    op.create_index("title_tags_tag_id_idx", "title_tags", ["tag_id"])

    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="people_pkey"),
        sa.UniqueConstraint("name", name="people_name_key"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name="people_name_length_check"),
    )
    op.create_table(
        "credits",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("role", CREDIT_ROLE, nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("title_id", "role", "position", name="credits_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="credits_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="credits_person_id_fkey", ondelete="RESTRICT"
        ),
        sa.CheckConstraint("position >= 0", name="credits_position_nonnegative_check"),
    )
    op.create_index("credits_person_id_idx", "credits", ["person_id"])

    op.create_table(
        "countries",
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="countries_pkey"),
        sa.UniqueConstraint("name", name="countries_name_key"),
        sa.CheckConstraint("code ~ '^[A-Z]{2}$'", name="countries_code_iso3166_alpha2_check"),
    )
    op.create_table(
        "title_countries",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("title_id", "country_code", name="title_countries_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_countries_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["countries.code"],
            name="title_countries_country_code_fkey",
            ondelete="RESTRICT",
        ),
    )
    op.create_index("title_countries_country_code_idx", "title_countries", ["country_code"])


def downgrade() -> None:
    for table in (
        "title_countries",
        "countries",
        "credits",
        "people",
        "title_tags",
        "tags",
        "titles",
    ):
        op.drop_table(table)
    bind = op.get_bind()
    for enum in reversed(ENUMS):
        enum.drop(bind, checkfirst=False)
    op.execute("DROP EXTENSION IF EXISTS unaccent")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
    op.execute("DROP EXTENSION IF EXISTS vector")
