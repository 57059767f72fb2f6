"""people facet (title_embeddings.people, combined of four facets), learned comparables
(comparables_models, title_comparables), two-level cohorts (cohorts.parent_id, level,
cohort_members.sub_cohort_id), region_genres.lift_low

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

``combined`` grows from three facets / sqrt(3) (768 dims) to four / sqrt(4) (1024). Existing
rows are converted in place so that similarity keeps working until the next
``contentintel embed``: the old three facets rescaled by sqrt(3)/2 and a zero people facet
(exactly the four-facet vector of a title that shares nobody). Their ``content_hash`` is reset,
so the next ``contentintel embed`` rewrites every row with its people facet; the text model is
not re-run (``text_hash`` is kept). Taste vectors (unit means of ``combined``) are padded with
zeros, which keeps them unit and consistent with the converted rows.

Downgrade keeps the first three facets (rescaled back) and drops the people facet, the learned
comparables and the cohort levels (sub-cohorts are deleted: they are recomputed by
``contentintel cohorts``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here on purpose: a migration never imports app code.
OLD_COMBINED_DIM, PEOPLE_DIM = 768, 256
COMBINED_DIM = OLD_COMBINED_DIM + PEOPLE_DIM
COMPARABLE_DIM = 128
TO_FOUR = 0.8660254037844386  # sqrt(3) / 2
TO_THREE = 1.1547005383792515  # 2 / sqrt(3)
HNSW = "USING hnsw ({column} {ops}) WITH (m = 16, ef_construction = 64)"


def _resize(table: str, column: str, dim: int, expression: str, where: str = "") -> None:
    """Replace ``column`` by a ``vector(dim)`` computed by ``expression`` (a transform
    expression cannot hold the subquery that rescales a vector's elements)."""
    op.execute(f"ALTER TABLE {table} ADD COLUMN {column}_new vector({dim})")
    op.execute(f"UPDATE {table} SET {column}_new = ({expression})::vector({dim}) {where}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}_new TO {column}")
    op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")


def _scaled(column: str, factor: float, length: int) -> str:
    return (
        f"ARRAY(SELECT x * {factor} FROM unnest(({column}::real[])[1:{length}]) "
        "WITH ORDINALITY AS u(x, n) ORDER BY n)"
    )


def upgrade() -> None:
    zeros = f"array_fill(0::real, ARRAY[{PEOPLE_DIM}])"
    op.execute(f"ALTER TABLE title_embeddings ADD COLUMN people vector({PEOPLE_DIM})")
    op.execute(f"UPDATE title_embeddings SET people = {zeros}::vector({PEOPLE_DIM})")
    op.execute("ALTER TABLE title_embeddings ALTER COLUMN people SET NOT NULL")
    _resize(
        "title_embeddings",
        "combined",
        COMBINED_DIM,
        f"{_scaled('combined', TO_FOUR, OLD_COMBINED_DIM)} || {zeros}",
    )
    op.execute("UPDATE title_embeddings SET content_hash = 'migrated:0009'")
    op.execute(
        "CREATE INDEX title_embeddings_combined_hnsw_idx ON title_embeddings "
        + HNSW.format(column="combined", ops="vector_ip_ops")
    )
    _resize("region_tastes", "taste", COMBINED_DIM, f"taste::real[] || {zeros}")

    op.create_table(
        "comparables_models",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "fitted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("cutoff", sa.Date(), nullable=True),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("training_titles", sa.Integer(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="comparables_models_pkey"),
        sa.UniqueConstraint("version", name="comparables_models_version_key"),
        sa.CheckConstraint("version >= 1", name="comparables_models_version_positive_check"),
    )
    op.create_index(
        "comparables_models_current_idx",
        "comparables_models",
        ["is_current"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "title_comparables",
        sa.Column("title_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("vector", Vector(COMPARABLE_DIM), nullable=False),
        sa.PrimaryKeyConstraint("title_id", name="title_comparables_pkey"),
        sa.ForeignKeyConstraint(
            ["title_id"], ["titles.id"], name="title_comparables_title_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["comparables_models.id"],
            name="title_comparables_model_id_fkey",
            ondelete="CASCADE",
        ),
    )
    op.create_index("title_comparables_model_id_idx", "title_comparables", ["model_id"])
    op.execute(
        "CREATE INDEX title_comparables_vector_hnsw_idx ON title_comparables "
        + HNSW.format(column="vector", ops="vector_cosine_ops")
    )

    op.add_column("cohorts", sa.Column("parent_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "cohorts", sa.Column("level", sa.SmallInteger(), server_default="1", nullable=False)
    )
    op.create_foreign_key(
        "cohorts_parent_id_fkey", "cohorts", "cohorts", ["parent_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index("cohorts_parent_id_idx", "cohorts", ["parent_id"])
    op.create_check_constraint(
        "cohorts_level_parent_check", "cohorts", "(level = 1) = (parent_id IS NULL)"
    )
    op.add_column("cohort_members", sa.Column("sub_cohort_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        "cohort_members_sub_cohort_id_fkey",
        "cohort_members",
        "cohorts",
        ["sub_cohort_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("cohort_members_sub_cohort_id_idx", "cohort_members", ["sub_cohort_id"])
    op.add_column("region_genres", sa.Column("lift_low", sa.REAL(), nullable=True))


def downgrade() -> None:
    op.drop_column("region_genres", "lift_low")
    op.drop_index("cohort_members_sub_cohort_id_idx", table_name="cohort_members")
    op.drop_constraint("cohort_members_sub_cohort_id_fkey", "cohort_members", type_="foreignkey")
    op.drop_column("cohort_members", "sub_cohort_id")
    op.execute("DELETE FROM cohorts WHERE level > 1")
    op.drop_constraint("cohorts_level_parent_check", "cohorts", type_="check")
    op.drop_index("cohorts_parent_id_idx", table_name="cohorts")
    op.drop_constraint("cohorts_parent_id_fkey", "cohorts", type_="foreignkey")
    op.drop_column("cohorts", "level")
    op.drop_column("cohorts", "parent_id")

    op.drop_table("title_comparables")
    op.drop_table("comparables_models")

    # A taste vector cut back to three facets is no longer unit: renormalise it.
    op.execute("ALTER TABLE region_tastes ADD COLUMN taste_new vector(768)")
    op.execute(
        f"UPDATE region_tastes SET taste_new = "
        f"(({_scaled('taste', 1.0, OLD_COMBINED_DIM)})::vector({OLD_COMBINED_DIM}))"
    )
    op.execute(
        "UPDATE region_tastes SET taste_new = l2_normalize(taste_new) "
        "WHERE vector_norm(taste_new) > 0"
    )
    op.execute("ALTER TABLE region_tastes DROP COLUMN taste")
    op.execute("ALTER TABLE region_tastes RENAME COLUMN taste_new TO taste")
    op.execute("ALTER TABLE region_tastes ALTER COLUMN taste SET NOT NULL")

    _resize(
        "title_embeddings",
        "combined",
        OLD_COMBINED_DIM,
        _scaled("combined", TO_THREE, OLD_COMBINED_DIM),
    )
    op.execute("UPDATE title_embeddings SET content_hash = 'migrated:0009-down'")
    op.execute(
        "CREATE INDEX title_embeddings_combined_hnsw_idx ON title_embeddings "
        + HNSW.format(column="combined", ops="vector_ip_ops")
    )
    op.execute("ALTER TABLE title_embeddings DROP COLUMN people")
