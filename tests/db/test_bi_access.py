"""The `bi` schema and the contentintel_bi role: a member logs in, reads `bi.*`, and can
neither write anything nor read the internal tables."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from server.db.embedded import EmbeddedPostgres

LOGIN = "bi_test_alice"


@pytest.fixture
def bi_login(pg: EmbeddedPostgres, database_url: str) -> Iterator[str]:
    """A login role in contentintel_bi, made as the README says; dropped afterwards."""
    admin_url = pg.libpq_url("contentintel_test")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {LOGIN}")
        admin.execute(f"CREATE ROLE {LOGIN} LOGIN PASSWORD 'pw' IN ROLE contentintel_bi")
        admin.execute(f"ALTER ROLE {LOGIN} SET default_transaction_read_only = on")
        admin.execute(f"ALTER ROLE {LOGIN} SET statement_timeout = '30s'")
        admin.execute(
            "INSERT INTO titles (external_id, kind, name, content_hash) "
            "VALUES ('bi-1', 'MOVIE', 'BI Probe', 'h') ON CONFLICT DO NOTHING"
        )
    try:
        yield make_conninfo(admin_url, user=LOGIN)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("DELETE FROM titles WHERE external_id = 'bi-1'")
            admin.execute(f"DROP ROLE {LOGIN}")


def test_bi_member_reads_bi_views(bi_login: str) -> None:
    with psycopg.connect(bi_login, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (LOGIN,)
        row = conn.execute("SELECT name, kind FROM bi.titles WHERE external_id = 'bi-1'").fetchone()
        assert row == ("BI Probe", "MOVIE")
        views = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.views WHERE table_schema = 'bi'"
            )
        }
        assert {"titles", "tags", "title_genres", "credits", "countries"} <= views
        for view in views:
            conn.execute(f"SELECT * FROM bi.{view} LIMIT 1")
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM public.titles",
        "SELECT count(*) FROM public.api_keys",
        "SELECT count(*) FROM public.title_embeddings",
        "SELECT count(*) FROM alembic_version",
    ],
)
def test_bi_member_cannot_read_internal_tables(bi_login: str, statement: str) -> None:
    with (
        psycopg.connect(bi_login, autocommit=True) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO bi.people (name) VALUES ('x')",
        "UPDATE bi.countries SET name = 'x'",
        "DELETE FROM bi.tags",
        "INSERT INTO public.titles (external_id, kind, name, content_hash) "
        "VALUES ('x', 'MOVIE', 'x', 'h')",
        "CREATE TABLE public.mine (id int)",
        "CREATE TABLE bi.mine (id int)",
        "CREATE TEMP TABLE mine (id int)",
    ],
)
def test_bi_member_cannot_write(bi_login: str, statement: str) -> None:
    # Refused by privileges, and read-only besides: also with read-only switched off.
    refused = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)
    with psycopg.connect(bi_login, autocommit=True) as conn:
        with pytest.raises(refused):
            conn.execute(statement)
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)


def test_read_only_stops_what_privileges_allow(bi_login: str) -> None:
    with psycopg.connect(bi_login, autocommit=True) as conn:
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TEMP TABLE mine (id int)")


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TEMP TABLE mine (id int)",
        "SELECT lo_from_bytea(0, 'x')",
        "SELECT lo_create(0)",
        "SELECT lo_put(1, 0, 'x')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock(1)",
        "SELECT pg_advisory_xact_lock(1)",
        "SELECT pg_try_advisory_xact_lock_shared(1, 2)",
    ],
)
def test_public_powers_are_revoked_even_with_read_only_off(bi_login: str, statement: str) -> None:
    """What a session may switch off (read-only) does not bring back temp tables, large
    objects or the advisory locks `contentintel cluster` waits on."""
    with psycopg.connect(bi_login, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_application_role_keeps_its_powers(pg: EmbeddedPostgres, database_url: str) -> None:
    """A non-superuser application role that ran the migrations would keep temp tables and
    advisory locks: here, the database owner's explicit grants survive the revokes."""
    with psycopg.connect(pg.libpq_url("contentintel_test"), autocommit=True) as admin:
        acl = admin.execute(
            "SELECT datacl::text FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert acl is not None
        assert "=Tc/" not in acl[0]  # PUBLIC: connect only
        granted = admin.execute(
            "SELECT has_function_privilege(current_user, 'pg_advisory_xact_lock(bigint)', "
            "'EXECUTE')"
        ).fetchone()
        assert granted == (True,)
