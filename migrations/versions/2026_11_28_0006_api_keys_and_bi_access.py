"""api keys; the `bi` schema of read-only views and the contentintel_bi group role

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Roles are cluster-wide: the role is created only when missing, and dropped on downgrade only
when nothing in the cluster still depends on it (another database migrated to this revision,
or a login role that is a member, keeps it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BI_ROLE = "contentintel_bi"

# Stable views over the internal tables (enums as text, no vectors), beside the ones 0003
# created with the schema (bi.titles among them).
BI_VIEWS = {
    "tags": "SELECT id, kind::text AS kind, name FROM public.tags",
    "title_tags": """
        SELECT title_id, tag_id, weight, source::text AS source FROM public.title_tags""",
    "title_genres": """
        SELECT tt.title_id, t.name AS genre
        FROM public.title_tags tt JOIN public.tags t ON t.id = tt.tag_id
        WHERE t.kind = 'GENRE'""",
    "people": "SELECT id, name FROM public.people",
    "credits": "SELECT title_id, role::text AS role, position, person_id FROM public.credits",
    "countries": "SELECT code, name FROM public.countries",
    "title_countries": "SELECT title_id, country_code, position FROM public.title_countries",
    "micro_genres": """
        SELECT id, label, parent_genre, size, top_tags, created_at FROM public.micro_genres""",
    "title_micro_genres": """
        SELECT title_id, micro_genre_id, is_primary, similarity
        FROM public.title_micro_genres""",
    "title_embeddings": "SELECT title_id, embedder, updated_at FROM public.title_embeddings",
}


def upgrade() -> None:
    api_role = postgresql.ENUM("viewer", "analyst", "admin", name="api_role", create_type=False)
    api_role.create(op.get_bind(), checkfirst=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", api_role, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="api_keys_pkey"),
        sa.UniqueConstraint("key_hash", name="api_keys_key_hash_key"),
    )
    op.create_index(
        "api_keys_name_live_idx",
        "api_keys",
        ["name"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )

    op.execute("CREATE SCHEMA IF NOT EXISTS bi")  # created by 0003
    op.execute("COMMENT ON SCHEMA bi IS 'Stable read-only views for BI tools (contentintel_bi)'")
    for name, query in BI_VIEWS.items():
        op.execute(f"CREATE VIEW bi.{name} AS {query}")
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{BI_ROLE}') THEN
                CREATE ROLE {BI_ROLE} NOLOGIN;
            END IF;
        END
        $$"""
    )
    op.execute(f"ALTER ROLE {BI_ROLE} SET default_transaction_read_only = on")
    op.execute(f"ALTER ROLE {BI_ROLE} SET statement_timeout = '30s'")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO {BI_ROLE}', "
        "current_database()); END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA bi TO {BI_ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA bi TO {BI_ROLE}")
    # Views later migrations add to `bi` are readable without another grant.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA bi GRANT SELECT ON TABLES TO {BI_ROLE}")


def downgrade() -> None:
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA bi REVOKE SELECT ON TABLES FROM {BI_ROLE}")
    op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA bi FROM {BI_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA bi FROM {BI_ROLE}")
    for name in reversed(BI_VIEWS):  # the schema and 0003's views stay
        op.execute(f"DROP VIEW IF EXISTS bi.{name}")
    op.execute("COMMENT ON SCHEMA bi IS 'Stable, documented views for BI tools (read-only).'")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {BI_ROLE}', "
        "current_database()); END $$"
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                WHERE r.rolname = '{BI_ROLE}'
            ) THEN
                RAISE NOTICE '{BI_ROLE} kept: login roles are members of it';
                RETURN;
            END IF;
            DROP ROLE IF EXISTS {BI_ROLE};
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE '{BI_ROLE} kept: other databases still grant it privileges';
        END
        $$"""
    )
    op.drop_index("api_keys_name_live_idx", table_name="api_keys")
    op.drop_table("api_keys")
    op.execute("DROP TYPE api_role")
