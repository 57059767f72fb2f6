"""read-only logins lose what PUBLIC gives every role: temp tables, large objects, advisory locks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Postgres grants some powers to PUBLIC, so every login has them whatever its role says: a BI
login (``contentintel_bi``) could create temp tables (with ``default_transaction_read_only``
switched off, which any session may do), write large objects (``lo_from_bytea``), and take
the advisory locks ``contentintel cluster`` serialises on, blocking it. Here PUBLIC loses
them and the role running the migrations (the application's) gets them back explicitly.

Revoking EXECUTE on pg_catalog functions needs a superuser (their owner); run by anyone else
the function revokes change nothing, and the migration says so in a WARNING (a DBA then runs
this file's statements, see the README's "BI access").
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_OBJECT_WRITERS = (
    "lo_create(oid)",
    "lo_creat(integer)",
    "lo_from_bytea(oid,bytea)",
    "lo_put(oid,bigint,bytea)",
    "lo_open(oid,integer)",
    "lowrite(integer,bytea)",
    "lo_unlink(oid)",
    "lo_truncate(integer,integer)",
    "lo_truncate64(integer,bigint)",
)
ADVISORY_LOCKS = tuple(
    f"{name}({args})"
    for name in (
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared",
        "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared",
    )
    for args in ("bigint", "integer,integer")
)


def _database(statement: str) -> str:
    """``statement`` with ``%I`` standing for the current database."""
    return f"DO $$ BEGIN EXECUTE format('{statement}', current_database()); END $$"


def _warn_unless_superuser() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                RAISE WARNING 'not a superuser: PUBLIC keeps large objects and advisory locks; '
                    'run migration 0007 as a superuser (see the README, BI access)';
            END IF;
        END
        $$"""
    )


def upgrade() -> None:
    op.execute(_database("GRANT TEMPORARY ON DATABASE %I TO CURRENT_USER"))
    op.execute(_database("REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC"))
    _warn_unless_superuser()
    for function in (*LARGE_OBJECT_WRITERS, *ADVISORY_LOCKS):
        op.execute(f"GRANT EXECUTE ON FUNCTION pg_catalog.{function} TO CURRENT_USER")
        op.execute(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{function} FROM PUBLIC")


def downgrade() -> None:
    for function in (*LARGE_OBJECT_WRITERS, *ADVISORY_LOCKS):
        op.execute(f"GRANT EXECUTE ON FUNCTION pg_catalog.{function} TO PUBLIC")
        op.execute(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{function} FROM CURRENT_USER")
    op.execute(_database("GRANT TEMPORARY ON DATABASE %I TO PUBLIC"))
    op.execute(_database("REVOKE TEMPORARY ON DATABASE %I FROM CURRENT_USER"))
