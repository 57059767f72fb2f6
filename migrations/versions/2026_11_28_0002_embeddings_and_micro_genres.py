"""embeddings (pgvector facets, HNSW), projections, micro-genres, map positions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here on purpose: a migration never imports app code.
TEXT_DIM, PROJECTED_DIM, TAGS_DIM, METADATA_DIM = 384, 64, 256, 64
SYNOPSIS_DIM = TEXT_DIM + PROJECTED_DIM
COMBINED_DIM = SYNOPSIS_DIM + TAGS_DIM + METADATA_DIM


def upgrade() -> None:
    op.create_table(
        "embedding_projections",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("genres", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("matrix", postgresql.ARRAY(sa.REAL()), nullable=False),
        sa.Column("fitted_on", sa.Integer(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="embedding_projections_pkey"),
    )
    op.create_index(
        "embedding_projections_current_idx",
        "embedding_projections",
        ["embedder"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "title_embeddings",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("projection_id", sa.BigInteger(), nullable=True),
        sa.Column("text_hash", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("text", Vector(TEXT_DIM), nullable=False),
        sa.Column("synopsis", Vector(SYNOPSIS_DIM), nullable=False),
        sa.Column("projected", Vector(PROJECTED_DIM), nullable=False),
        sa.Column("tags", Vector(TAGS_DIM), nullable=False),
        sa.Column("metadata", Vector(METADATA_DIM), nullable=False),
        sa.Column("combined", Vector(COMBINED_DIM), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("title_id", name="title_embeddings_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_embeddings_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["projection_id"],
            ["embedding_projections.id"],
            name="title_embeddings_projection_id_fkey",
            ondelete="SET NULL",
        ),
    )
    # HNSW indexes written by hand (autogenerate mishandles opclasses). Facets are unit vectors,
    # `combined` is their concatenation: inner product with a weighted query = weighted cosine.
    op.execute(
        "CREATE INDEX title_embeddings_text_hnsw_idx ON title_embeddings "
        "USING hnsw (text vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    )
    op.execute(
        "CREATE INDEX title_embeddings_combined_hnsw_idx ON title_embeddings "
        "USING hnsw (combined vector_ip_ops) WITH (m = 16, ef_construction = 64)"
    )

    op.create_table(
        "micro_genres",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("parent_genre", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("top_tags", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="micro_genres_pkey"),
        sa.UniqueConstraint("label", name="micro_genres_label_key"),
        sa.CheckConstraint("size >= 0", name="micro_genres_size_nonnegative_check"),
    )
    op.create_table(
        "title_micro_genres",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("micro_genre_id", sa.BigInteger(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("similarity", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("title_id", "micro_genre_id", name="title_micro_genres_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_micro_genres_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["micro_genre_id"],
            ["micro_genres.id"],
            name="title_micro_genres_micro_genre_id_fkey",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "title_micro_genres_micro_genre_id_idx", "title_micro_genres", ["micro_genre_id"]
    )
    op.create_index(
        "title_micro_genres_primary_idx",
        "title_micro_genres",
        ["title_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "title_positions",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("x", sa.REAL(), nullable=False),
        sa.Column("y", sa.REAL(), nullable=False),
        sa.PrimaryKeyConstraint("title_id", name="title_positions_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_positions_title_id_fkey", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("title_positions")
    op.drop_table("title_micro_genres")
    op.drop_table("micro_genres")
    op.drop_table("title_embeddings")
    op.drop_table("embedding_projections")
