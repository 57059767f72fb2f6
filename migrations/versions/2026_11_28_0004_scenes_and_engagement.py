"""scenes, scene tags and people, scene embeddings (HNSW), scene engagement, retention curves

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here on purpose: a migration never imports app code.
TEXT_DIM = 384
REGION_CHECK = "region ~ '^[A-Z]{2}$'"


def upgrade() -> None:
    op.create_table(
        "scenes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("episode", sa.SmallInteger(), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("start_seconds", sa.REAL(), nullable=False),
        sa.Column("end_seconds", sa.REAL(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "characters",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="scenes_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="scenes_title_id_fkey", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "title_id",
            "episode",
            "ordinal",
            name="scenes_title_id_episode_ordinal_key",
            postgresql_nulls_not_distinct=True,
        ),
        sa.CheckConstraint("episode >= 1", name="scenes_episode_positive_check"),
        sa.CheckConstraint("ordinal >= 1", name="scenes_ordinal_positive_check"),
        sa.CheckConstraint(
            "start_seconds >= 0 AND end_seconds > start_seconds", name="scenes_time_range_check"
        ),
        sa.CheckConstraint("length(description) <= 2000", name="scenes_description_length_check"),
    )
    op.create_table(
        "scene_tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="scene_tags_pkey"),
        sa.UniqueConstraint("name", name="scene_tags_name_key"),
        sa.CheckConstraint("name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="scene_tags_name_slug_check"),
        sa.CheckConstraint("length(name) <= 50", name="scene_tags_name_length_check"),
    )
    op.create_table(
        "scene_tag_links",
        sa.Column("scene_id", sa.BigInteger(), nullable=False),
        sa.Column("tag_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scene_id", "tag_id", name="scene_tag_links_pkey"),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name="scene_tag_links_scene_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["scene_tags.id"], name="scene_tag_links_tag_id_fkey", ondelete="CASCADE"
        ),
    )
    op.create_index("scene_tag_links_tag_id_idx", "scene_tag_links", ["tag_id"])
    op.create_table(
        "scene_people",
        sa.Column("scene_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scene_id", "person_id", name="scene_people_pkey"),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name="scene_people_scene_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="scene_people_person_id_fkey", ondelete="RESTRICT"
        ),
    )
    op.create_index("scene_people_person_id_idx", "scene_people", ["person_id"])

    op.create_table(
        "scene_embeddings",
        sa.Column("scene_id", sa.BigInteger(), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(TEXT_DIM), nullable=False),
        sa.PrimaryKeyConstraint("scene_id", name="scene_embeddings_pkey"),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name="scene_embeddings_scene_id_fkey", ondelete="CASCADE"
        ),
    )
    # Written by hand: autogenerate mishandles opclasses.
    op.execute(
        "CREATE INDEX scene_embeddings_embedding_hnsw_idx ON scene_embeddings "
        "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    )

    op.create_table(
        "scene_engagement",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("scene_id", sa.BigInteger(), nullable=False),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("plays", sa.BigInteger(), nullable=False),
        sa.Column("watched_fraction", sa.REAL(), nullable=False),
        sa.Column("rewatch_rate", sa.REAL(), nullable=False),
        sa.Column("skip_rate", sa.REAL(), nullable=False),
        sa.Column("exit_rate", sa.REAL(), nullable=False),
        sa.Column("score", sa.REAL(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="scene_engagement_pkey"),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name="scene_engagement_scene_id_fkey", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "scene_id",
            "region",
            name="scene_engagement_scene_id_region_key",
            postgresql_nulls_not_distinct=True,
        ),
        sa.CheckConstraint(REGION_CHECK, name="scene_engagement_region_iso3166_alpha2_check"),
        sa.CheckConstraint("plays >= 0", name="scene_engagement_plays_nonnegative_check"),
        sa.CheckConstraint(
            "watched_fraction BETWEEN 0 AND 1",
            name="scene_engagement_watched_fraction_range_check",
        ),
        sa.CheckConstraint(
            "rewatch_rate BETWEEN 0 AND 1", name="scene_engagement_rewatch_rate_range_check"
        ),
        sa.CheckConstraint(
            "skip_rate BETWEEN 0 AND 1", name="scene_engagement_skip_rate_range_check"
        ),
        sa.CheckConstraint(
            "exit_rate BETWEEN 0 AND 1", name="scene_engagement_exit_rate_range_check"
        ),
    )
    # topScenes in a region reads the top of this index (score DESC, then scene id).
    op.execute(
        "CREATE INDEX scene_engagement_region_score_idx ON scene_engagement "
        "(region, score DESC, scene_id)"
    )
    # `region IS NULL` does not give index order on the index above: the all-regions rows
    # (the default of topScenes) get their own partial index.
    op.execute(
        "CREATE INDEX scene_engagement_all_regions_score_idx ON scene_engagement "
        "(score DESC, scene_id) WHERE region IS NULL"
    )

    op.create_table(
        "retention_curves",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("episode", sa.SmallInteger(), nullable=True),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=False),
        sa.Column("shares", postgresql.ARRAY(sa.REAL()), nullable=False),
        sa.PrimaryKeyConstraint("id", name="retention_curves_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="retention_curves_title_id_fkey", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "title_id",
            "episode",
            "region",
            name="retention_curves_title_id_episode_region_key",
            postgresql_nulls_not_distinct=True,
        ),
        sa.CheckConstraint(REGION_CHECK, name="retention_curves_region_iso3166_alpha2_check"),
        sa.CheckConstraint("episode >= 1", name="retention_curves_episode_positive_check"),
        sa.CheckConstraint(
            "resolution_seconds > 0", name="retention_curves_resolution_positive_check"
        ),
        sa.CheckConstraint("cardinality(shares) >= 2", name="retention_curves_shares_length_check"),
    )


def downgrade() -> None:
    op.drop_table("retention_curves")
    op.drop_table("scene_engagement")
    op.drop_table("scene_embeddings")
    op.drop_table("scene_people")
    op.drop_table("scene_tag_links")
    op.drop_table("scene_tags")
    op.drop_table("scenes")
