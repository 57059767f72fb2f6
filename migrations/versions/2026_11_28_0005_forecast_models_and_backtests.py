"""forecast: versioned forecast models (coefficients and training state) and stored backtests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_models",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "trained_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("cutoff", sa.Date(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("training_titles", sa.Integer(), nullable=False),
        sa.Column("regions", sa.Integer(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("version >= 1", name="forecast_models_version_positive_check"),
        sa.CheckConstraint(
            "training_titles >= 0", name="forecast_models_training_titles_nonnegative_check"
        ),
        sa.PrimaryKeyConstraint("id", name="forecast_models_pkey"),
        sa.UniqueConstraint("version", name="forecast_models_version_key"),
    )
    op.create_index(
        "forecast_models_current_idx",
        "forecast_models",
        ["is_current"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "backtests",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False),
        sa.Column("methods", postgresql.JSONB(), nullable=False),
        sa.Column("train_titles", sa.Integer(), nullable=False),
        sa.Column("test_titles", sa.Integer(), nullable=False),
        sa.Column("regions", sa.Integer(), nullable=False),
        sa.Column("best_baseline", sa.Text(), nullable=True),
        sa.Column("lift", sa.Double(), nullable=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="backtests_pkey"),
    )
    op.create_index("backtests_cutoff_idx", "backtests", ["cutoff"])


def downgrade() -> None:
    op.drop_index("backtests_cutoff_idx", table_name="backtests")
    op.drop_table("backtests")
    op.drop_index("forecast_models_current_idx", table_name="forecast_models")
    op.drop_table("forecast_models")
